"""Benchmark: import a generated 10,000-row partners CSV and a 10,000-row engagements CSV, then each again.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/crm_import .venv/bin/python bench/import_bench.py [--rows 10000]
        [--with-dry-run] [--out results.json]

Part of `make bench` (bench/runner.py runs it on its own database, crm_bench_import, 10,000 rows; 200 in
BENCH_SMOKE) and usable alone.

Migrates the database named by DATABASE_URL, removes partners left by a
previous run of this script (external ids "bench-…"), writes the CSV under
var/, and times three passes of the same importer the page and the command
use: the import (one transaction), a re-import (expected: 0 created, no
history row written), and with --with-dry-run the dry run first. Prints
seconds, rows/s and SQL queries for each. The engagements name one or two of
the benchmark's partners each, a topic and a start of their own.
"""

import argparse
import csv
import json
import os
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "diplomacy_crm.settings")
os.environ.setdefault("DEBUG", "1")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402

from imports.run import run_import  # noqa: E402
from imports.reader import read_table  # noqa: E402
from engagements.models import Commitment, Engagement  # noqa: E402
from partners.models import Contact, Partner, Topic  # noqa: E402

KINDS = ["city", "company", "academic", "civil_society", "diplomatic_mission", "national_government"]
COUNTRIES = ["Japan", "Viet Nam", "Vietnam", "Korea, South", "South Korea", "DE", "FR", "Mexico", "Brazil", "KE", "IN", "Canada"]


def write_csv(path: Path, rows: int) -> None:
    rng = random.Random(42)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["name", "kind", "country", "city", "website", "description", "topics", "priority", "status", "external_id"])
        for i in range(rows):
            writer.writerow([
                f"Bench partner {i} São Tomé",
                rng.choice(KINDS),
                rng.choice(COUNTRIES),
                f"City {i % 500}",
                f"https://partner{i}.example.org/",
                "Generated for the import benchmark.",
                "bench-trade; bench-climate" if i % 3 == 0 else "",
                rng.choice([1, 2, 3]),
                "active",
                f"bench-{i}",
            ])


def write_engagements_csv(path: Path, rows: int, partners: int) -> None:
    rng = random.Random(7)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["title", "kind", "starts_at", "ends_at", "location", "partners", "topics", "summary"])
        for i in range(rows):
            day = 1 + i // 24
            start = f"{2000 + day // 365}-{1 + (day // 28) % 12:02}-{1 + day % 28:02}T{i % 24:02}:00+00:00"
            names = {f"Bench partner {rng.randrange(partners)} São Tomé" for _ in range(rng.choice([1, 2]))}
            writer.writerow([
                f"Bench meeting {i}", rng.choice(["bilateral_meeting", "call", "visit_received", "visit_abroad"]), start, "",
                f"Room {i % 40}", "; ".join(sorted(names)), "bench-trade" if i % 2 else "", "Generated for the benchmark.",
            ])


FIGURES: list[dict] = []


def timed(label: str, rows: int, **kwargs):
    from django.db import connection

    count = [0]

    def counter(execute, sql, params, many, context):
        count[0] += 1
        return execute(sql, params, many, context)

    start = time.perf_counter()
    with connection.execute_wrapper(counter):
        result = run_import(**kwargs)
    seconds = time.perf_counter() - start
    print(f"{label:<22} {seconds:7.1f} s  {rows / seconds:7.0f} rows/s  {count[0]:6} queries  "
          f"{result.summary()}  errors={len(result.errors)}")
    FIGURES.append({"run": label, "rows": rows, "seconds": round(seconds, 2), "rows_per_s": round(rows / seconds),
                    "queries": count[0], "summary": result.summary(), "errors": len(result.errors)})
    if result.errors:
        print("  first errors:", [str(e) for e in result.errors[:3]])
    return result, seconds


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--with-dry-run", action="store_true", help="Also time the dry run (about as long as the import).")
    parser.add_argument("--out", help="Write the figures as JSON to this file.")
    args = parser.parse_args()
    call_command("migrate", verbosity=0)
    engine = settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]
    print(f"database: {engine} {settings.DATABASES['default']['NAME']}")
    # Clean slate for this script's own rows only.
    Commitment.objects.filter(engagement__title__startswith="Bench meeting ").delete()
    Engagement.objects.filter(title__startswith="Bench meeting ").delete()
    Contact.objects.filter(partner__external_id__startswith="bench-").delete()
    Partner.objects.filter(external_id__startswith="bench-").delete()
    for slug in ("bench-trade", "bench-climate"):
        Topic.objects.get_or_create(slug=slug, defaults={"name": slug.replace("-", " ").title()})
    path = ROOT / "var" / f"import_bench_{args.rows}.csv"
    path.parent.mkdir(exist_ok=True)
    write_csv(path, args.rows)
    table = read_table(path.read_bytes(), path.name)
    print(f"file: {path} ({path.stat().st_size / 1_048_576:.1f} MB, {len(table)} rows)")
    if args.with_dry_run:
        timed("partners dry run", args.rows, kind="partners", table=table, commit=False)
    history = Partner.history.count()
    result, _ = timed("partners import", args.rows, kind="partners", table=table, commit=True)
    assert result.committed and result.count("created") == args.rows, result.summary()
    assert Partner.history.count() == history + args.rows  # one history row per record
    history = Partner.history.count()
    again, _ = timed("partners re-import", args.rows, kind="partners", table=table, commit=True)
    assert again.count("created") == again.count("updated") == 0, again.summary()
    assert Partner.history.count() == history, "a re-import wrote history"

    path = ROOT / "var" / f"import_bench_engagements_{args.rows}.csv"
    write_engagements_csv(path, args.rows, args.rows)
    table = read_table(path.read_bytes(), path.name)
    print(f"file: {path} ({path.stat().st_size / 1_048_576:.1f} MB, {len(table)} rows)")
    if args.with_dry_run:
        timed("engagements dry run", args.rows, kind="engagements", table=table, commit=False)
    history = Engagement.history.count()
    result, _ = timed("engagements import", args.rows, kind="engagements", table=table, commit=True)
    assert result.committed and result.count("created") == args.rows, result.summary()
    assert Engagement.history.count() == history + args.rows
    history = Engagement.history.count()
    again, _ = timed("engagements re-import", args.rows, kind="engagements", table=table, commit=True)
    assert again.count("created") == again.count("updated") == 0, again.summary()
    assert Engagement.history.count() == history, "a re-import wrote history"
    if args.out:
        Path(args.out).write_text(json.dumps({"rows": args.rows, "runs": FIGURES}, indent=1))


if __name__ == "__main__":
    main()
