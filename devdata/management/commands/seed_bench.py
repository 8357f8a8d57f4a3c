"""Synthetic data at a big city's scale, for the benchmark suite (`make bench`).

    python manage.py seed_bench --scale 1        # 10k partners, 50k contacts, 200k engagements,
                                                 # 100k commitments, 2k agreements, 100 users
    python manage.py seed_bench --scale 0.01     # a hundredth of that, in seconds

Shape of the data (deterministic for a given --seed and --today):
- partners' activity is Zipf-like: a few partners have thousands of
  engagements, most have a handful; contacts and commitments follow it;
- engagements spread over ten years up to eight weeks ahead, 1-3 partners,
  0-3 of their contacts, 1-3 of our staff, 0-2 topics; ~5 % restricted;
- commitments ~70 % done, due dates over the years, the open ones clustered
  around today (some overdue, some due this week or next);
- users of each role (viewer, staff, officer) plus one superuser, with
  profiles (bulk inserts skip the post_save signal that makes them).

Speed: rows are generated in Python with a seeded RNG and written with COPY
on PostgreSQL (executemany elsewhere, fine for small scales on SQLite).
History: bulk inserts bypass django-simple-history, so one "+" (created)
history row per record is added afterwards with INSERT ... SELECT (cheap,
set-based). History of the many-to-many links is not written.

Refuses to run on a database that already holds partners, engagements or
commitments unless --append is given, which adds a new batch next to them.
"""

import bisect
import datetime as dt
import itertools
import random
import secrets
import time
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError
from django.core.management.color import no_style
from django.db import connection, transaction
from django.db.models import Max
from django_countries import countries

from accounts.models import Profile
from accounts.roles import OFFICER, STAFF, VIEWER, sync_role_groups
from engagements.models import Commitment, Engagement, Gift, TradeMission
from partners.models import Agreement, Contact, Partner, Topic

# Bump when the generated data changes shape: bench/run reseeds when it differs.
SEED_VERSION = 1
BENCH_PASSWORD = "bench-password-2028"

# Row counts at scale 1.
BASE = {
    "partners": 10_000,
    "contacts": 50_000,
    "engagements": 200_000,
    "commitments": 100_000,
    "agreements": 2_000,
    "users": 100,
    "missions": 150,
    "gifts": 3_000,
}
# Role mix of the users: 1 superuser, then these shares.
ROLE_SHARES = ((OFFICER, 0.12), (STAFF, 0.58), (VIEWER, 0.30))

TOPICS = [
    "Climate and clean energy", "Trade and investment", "Transportation", "Tourism", "Major events",
    "Public health", "Gender equity", "Human rights", "Culture", "Education", "Technology", "Migration",
    "Water", "Housing", "Ports and logistics", "Aviation", "Film and media", "Sister cities", "Public safety",
    "Disaster resilience", "Urban planning", "Food security", "Sport", "Digital government",
]

# (ISO code, weight): the office's real mix is lopsided, so is this.
COUNTRY_WEIGHTS = [
    ("MX", 10), ("JP", 8), ("KR", 6), ("CN", 6), ("US", 6), ("GB", 5), ("FR", 5), ("DE", 5), ("CA", 5),
    ("VN", 4), ("PH", 4), ("IN", 4), ("SV", 3), ("GT", 3), ("AM", 3), ("IL", 3), ("IT", 3), ("ES", 3),
    ("BR", 3), ("AU", 3), ("TW", 3), ("IE", 2), ("NL", 2), ("SE", 2), ("NG", 2), ("KE", 2), ("ET", 2),
    ("ZA", 2), ("EG", 2), ("AE", 2), ("SA", 2), ("TH", 2), ("ID", 2), ("SG", 2), ("NZ", 2), ("AR", 2),
    ("CL", 2), ("CO", 2), ("PE", 2), ("UA", 2), ("PL", 2), ("GR", 1), ("PT", 1), ("CH", 1), ("AT", 1),
    ("BE", 1), ("DK", 1), ("FI", 1), ("NO", 1), ("TR", 1), ("PK", 1), ("BD", 1), ("LK", 1), ("MN", 1),
    ("KH", 1), ("GH", 1), ("SN", 1), ("SL", 1), ("JM", 1), ("HN", 1),
]
CAPITALS = {
    "MX": "Mexico City", "JP": "Tokyo", "KR": "Seoul", "CN": "Beijing", "US": "Washington", "GB": "London",
    "FR": "Paris", "DE": "Berlin", "CA": "Ottawa", "VN": "Hanoi", "PH": "Manila", "IN": "New Delhi",
    "SV": "San Salvador", "GT": "Guatemala City", "AM": "Yerevan", "IL": "Jerusalem", "IT": "Rome",
    "ES": "Madrid", "BR": "Brasília", "AU": "Canberra", "TW": "Taipei", "IE": "Dublin", "NL": "Amsterdam",
    "SE": "Stockholm", "NG": "Abuja", "KE": "Nairobi", "ET": "Addis Ababa", "ZA": "Pretoria", "EG": "Cairo",
    "AE": "Abu Dhabi", "SA": "Riyadh", "TH": "Bangkok", "ID": "Jakarta", "SG": "Singapore", "NZ": "Wellington",
    "AR": "Buenos Aires", "CL": "Santiago", "CO": "Bogotá", "PE": "Lima", "UA": "Kyiv", "PL": "Warsaw",
    "GR": "Athens", "PT": "Lisbon", "CH": "Bern", "AT": "Vienna", "BE": "Brussels", "DK": "Copenhagen",
    "FI": "Helsinki", "NO": "Oslo", "TR": "Ankara", "PK": "Islamabad", "BD": "Dhaka", "LK": "Colombo",
    "MN": "Ulaanbaatar", "KH": "Phnom Penh", "GH": "Accra", "SN": "Dakar", "SL": "Freetown", "JM": "Kingston",
    "HN": "Tegucigalpa",
}
PARTNER_KINDS = [
    ("city", 22), ("company", 20), ("national_government", 10), ("subnational_government", 8),
    ("diplomatic_mission", 8), ("academic", 8), ("civil_society", 8), ("diaspora", 5),
    ("international_organization", 4), ("city_network", 2), ("religious", 2), ("other", 3),
]
ENGAGEMENT_KINDS = [
    ("bilateral_meeting", 30), ("call", 25), ("visit_received", 12), ("visit_abroad", 5),
    ("multilateral_forum", 6), ("event", 10), ("correspondence", 12),
]
SYLLABLES = [
    "ka", "na", "mi", "to", "ra", "lo", "be", "sa", "ri", "do", "va", "len", "mar", "tor", "zan", "kel",
    "por", "sen", "da", "hu", "yo", "shi", "an", "el", "or", "ul", "bri", "ste", "gan", "lis", "mon", "ter",
]
PORTFOLIOS = [
    "Foreign Affairs", "Trade", "Economy", "Transport", "Environment", "Culture", "Health", "Education",
    "Tourism", "Energy", "Interior", "Science and Technology",
]
INDUSTRIES = ["Logistics", "Energy", "Biotech", "Aerospace", "Media", "Software", "Mobility", "Foods", "Textiles"]
FIRST_NAMES = [
    "Ana", "Hiroshi", "Min-jun", "Wei", "Olivia", "Thomas", "Claire", "Lucía", "Nguyen", "Priya", "Amir", "Yuki",
    "Sofia", "Mateo", "Aarav", "Fatima", "Chen", "Elena", "Kwame", "Ingrid", "Tariq", "Marisol", "Jonas", "Aiko",
]
LAST_NAMES = [
    "Tanaka", "Kim", "Wang", "Hernández", "Dubois", "Müller", "García", "Tran", "Shah", "Haddad", "Sato", "Rossi",
    "Silva", "Okafor", "Nielsen", "Petrov", "Khan", "López", "Park", "Li", "Moreau", "Cohen", "Mensah", "Costa",
]
HONORIFICS = ["", "", "Mr.", "Ms.", "Dr.", "H.E.", "The Hon.", "Mayor", "Prof."]
TITLES = [
    "Consul General", "Deputy Mayor", "Director-General", "Minister", "Vice Minister", "Ambassador",
    "Chief Executive Officer", "Head of International Relations", "Trade Commissioner", "Secretary General",
    "Professor", "Program Officer", "Counsellor", "Chair of the Board",
]
LANGUAGES = ["English", "Spanish", "Japanese", "Korean", "Mandarin", "French", "German", "Vietnamese", "Armenian"]
SUBJECTS = [
    "green hydrogen", "port electrification", "direct flights", "the 2028 Games", "a sister-city renewal",
    "student exchanges", "film co-production", "earthquake early warning", "water recycling", "heat resilience",
    "a trade delegation", "investment in clean tech", "consular services", "a cultural festival", "public transit",
]
KIND_PHRASES = {
    "bilateral_meeting": "Meeting with",
    "call": "Call with",
    "visit_received": "Visit from",
    "visit_abroad": "Visit to",
    "multilateral_forum": "Forum session with",
    "event": "Reception for",
    "correspondence": "Letter to",
}


def scaled(name: str, scale: float, minimum: int = 1) -> int:
    return max(minimum, round(BASE[name] * scale))


def zipf_cum_weights(n: int, exponent: float = 1.0) -> list[float]:
    """Cumulative weights 1/(rank+offset)^exponent: a long tail with a few very busy heads.

    The offset (10 at 10,000 partners) flattens the very top a little, so that
    the busiest partner has thousands of engagements, not tens of thousands.
    """
    offset = max(0.5, n / 1000)
    return list(itertools.accumulate(1.0 / (rank + offset) ** exponent for rank in range(1, n + 1)))


def seeded_columns(model) -> list[str]:
    """The columns written by COPY: all but `version`, which the database default sets to 1."""
    return [f.column for f in model._meta.concrete_fields if f.name != "version"]


class _Writer:
    """Writes rows (tuples in column order) fast: COPY on PostgreSQL, executemany elsewhere."""

    def __init__(self):
        self.postgres = connection.vendor == "postgresql"
        self.rows_written = 0

    def _adapt(self, value):
        if isinstance(value, dt.datetime):
            return connection.ops.adapt_datetimefield_value(value)
        if isinstance(value, dt.date):
            return connection.ops.adapt_datefield_value(value)
        if isinstance(value, Decimal):
            return str(value)
        return value

    def write(self, table: str, columns: list[str], rows) -> int:
        qn = connection.ops.quote_name
        cols = ", ".join(qn(c) for c in columns)
        count = 0
        with connection.cursor() as cursor:
            if self.postgres:
                with cursor.cursor.copy(f"COPY {qn(table)} ({cols}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
                        count += 1
            else:
                # Reviewed (bandit): identifiers from model meta, quoted; values are parameters.
                sql = f"INSERT INTO {qn(table)} ({cols}) VALUES ({', '.join(['%s'] * len(columns))})"  # nosec B608
                batch = []
                for row in rows:
                    batch.append(tuple(self._adapt(v) for v in row))
                    if len(batch) >= 5000:
                        cursor.executemany(sql, batch)
                        count += len(batch)
                        batch = []
                if batch:
                    cursor.executemany(sql, batch)
                    count += len(batch)
        self.rows_written += count
        return count


class Command(BaseCommand):
    help = "Seed synthetic benchmark data (scale 1 = 10k partners, 200k engagements, 100k commitments)."

    def add_arguments(self, parser):
        parser.add_argument("--scale", type=float, required=True, help="1 = a big city's office; 0.01 for a smoke.")
        parser.add_argument("--seed", type=int, default=2028, help="RNG seed (same seed and --today, same data).")
        parser.add_argument(
            "--today", type=dt.date.fromisoformat, default=None, help="Anchor date YYYY-MM-DD (default: today)."
        )
        parser.add_argument(
            "--append",
            action="store_true",
            help="Add a batch even though the database already holds partners/engagements/commitments.",
        )
        parser.add_argument("--no-history", action="store_true", help="Skip the initial history rows.")

    # ------------------------------------------------------------------ entry point

    def handle(self, *args, scale, seed, today, append, no_history, **options):
        if not 0 < scale <= 20:
            raise CommandError("--scale must be in (0, 20].")
        existing = {
            "partners": Partner.objects.exists(),
            "engagements": Engagement.objects.exists(),
            "commitments": Commitment.objects.exists(),
        }
        if any(existing.values()) and not append:
            held = ", ".join(name for name, present in existing.items() if present)
            raise CommandError(
                f"The database already holds {held}. seed_bench refuses to mix with existing data; "
                "use an empty database, or pass --append to add a batch next to it."
            )
        self.rng = random.Random(seed)
        self.tz = ZoneInfo(settings.TIME_ZONE)
        self.today = today or dt.datetime.now(self.tz).date()
        self.now = dt.datetime.combine(self.today, dt.time(12, 0), tzinfo=self.tz)
        self.writer = _Writer()
        self.first_ids: dict = {}
        self.counts = {name: scaled(name, scale) for name in BASE}
        self.counts["users"] = max(12, self.counts["users"])  # every role, whatever the scale
        self.timings: list[tuple[str, float, int]] = []
        self.verbosity = options.get("verbosity", 1)

        started = time.perf_counter()
        with transaction.atomic():
            self._step("users, groups, profiles", self.seed_users)
            self._step("topics", self.seed_topics)
            self._step("partners (+ topics)", self.seed_partners)
            self._step("contacts", self.seed_contacts)
            self._step("trade missions (+ partners, delegates)", self.seed_missions)
            self._step("engagements (+ partners, contacts, staff, topics)", self.seed_engagements)
            self._step("commitments", self.seed_commitments)
            self._step("agreements (+ partners)", self.seed_agreements)
            self._step("gifts", self.seed_gifts)
            self._step("sequences", self.reset_sequences)
            if not no_history:
                self._step("history rows (one '+' per record)", self.seed_history)
        total = time.perf_counter() - started
        if connection.vendor == "postgresql":
            t0 = time.perf_counter()
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")
            self.timings.append(("ANALYZE", time.perf_counter() - t0, 0))
        self._summary(scale, seed, total)

    def _step(self, label: str, fn) -> None:
        before = self.writer.rows_written
        t0 = time.perf_counter()
        fn()
        elapsed = time.perf_counter() - t0
        self.timings.append((label, elapsed, self.writer.rows_written - before))
        if self.verbosity > 1:
            self.stdout.write(f"  {label}: {elapsed:.1f}s")

    def _summary(self, scale, seed, total) -> None:
        self.stdout.write(
            f"seed_bench: scale {scale:g}, seed {seed}, anchor {self.today}, database {connection.vendor} "
            f"({connection.settings_dict.get('NAME')})"
        )
        for label, elapsed, rows in self.timings:
            rows_text = f"{rows:>10,} rows" if rows else " " * 15
            self.stdout.write(f"  {label:<55} {rows_text}  {elapsed:7.2f} s")
        made = self.made
        self.stdout.write(
            "Created: "
            + ", ".join(f"{n:,} {name}" for name, n in made.items())
            + f" in {total:.1f} s ({self.writer.rows_written:,} rows written in bulk)."
        )
        self.stdout.write(
            f"Log in as {self.usernames[OFFICER][0]} (officer), {self.usernames[STAFF][0]} (staff) or "
            f"{self.usernames[VIEWER][0]} (viewer) with password {BENCH_PASSWORD!r}."
        )
        self.stdout.write(
            "Note: history rows are one '+' row per record (bulk inserts bypass simple-history); "
            "many-to-many history is not written."
        )

    # ------------------------------------------------------------------ helpers

    def _next_id(self, model) -> int:
        first = (model.objects.aggregate(m=Max("pk"))["m"] or 0) + 1
        self.first_ids[model] = first
        return first

    def _at(self, day: dt.date, minutes: int) -> dt.datetime:
        return dt.datetime.combine(day, dt.time(0, 0), tzinfo=self.tz) + dt.timedelta(minutes=minutes)

    def _name(self) -> str:
        rng = self.rng
        return "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 3))).capitalize()

    @property
    def made(self) -> dict:
        return getattr(self, "_made", {})

    def _count(self, name: str, n: int) -> None:
        if not hasattr(self, "_made"):
            self._made = {}
        self._made[name] = self._made.get(name, 0) + n

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

    # ------------------------------------------------------------------ missions, engagements

    def seed_missions(self):
        rng, n = self.rng, self.counts["missions"]
        first = self._next_id(TradeMission)
        rows, partner_links, delegate_links = [], [], []
        codes = [c for c, _ in COUNTRY_WEIGHTS if c != "US"]
        self.mission_dates = {}
        for offset in range(n):
            mid = first + offset
            start = self.today + dt.timedelta(days=rng.randint(-3650, 120))
            end = start + dt.timedelta(days=rng.randint(2, 12))
            itinerary = rng.sample(codes, rng.randint(1, 3))
            if end < self.today:
                status = "cancelled" if rng.random() < 0.05 else "completed"
            elif start <= self.today:
                status = "under_way"
            else:
                status = "planned"
            created = self._at(start, 600) - dt.timedelta(days=rng.randint(30, 180))
            rows.append(
                (
                    mid, created, created, f"{start.year} trade mission to {', '.join(countries.name(c) for c in itinerary)}",
                    rng.choice(["outbound", "outbound", "inbound"]), ",".join(itinerary),
                    ", ".join(CAPITALS[c] for c in itinerary), start, end,
                    rng.choice(["The Mayor", "Deputy Mayor for International Affairs", "City Council President"]),
                    rng.choice(self.workers),
                    "Open markets for local firms and deepen ties.", "" if status != "completed" else "Agreements signed.",
                    status,
                )
            )
            self.mission_dates[mid] = start
            candidates = [p for p in (self.busy_partner() for _ in range(6)) if self.partner_country.get(p) in itinerary]
            for pid in sorted(set(candidates or [self.busy_partner()])):
                partner_links.append((mid, pid))
            for cid in sorted(set(rng.sample(self.contact_ids, min(len(self.contact_ids), rng.randint(2, 8))))):
                delegate_links.append((mid, cid))
        cols = seeded_columns(TradeMission)
        assert cols[:4] == ["id", "created_at", "updated_at", "name"] and cols[-1] == "status", cols
        self.writer.write(TradeMission._meta.db_table, cols, rows)
        self.writer.write(TradeMission.partners.through._meta.db_table, ["trademission_id", "partner_id"], partner_links)
        self.writer.write(TradeMission.delegates.through._meta.db_table, ["trademission_id", "contact_id"], delegate_links)
        self.mission_ids = [r[0] for r in rows]
        self._count("trade missions", n)

    def seed_engagements(self):
        rng, n = self.rng, self.counts["engagements"]
        first = self._next_id(Engagement)
        kinds = [k for k, _ in ENGAGEMENT_KINDS]
        kind_cum = list(itertools.accumulate(w for _, w in ENGAGEMENT_KINDS))
        span_days = 3650 + 56  # ten years back, eight weeks ahead
        rows, p_links, c_links, s_links, t_links = [], [], [], [], []
        self.engagement_partners: dict[int, list[int]] = {}
        self.engagement_meta: dict[int, tuple] = {}
        mission_ids = getattr(self, "mission_ids", [])
        for offset in range(n):
            eid = first + offset
            kind = rng.choices(kinds, cum_weights=kind_cum)[0]
            # Activity grows over the decade: sqrt skews the dates towards recent years.
            back = int(span_days * (1 - rng.random() ** 0.7)) - 56
            day = self.today - dt.timedelta(days=back)
            starts = self._at(day, rng.randrange(7 * 60, 19 * 60, 15))
            ends = starts + dt.timedelta(minutes=rng.choice([30, 45, 60, 60, 90, 120, 180]))
            future = starts > self.now
            if future:
                status = "cancelled" if rng.random() < 0.04 else "planned"
                created = self.now - dt.timedelta(days=rng.randint(0, 40), minutes=rng.randint(0, 600))
            else:
                roll = rng.random()
                status = "cancelled" if roll < 0.06 else ("planned" if roll < 0.07 else "held")
                created = min(self.now, starts + dt.timedelta(hours=rng.randint(1, 96)))
            roll = rng.random()
            confidentiality = "restricted" if roll < 0.05 else ("public" if roll < 0.30 else "internal")
            drawn = [self.busy_partner() for _ in range(rng.choices([1, 2, 3], weights=[60, 28, 12])[0])]
            partners = list(dict.fromkeys(drawn))  # distinct, the lead partner first
            subject = rng.choice(SUBJECTS)
            title = f"{KIND_PHRASES[kind]} {self._partner_label(partners[0])} on {subject}"
            mission = None
            if mission_ids and kind in ("visit_abroad", "visit_received", "bilateral_meeting") and rng.random() < 0.03:
                mission = rng.choice(mission_ids)
            follow_up = day + dt.timedelta(days=rng.randint(3, 21)) if rng.random() < 0.15 else None
            owner = rng.choice(self.workers)
            rows.append(
                (
                    eid, created, created, title, kind, status, starts, ends,
                    "Virtual" if kind == "call" else rng.choice(["City Hall", "Consulate", "Port of Los Angeles", ""]),
                    kind == "call" or rng.random() < 0.1,
                    rng.choice(["", "", "The Mayor", "Deputy Mayor", "Councilmember"]),
                    mission,
                    f"Discussed {subject}. Both sides agreed to keep in touch and exchange proposals. " * rng.randint(1, 3),
                    f"Next step on {subject}." if status == "held" and rng.random() < 0.6 else "",
                    confidentiality, follow_up, owner,
                )
            )
            for pid in partners:
                p_links.append((eid, pid))
            pool = [c for pid in partners for c in self.contacts_of.get(pid, ())]
            for cid in sorted(set(rng.sample(pool, min(len(pool), rng.randint(0, 3))))):
                c_links.append((eid, cid))
            staff = {owner} | {rng.choice(self.workers) for _ in range(rng.randint(0, 2))}
            for uid in sorted(staff):
                s_links.append((eid, uid))
            for topic in rng.sample(self.topic_ids, rng.randint(0, 2)):
                t_links.append((eid, topic))
            self.engagement_partners[eid] = partners
            self.engagement_meta[eid] = (day, status, owner)
        cols = seeded_columns(Engagement)
        assert cols == ["id", "created_at", "updated_at", "title", "kind", "status", "starts_at", "ends_at", "location",
                        "is_virtual", "city_officials", "trade_mission_id", "summary", "outcomes", "confidentiality",
                        "follow_up_by", "owner_id"], cols
        self.writer.write(Engagement._meta.db_table, cols, rows)
        self.writer.write(Engagement.partners.through._meta.db_table, ["engagement_id", "partner_id"], p_links)
        self.writer.write(Engagement.contacts.through._meta.db_table, ["engagement_id", "contact_id"], c_links)
        self.writer.write(Engagement.staff.through._meta.db_table, ["engagement_id", "user_id"], s_links)
        self.writer.write(Engagement.topics.through._meta.db_table, ["engagement_id", "topic_id"], t_links)
        self.engagement_ids = [r[0] for r in rows]
        self._count("engagements", n)
        self._count("engagement-partner links", len(p_links))

    def _partner_label(self, pid: int) -> str:
        return self.partner_name[pid]

    # ------------------------------------------------------------------ commitments, agreements, gifts

    def seed_commitments(self):
        rng, n = self.rng, self.counts["commitments"]
        first = self._next_id(Commitment)
        rows = []
        for offset in range(n):
            cid = first + offset
            engagement = None
            if rng.random() < 0.65:
                engagement = rng.choice(self.engagement_ids)
                day, _, eng_owner = self.engagement_meta[engagement]
                partner = rng.choice(self.engagement_partners[engagement])
            else:
                day = self.today - dt.timedelta(days=int(3650 * (1 - rng.random() ** 0.7)))
                eng_owner = None
                partner = self.busy_partner() if rng.random() < 0.85 else None
            made_by = rng.choices(["city", "partner", "joint"], weights=[70, 20, 10])[0] if partner else "city"
            roll = rng.random()
            status = "done" if roll < 0.70 else "dropped" if roll < 0.75 else "in_progress" if roll < 0.82 else "open"
            if status in ("open", "in_progress"):
                # Open ones cluster around today: a backlog of overdue, this week and next, the coming months.
                r = rng.random()
                if r < 0.25:
                    due = self.today - dt.timedelta(days=rng.randint(1, 365))
                elif r < 0.40:
                    due = self.today + dt.timedelta(days=rng.randint(0, 14))
                elif r < 0.95:
                    due = self.today + dt.timedelta(days=rng.randint(15, 365))
                else:
                    due = None
                completed = None
            else:
                due = min(day + dt.timedelta(days=rng.randint(7, 120)), self.today + dt.timedelta(days=200))
                completed = None
                if status == "done":
                    completed = min(self.today, due + dt.timedelta(days=rng.randint(-30, 20)))
            created = min(self.now, self._at(day, 17 * 60) + dt.timedelta(hours=rng.randint(1, 48)))
            owner = eng_owner if eng_owner and rng.random() < 0.7 else (rng.choice(self.workers) if rng.random() < 0.95 else None)
            rows.append(
                (
                    cid, created, created,
                    f"{'Send' if made_by == 'city' else 'Receive'} the follow-up note on item {cid} "
                    f"({rng.choice(SUBJECTS)})",
                    made_by, partner, engagement, None, owner, due, status, completed,
                    rng.choices([1, 2, 3], weights=[20, 55, 25])[0],
                )
            )
        cols = seeded_columns(Commitment)
        assert cols == ["id", "created_at", "updated_at", "description", "made_by", "partner_id", "engagement_id",
                        "trade_mission_id", "owner_id", "due_date", "status", "completed_on", "priority"], cols
        self.writer.write(Commitment._meta.db_table, cols, rows)
        self._count("commitments", n)

    def seed_agreements(self):
        rng, n = self.rng, self.counts["agreements"]
        first = self._next_id(Agreement)
        kinds = ["mou", "sister_city", "friendship_city", "letter_of_intent", "network_membership", "other"]
        rows, links = [], []
        for offset in range(n):
            aid = first + offset
            kind = rng.choices(kinds, weights=[35, 15, 10, 20, 10, 10])[0]
            signed = self.today - dt.timedelta(days=rng.randint(-60, 30 * 365))
            expires = signed + dt.timedelta(days=365 * rng.randint(2, 10)) if rng.random() < 0.8 else None
            notice = expires - dt.timedelta(days=90) if expires and rng.random() < 0.5 else None
            if notice and notice < signed:
                notice = None
            roll = rng.random()
            if signed > self.today or roll < 0.05:
                status = "draft"
            elif roll < 0.10:
                status = "terminated"
            elif expires and expires < self.today:
                status = "expired"
            else:
                status = "in_force"
            created = self._at(min(signed, self.today), 600)
            partners = sorted({self.busy_partner() for _ in range(rng.choices([1, 2, 3], weights=[75, 20, 5])[0])})
            rows.append(
                (
                    aid, created, created, f"{kind.replace('_', ' ').title()} with {self._partner_label(partners[0])}",
                    kind, signed if status != "draft" else None, expires, notice, status,
                    "Cooperation on trade, culture and climate.", rng.choice(self.user_ids[OFFICER] + [None]),
                )
            )
            links.extend((aid, pid) for pid in partners)
        cols = seeded_columns(Agreement)
        assert cols == ["id", "created_at", "updated_at", "title", "kind", "signed_on", "expires_on", "notice_by",
                        "status", "summary", "owner_id"], cols
        self.writer.write(Agreement._meta.db_table, cols, rows)
        self.writer.write(Agreement.partners.through._meta.db_table, ["agreement_id", "partner_id"], links)
        self._count("agreements", n)

    def seed_gifts(self):
        rng, n = self.rng, self.counts["gifts"]
        first = self._next_id(Gift)
        rows = []
        for offset in range(n):
            engagement = rng.choice(self.engagement_ids)
            day, _, _ = self.engagement_meta[engagement]
            day = min(day, self.today)
            partner = self.engagement_partners[engagement][0]
            received = rng.random() < 0.6
            created = self._at(day, 20 * 60)
            rows.append(
                (
                    first + offset, created, created, engagement, "received" if received else "given", day,
                    self._partner_label(partner) if received else "The Mayor",
                    "The Mayor" if received else self._partner_label(partner), partner,
                    rng.choice(["Ceramic vase", "Book of photographs", "Silk scarf", "City medallion", "Tea set"]),
                    Decimal(rng.randint(20, 900)), "USD",
                    rng.choice(["pending", "retained_official", "archived", "donated"]),
                )
            )
        cols = seeded_columns(Gift)
        assert cols[:4] == ["id", "created_at", "updated_at", "engagement_id"], cols
        self.writer.write(Gift._meta.db_table, cols, rows)
        self._count("gifts", n)

    # ------------------------------------------------------------------ after the COPY

    def reset_sequences(self):
        """Rows were written with explicit ids: move PostgreSQL's sequences past them."""
        models = [Partner, Contact, TradeMission, Engagement, Commitment, Agreement, Gift]
        statements = connection.ops.sequence_reset_sql(no_style(), models)
        with connection.cursor() as cursor:
            for sql in statements:
                cursor.execute(sql)

    def seed_history(self):
        """One '+' history row per record created here, set-based (INSERT ... SELECT)."""
        qn = connection.ops.quote_name
        for model in (Partner, Contact, TradeMission, Engagement, Commitment, Agreement, Gift):
            historical = model.history.model
            source_cols = {f.column for f in model._meta.concrete_fields}
            target, select = [], []
            for field in historical._meta.concrete_fields:
                if field.column in source_cols:
                    target.append(field.column)
                    select.append(qn(field.column))
            target += ["history_date", "history_type", "history_change_reason", "history_user_id"]
            select += [qn("created_at"), "'+'", "NULL", qn("owner_id") if "owner_id" in source_cols else "NULL"]
            first_new = self.first_ids[model] - 1
            with connection.cursor() as cursor:
                cursor.execute(
                    # Reviewed (bandit): identifiers from model meta, quoted; values are parameters.
                    f"INSERT INTO {qn(historical._meta.db_table)} ({', '.join(qn(c) for c in target)}) "  # nosec B608
                    f"SELECT {', '.join(select)} FROM {qn(model._meta.db_table)} WHERE {qn('id')} > %s",
                    [first_new],
                )
                self.writer.rows_written += cursor.rowcount
                self._count("history rows", cursor.rowcount)
