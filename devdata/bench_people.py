"""seed_bench, first half: users (with roles and profiles), topics, partners and contacts."""

import bisect
import datetime as dt
import itertools
import secrets

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django_countries import countries

from accounts.models import Profile
from accounts.roles import OFFICER, STAFF, VIEWER, sync_role_groups
from devdata.benchdata import (
    BENCH_PASSWORD,
    CAPITALS,
    COUNTRY_WEIGHTS,
    FIRST_NAMES,
    HONORIFICS,
    INDUSTRIES,
    LANGUAGES,
    LAST_NAMES,
    PARTNER_KINDS,
    PORTFOLIOS,
    ROLE_SHARES,
    TITLES,
    TOPICS,
    seeded_columns,
    zipf_cum_weights,
)
from partners.models import Contact, Partner, Topic


class PeopleSeeding:
    """Mixed into the seed_bench command: the rows every other one points to."""

    # ------------------------------------------------------------------ users

    def seed_users(self):
        User = get_user_model()
        if not Group.objects.filter(name__in=[VIEWER, STAFF, OFFICER]).count() == 3:
            sync_role_groups()
        groups = {g.name: g for g in Group.objects.filter(name__in=[VIEWER, STAFF, OFFICER])}
        first_id = self._next_id(User)
        # One hash for everyone: hashing 100 passwords one by one would take longer than the rest.
        password = make_password(BENCH_PASSWORD)
        n = self.counts["users"]
        officers = max(2, round(n * ROLE_SHARES[0][1]))
        staff = max(3, round(n * ROLE_SHARES[1][1]))
        roles = [None] + [OFFICER] * officers + [STAFF] * staff + [VIEWER] * max(2, n - 1 - officers - staff)
        users, self.usernames = [], {OFFICER: [], STAFF: [], VIEWER: [], None: []}
        for i, role in enumerate(roles):
            number = first_id + i
            username = f"bench_{role or 'admin'}_{number:04d}"
            first = self.rng.choice(FIRST_NAMES)
            last = self.rng.choice(LAST_NAMES)
            # The first user of each role (the one the benchmark logs in as) is always a plain, active one.
            typical = not self.usernames[role]
            users.append(
                User(
                    username=username,
                    first_name=first,
                    last_name=last,
                    # A few users have no address, a few have left: they get no digest.
                    email="" if not typical and self.rng.random() < 0.03 else f"{username}@city.example.org",
                    password=password,
                    is_active=typical or self.rng.random() > 0.03,
                    is_staff=role is None,
                    is_superuser=role is None,
                    date_joined=self.now - dt.timedelta(days=self.rng.randint(30, 3000)),
                )
            )
            self.usernames[role].append(username)
        User.objects.bulk_create(users, batch_size=1000)
        users = list(User.objects.filter(username__in=[u.username for u in users]).order_by("pk"))
        by_name = {u.username: u for u in users}
        through = User.groups.through
        through.objects.bulk_create(
            [
                through(user_id=by_name[name].pk, group_id=groups[role].pk)
                for role in (OFFICER, STAFF, VIEWER)
                for name in self.usernames[role]
            ]
        )
        # bulk_create skips the post_save signal that gives every user a profile.
        Profile.objects.bulk_create(
            [
                Profile(
                    user_id=u.pk,
                    digest_opt_out=self.rng.random() < 0.1,
                    reminder_lead_days=self.rng.choice([1, 3, 7, 7, 7, 14, 30]),
                    calendar_token=secrets.token_urlsafe(32),
                )
                for u in users
            ]
        )
        self.user_ids = {role: [by_name[name].pk for name in names] for role, names in self.usernames.items()}
        # Who logs meetings and owns things: staff and officers (officers a bit more).
        self.workers = self.user_ids[STAFF] + self.user_ids[OFFICER] * 2
        self._count("users", len(users))
        self._count("profiles", len(users))

    # ------------------------------------------------------------------ partners

    def seed_topics(self):
        wanted = {name: name.lower().replace(" ", "-") for name in TOPICS}
        have = set(Topic.objects.filter(slug__in=wanted.values()).values_list("slug", flat=True))
        Topic.objects.bulk_create([Topic(name=n, slug=s) for n, s in wanted.items() if s not in have])
        self.topic_ids = list(Topic.objects.filter(slug__in=wanted.values()).order_by("pk").values_list("pk", flat=True))
        self._count("topics", len(wanted) - len(have))

    def seed_partners(self):
        rng, n = self.rng, self.counts["partners"]
        first = self._next_id(Partner)
        self.partner_ids = list(range(first, first + n))
        # Popularity: a random rank per partner, so the busiest are spread over ids and kinds.
        ranked = self.partner_ids[:]
        rng.shuffle(ranked)
        self.partners_by_rank = ranked
        self.partner_cum = zipf_cum_weights(n)
        self.partner_country: dict[int, str] = {}
        self.partner_name: dict[int, str] = {}
        codes = [c for c, _ in COUNTRY_WEIGHTS]
        country_cum = list(itertools.accumulate(w for _, w in COUNTRY_WEIGHTS))
        kinds = [k for k, _ in PARTNER_KINDS]
        kind_cum = list(itertools.accumulate(w for _, w in PARTNER_KINDS))
        owners = self.workers + [None] * (len(self.workers) // 4)
        rows, topic_links = [], []
        for pid in self.partner_ids:
            kind = rng.choices(kinds, cum_weights=kind_cum)[0]
            stateless = kind in ("international_organization", "city_network") and rng.random() < 0.7
            code = "" if stateless else rng.choices(codes, cum_weights=country_cum)[0]
            cname = countries.name(code) if code else ""
            place = self._name()
            name = {
                "city": f"City of {place}",
                "company": f"{place} {rng.choice(INDUSTRIES)} {rng.choice(['Co.', 'Ltd.', 'Inc.', 'Group', 'S.A.'])}",
                "national_government": f"Ministry of {rng.choice(PORTFOLIOS)} ({cname})",
                "subnational_government": f"{place} Prefectural Government ({cname})",
                "diplomatic_mission": f"Consulate General of {cname} in Los Angeles",
                "academic": f"{place} University",
                "civil_society": f"{place} Foundation",
                "diaspora": f"{cname} American Community Council of {place}",
                "international_organization": f"International {place} Organization",
                "city_network": f"{place} Cities Network",
                "religious": f"{place} Interfaith Council",
                "other": f"{place} Association",
            }[kind]
            created = self.now - dt.timedelta(days=rng.randint(30, 3650), minutes=rng.randint(0, 1439))
            parent = None
            if pid > first + 50 and rng.random() < 0.08:
                parent = rng.randint(first, pid - 1)
            rows.append(
                (
                    pid, created, created, name, kind, code,
                    CAPITALS.get(code, "") if kind != "diplomatic_mission" else "Los Angeles",
                    parent,
                    f"https://www.{place.lower()}.example.org/" if rng.random() < 0.6 else "",
                    f"{name}: partner of the office since {created.year}." if rng.random() < 0.5 else "",
                    rng.choices([1, 2, 3], weights=[12, 50, 38])[0],
                    rng.choice(owners),
                    "active" if rng.random() < 0.9 else "inactive",
                    "",
                )
            )
            self.partner_country[pid] = code
            self.partner_name[pid] = name
            for topic in rng.sample(self.topic_ids, rng.randint(0, 3)):
                topic_links.append((pid, topic))
        cols = seeded_columns(Partner)
        assert cols == ["id", "created_at", "updated_at", "name", "kind", "country", "city", "parent_id", "website",
                        "description", "priority", "owner_id", "status", "external_id"], cols
        self.writer.write(Partner._meta.db_table, cols, rows)
        self.writer.write(Partner.topics.through._meta.db_table, ["partner_id", "topic_id"], topic_links)
        self.partner_created = {row[0]: row[1] for row in rows}
        self._count("partners", n)

    def busy_partner(self) -> int:
        """One partner drawn by popularity (Zipf-like)."""
        r = self.rng.random() * self.partner_cum[-1]
        return self.partners_by_rank[bisect.bisect_left(self.partner_cum, r)]

    def seed_contacts(self):
        rng, n = self.rng, self.counts["contacts"]
        first = self._next_id(Contact)
        self.contacts_of: dict[int, list[int]] = {}
        # Every partner gets a first contact when there are enough; the rest follow popularity.
        owners = [self.partner_ids[i % len(self.partner_ids)] for i in range(min(n, len(self.partner_ids)))]
        owners += [self.busy_partner() for _ in range(n - len(owners))]
        rows = []
        for offset, pid in enumerate(owners):
            cid = first + offset
            given, family = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
            created = self.partner_created[pid] + dt.timedelta(days=rng.randint(0, 900))
            created = min(created, self.now)
            ascii_name = f"{given}.{family}".lower().encode("ascii", "ignore").decode()
            rows.append(
                (
                    cid, created, created, pid, f"{given} {family}", rng.choice(HONORIFICS), "",
                    rng.choice(TITLES), f"{ascii_name}{cid}@partner{pid}.example.org" if rng.random() < 0.8 else "",
                    f"+{rng.randint(1, 99)} {rng.randint(100, 999)} {rng.randint(1000, 9999)}",
                    ", ".join(rng.sample(LANGUAGES, rng.randint(1, 2))),
                    "Prefers formal address; bring business cards." if rng.random() < 0.2 else "",
                    rng.random() < 0.8,
                    "",
                )
            )
            self.contacts_of.setdefault(pid, []).append(cid)
        cols = seeded_columns(Contact)
        assert cols[:5] == ["id", "created_at", "updated_at", "partner_id", "full_name"], cols
        self.writer.write(Contact._meta.db_table, cols, rows)
        self.contact_ids = [r[0] for r in rows]
        self._count("contacts", n)
