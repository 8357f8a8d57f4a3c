"""Search at 100k engagements, as a ratio to the engagement list page in the same run (PostgreSQL).

    .venv/bin/python bench/search_bench.py [--requests 30] [--reseed] [--words hydrogen,earthquake,Tokyo]
                                           [--database crm_search_bench] [--scale 0.5]

1. Creates the database `--database` (default `crm_search_bench`) on the
   server of DATABASE_URL (default postgres://postgres@127.0.0.1:5432),
   migrates it and seeds it with `manage.py seed_bench --scale 0.5` (100k
   engagements, 5k partners, 25k contacts, 50k commitments) unless it already
   holds them; then VACUUM ANALYZE.
2. Times N test-client GETs (in-process, interleaved A B C A B C …, after a
   warm-up) of /search/?q=<word>, /search/?q=<word>&type=engagement,
   /engagements/?q=<word> (the list's icontains filter) and /engagements/,
   logged in as a staff user (restricted rows filtered), and prints the median
   milliseconds and the ratio to /engagements/.
3. Prints EXPLAIN (ANALYZE, BUFFERS) of the engagement and commitment search
   queries for each word (the "all types" page's LIMIT 6), with their
   execution time and shared buffers. Ranking reads the stored `search_vector`
   column: no plan node should re-parse text with to_tsvector.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
DB_NAME = "crm_search_bench"
SCALE = 0.5
ENGAGEMENTS_AT_SCALE_1 = 200_000


def _server_url() -> str:
    base = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres")
    parts = urlsplit(base)
    if not parts.scheme.startswith("postgres"):
        raise SystemExit("search_bench needs PostgreSQL: set DATABASE_URL=postgres://…")
    return urlunsplit((parts.scheme, parts.netloc, f"/{DB_NAME}", "", ""))


def _create_database(url: str, reseed: bool) -> None:
    import psycopg

    admin = urlunsplit(urlsplit(url)._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DB_NAME]).fetchone()
        if exists and reseed:
            conn.execute(f'DROP DATABASE "{DB_NAME}" WITH (FORCE)')
            exists = None
        if not exists:
            conn.execute(f'CREATE DATABASE "{DB_NAME}"')


def _manage(url: str, *args: str) -> None:
    env = {**os.environ, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "diplomacy_crm.settings", "DEBUG": "0",
           "SECRET_KEY": os.environ.get("SECRET_KEY", "bench-only-secret"), "HTTPS_ONLY": "0", "EMBEDDED_DEFAULTS": "1",
           "ALLOWED_HOSTS": "testserver,127.0.0.1,localhost"}
    subprocess.run([sys.executable, str(ROOT / "manage.py"), *args], cwd=ROOT, env=env, check=True)


def prepare(url: str, reseed: bool) -> None:
    _create_database(url, reseed)
    _manage(url, "migrate", "-v0")
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        count = conn.execute("SELECT count(*) FROM engagements_engagement").fetchone()[0]
        if count < round(ENGAGEMENTS_AT_SCALE_1 * SCALE):
            if count:
                raise SystemExit(f"{DB_NAME} holds {count} engagements; rerun with --reseed")
            started = time.perf_counter()
            _manage(url, "seed_bench", "--scale", str(SCALE))
            print(f"seeded in {time.perf_counter() - started:.1f} s")
        conn.execute("VACUUM ANALYZE")


def _setup_django(url: str) -> None:
    """Django on the benchmark database, DEBUG off."""
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "diplomacy_crm.settings")
    os.environ.setdefault("SECRET_KEY", "bench-only-secret")
    os.environ.setdefault("DEBUG", "0")
    os.environ.setdefault("HTTPS_ONLY", "0")
    os.environ.setdefault("EMBEDDED_DEFAULTS", "1")
    os.environ.setdefault("ALLOWED_HOSTS", "testserver,127.0.0.1,localhost")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.conf import settings

    if not (Path(settings.STATIC_ROOT) / "staticfiles.json").exists():
        # DEBUG=0 wants collectstatic's manifest; static URLs are not what is measured here.
        settings.STORAGES = {
            **settings.STORAGES,
            "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
        }


def measure(url: str, words: list[str], requests: int) -> dict:
    _setup_django(url)
    from django.contrib.auth import get_user_model
    from django.contrib.postgres.search import SearchQuery
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from dashboard.search import selectors as search
    from engagements.models import Engagement

    user = get_user_model().objects.filter(username__startswith="bench_staff_", is_active=True).order_by("pk").first()
    if user is None:
        raise SystemExit("no bench_staff_* user: was the database seeded with seed_bench?")
    client = Client()
    client.force_login(user)
    report = {"engagements": Engagement.objects.count(), "user": user.username, "requests": requests, "words": {}}
    for word in words:
        urls = {
            "search_all": f"/search/?q={word}",
            "search_engagements": f"/search/?q={word}&type=engagement",
            "list_q": f"/engagements/?q={word}",
            "list": "/engagements/",
        }
        timings = {name: [] for name in urls}
        queries = {}
        for name, url_ in urls.items():  # warm-up, and the query count of each
            with CaptureQueriesContext(connection) as ctx:
                response = client.get(url_, HTTP_HOST="testserver")
            assert response.status_code == 200, (url_, response.status_code)
            queries[name] = len(ctx)
        for _ in range(requests):
            for name, url_ in urls.items():
                started = time.perf_counter()
                response = client.get(url_, HTTP_HOST="testserver")
                timings[name].append((time.perf_counter() - started) * 1000)
        medians = {name: statistics.median(values) for name, values in timings.items()}
        engagement_type = search.TYPES_BY_KEY["engagement"]
        matches = (  # all of them, not only the CANDIDATES that are ranked
            search.visible_queryset(engagement_type, user)
            .alias(document=search.StoredVector())
            .filter(document=SearchQuery(word, config=search.SEARCH_CONFIG, search_type="websearch"))
            .count()
        )
        report["words"][word] = {
            "matching_engagements": matches,
            "median_ms": {k: round(v, 2) for k, v in medians.items()},
            "ratio_to_list": {k: round(v / medians["list"], 2) for k, v in medians.items()},
            "queries": queries,
        }
    report["explain"] = {}
    for word in words:
        for key in ("engagement", "commitment"):
            qs = search.postgres_queryset(search.TYPES_BY_KEY[key], user, word)[: search.PER_TYPE_LIMIT + 1]
            plan = qs.explain(analyze=True, buffers=True)
            report["explain"][f"{key} {word}"] = plan
            top = json.loads(qs.explain(analyze=True, buffers=True, format="json"))[0]
            report["words"][word][f"{key}_sql"] = {
                "ms": round(top["Execution Time"], 2),
                "shared_buffers": top["Plan"].get("Shared Hit Blocks", 0) + top["Plan"].get("Shared Read Blocks", 0),
                "reparses_text": "to_tsvector" in plan,
            }
    return report


def main() -> None:
    global DB_NAME, SCALE
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--words", default="hydrogen,earthquake,Tokyo")
    parser.add_argument("--reseed", action="store_true")
    parser.add_argument("--database", default=DB_NAME, help="the database to create/seed and measure")
    parser.add_argument("--scale", type=float, default=SCALE, help="seed_bench --scale when seeding")
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args()
    DB_NAME, SCALE = args.database, args.scale
    url = _server_url()
    prepare(url, args.reseed)
    report = measure(url, [w for w in args.words.split(",") if w], args.requests)
    print(f"\n{report['engagements']:,} engagements; user {report['user']}; {report['requests']} requests each (median)\n")
    print(f"{'word':<12} {'matches':>8}  " + "  ".join(f"{k:>22}" for k in ("search_all", "search_engagements", "list_q", "list")))
    for word, figures in report["words"].items():
        cells = [
            f"{figures['median_ms'][k]:8.1f} ms ×{figures['ratio_to_list'][k]:<5} q{figures['queries'][k]:<2}"
            for k in ("search_all", "search_engagements", "list_q", "list")
        ]
        print(f"{word:<12} {figures['matching_engagements']:>8}  " + "  ".join(f"{c:>22}" for c in cells))
    print(f"\n{'word':<12} {'engagement SQL':>28}  {'commitment SQL':>28}")
    for word, figures in report["words"].items():
        cells = [
            f"{figures[k]['ms']:8.2f} ms {figures[k]['shared_buffers']:>6} buf"
            + (" reparse" if figures[k]["reparses_text"] else "")
            for k in ("engagement_sql", "commitment_sql")
        ]
        print(f"{word:<12} " + "  ".join(f"{c:>28}" for c in cells))
    for name, plan in report["explain"].items():
        print(f"\nEXPLAIN (ANALYZE, BUFFERS) of the {name} search query:\n" + plan)
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
