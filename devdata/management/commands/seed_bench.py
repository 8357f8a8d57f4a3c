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

import datetime as dt
import random
import time
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.db.models import Max

from accounts.roles import OFFICER, STAFF, VIEWER
from devdata.bench_people import PeopleSeeding
from devdata.bench_records import RecordSeeding
from devdata.benchdata import BASE, BENCH_PASSWORD, SYLLABLES, _Writer, scaled
from engagements.models import Commitment, Engagement
from partners.models import Partner

# Bump when the generated data changes shape: bench/run reseeds when it differs.
SEED_VERSION = 1

# Row counts at scale 1.


class Command(PeopleSeeding, RecordSeeding, BaseCommand):
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
