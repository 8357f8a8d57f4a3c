"""seed_bench, second half: missions, engagements, commitments, agreements, gifts, and the initial history rows."""

import datetime as dt
import itertools
from decimal import Decimal

from django.core.management.color import no_style
from django.db import connection
from django_countries import countries

from accounts.roles import OFFICER
from devdata.benchdata import CAPITALS, COUNTRY_WEIGHTS, ENGAGEMENT_KINDS, KIND_PHRASES, SUBJECTS, seeded_columns
from engagements.models import Commitment, Engagement, Gift, TradeMission
from partners.models import Agreement, Contact, Partner

# The venue time zones of visits abroad (Engagement.venue_timezone), in turn.
VENUE_ZONES = ("Asia/Tokyo", "Europe/Rome", "Asia/Ho_Chi_Minh", "America/Mexico_City", "Europe/London")


class RecordSeeding:
    """Mixed into the seed_bench command: the records about partners, in dependency order."""

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
                    # Visits abroad carry their venue's zone; no draw from rng, so the rest of the data is unchanged.
                    VENUE_ZONES[eid % len(VENUE_ZONES)] if kind == "visit_abroad" else "",
                    kind == "call" or rng.random() < 0.1,
                    rng.choice(["", "", "The Mayor", "Deputy Mayor", "Councilmember"]),
                    mission,
                    f"Discussed {subject}. Both sides agreed to keep in touch and exchange proposals. " * rng.randint(1, 3),
                    f"Next step on {subject}." if status == "held" and rng.random() < 0.6 else "",
                    confidentiality, follow_up, owner,
                    "", 0, None,  # not from a calendar invitation (ical_uid, ical_sequence, ical_dtstamp)
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
                        "venue_timezone", "is_virtual", "city_officials", "trade_mission_id", "summary", "outcomes", "confidentiality",
                        "follow_up_by", "owner_id", "ical_uid", "ical_sequence", "ical_dtstamp"], cols
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
