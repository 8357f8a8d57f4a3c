"""The in-process half of the benchmark: run inside Django against one database.

    python bench/inproc.py prepare  --out FILE
    python bench/inproc.py measure  --endpoints FILE --out FILE [--explain] [--notifications] [--repeat N]

`prepare` finds the users to log in as, their API tokens, the busiest partner
and whether /search/ exists. `measure` counts the SQL queries of every
endpoint with Django's test client (CaptureQueriesContext, not HTTP), times it
in-process, EXPLAINs the hot queries (ANALYZE, BUFFERS, FORMAT JSON) and runs
the reminder scan and the weekly digest in a transaction that is rolled back,
so the database stays reusable. Everything is written as JSON to --out.

bench/run calls it with DATABASE_URL pointing at crm_bench_small or
crm_bench_large; it is not meant for production databases (it creates API
tokens and sessions for the bench users).
"""

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "diplomacy_crm.settings")

import django  # noqa: E402

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.db.models import Count  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.urls import Resolver404, resolve  # noqa: E402
from django.utils import timezone  # noqa: E402

SEARCH_TERMS = ("hydrogen", "Tokyo", "Ministry")
BIG_TABLE_ROWS = 10_000


def _first_user(prefix: str):
    User = get_user_model()
    return User.objects.filter(username__startswith=prefix, is_active=True).order_by("pk").first()


def prepare() -> dict:
    from rest_framework.authtoken.models import Token

    from engagements.models import Engagement

    users = {}
    for role, prefix in (("officer", "bench_officer_"), ("viewer", "bench_viewer_"), ("staff", "bench_staff_")):
        user = _first_user(prefix)
        if user is None:
            raise SystemExit(f"no active user named {prefix}*: was this database seeded with seed_bench?")
        token, _ = Token.objects.get_or_create(user=user)
        users[role] = {"id": user.pk, "username": user.username, "token": token.key}
    through = Engagement.partners.through
    busiest = (
        through.objects.values("partner_id").annotate(n=Count("id")).order_by("-n", "partner_id").first()
    )
    try:
        resolve("/search/")
        search = True
    except Resolver404:
        search = False
    return {
        "users": users,
        "busiest_partner": {"id": busiest["partner_id"], "engagements": busiest["n"]},
        "search": search,
        "search_term": SEARCH_TERMS[0],
    }


# ---------------------------------------------------------------- plans


def _relation_sizes() -> dict:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname, c.reltuples::bigint, c.relpages FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public' AND c.relkind = 'r'"
        )
        return {name: {"rows": rows, "pages": pages} for name, rows, pages in cursor.fetchall()}


def _walk(node, found):
    found.append(node)
    for child in node.get("Plans", ()):
        _walk(child, found)
    return found


def summarize_plan(plan_json, sizes: dict) -> dict:
    root = plan_json[0]
    top = root["Plan"]
    nodes = _walk(top, [])
    indexes = sorted({n["Index Name"] for n in nodes if "Index Name" in n})
    seq_scans = []
    for n in nodes:
        if n.get("Node Type") == "Seq Scan":
            rel = n.get("Relation Name")
            rows = sizes.get(rel, {}).get("rows", 0)
            seq_scans.append({"relation": rel, "table_rows": rows, "big": rows > BIG_TABLE_ROWS})
    jit = root.get("JIT") or {}
    return {
        "execution_ms": round(root.get("Execution Time", 0.0), 3),
        # PostgreSQL's JIT compiles expensive plans on every execution: part of execution_ms.
        "jit_ms": round((jit.get("Timing") or {}).get("Total", 0.0), 1),
        "planning_ms": round(root.get("Planning Time", 0.0), 3),
        "root_node": top.get("Node Type"),
        "shared_hit": top.get("Shared Hit Blocks", 0),
        "shared_read": top.get("Shared Read Blocks", 0),
        "indexes": indexes,
        "seq_scans": seq_scans,
        "big_seq_scans": [s["relation"] for s in seq_scans if s["big"]],
        "node_types": sorted({n["Node Type"] for n in nodes}),
    }


def explain_sql(sql: str, sizes: dict) -> dict | None:
    stripped = sql.lstrip(" (\n").upper()  # a UNION starts with "(SELECT"
    if not stripped.startswith("SELECT") and not stripped.startswith("WITH"):
        return None
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + sql)
            plan = cursor.fetchone()[0]
        transaction.set_rollback(True)
    if isinstance(plan, str):
        plan = json.loads(plan)
    summary = summarize_plan(plan, sizes)
    summary["sql"] = sql if len(sql) < 4000 else sql[:4000] + " …"
    return summary


# ---------------------------------------------------------------- endpoints


def _client_for(endpoint: dict, users: dict, prepared: dict) -> Client:
    client = Client()
    role = endpoint.get("role")
    if endpoint.get("auth") == "token":
        token = prepared["users"][role]["token"]
        client.defaults["HTTP_AUTHORIZATION"] = f"Token {token}"
    elif role:
        client.force_login(users[role])
    return client


def measure(endpoints: list[dict], prepared: dict, *, explain: bool, notifications: bool, repeat: int) -> dict:
    User = get_user_model()
    users = {role: User.objects.get(pk=info["id"]) for role, info in prepared["users"].items()}
    postgres = connection.vendor == "postgresql"
    sizes = _relation_sizes() if postgres else {}
    results = {}
    for endpoint in endpoints:
        client = _client_for(endpoint, users, prepared)
        client.get(endpoint["path"])  # warm: permission caches, template loading, connection
        with CaptureQueriesContext(connection) as captured:
            response = client.get(endpoint["path"])
        # Copy now: every request start empties connection.queries (reset_queries).
        queries = list(captured.captured_queries)
        timings = []
        for _ in range(repeat):
            t0 = time.perf_counter()
            client.get(endpoint["path"])
            timings.append((time.perf_counter() - t0) * 1000)
        entry = {
            "path": endpoint["path"],
            "role": endpoint.get("role"),
            "status": response.status_code,
            "queries": len(queries),
            "sql_ms": round(sum(float(q.get("time") or 0) for q in queries) * 1000, 2),
            "query_ms": [round(float(q.get("time") or 0) * 1000, 1) for q in queries],
            "inproc_ms_median": round(statistics.median(timings), 2) if timings else None,
            "bytes": len(response.content),
        }
        if explain and postgres and endpoint.get("explain"):
            plans = []
            for q in queries:
                summary = explain_sql(q["sql"], sizes)
                if summary:
                    plans.append(summary)
            entry["plans"] = plans
        results[endpoint["name"]] = entry
    out = {"endpoints": results, "relations": sizes}
    if postgres and explain:
        out["reminder_plan"] = reminder_plan(sizes)
    if notifications:
        out["notifications"] = run_notifications(sizes if postgres and explain else None)
    return out


# ---------------------------------------------------------------- notifications


def reminder_plan(sizes: dict) -> dict:
    """EXPLAIN of the reminder scan's due-commitment selection (P6), with its buffer share of the table."""
    from diplomacy_crm.officetime import office_today
    from notifications.selectors import due_commitments

    from engagements.models import Commitment

    qs = due_commitments(office_today(timezone.now()))
    plan = json.loads(qs.explain(format="json", analyze=True, buffers=True))
    summary = summarize_plan(plan, sizes)
    table = Commitment._meta.db_table
    pages = sizes.get(table, {}).get("pages") or 1
    summary["table"] = table
    summary["table_pages"] = pages
    summary["buffer_share"] = round((summary["shared_hit"] + summary["shared_read"]) / pages, 4)
    summary["sql"] = str(qs.query)
    return summary


def run_notifications(sizes: dict | None) -> dict:
    """The reminder scan and the weekly digest, timed and counted, then rolled back."""
    from notifications import services
    from notifications.digest import build_weekly_digests
    from notifications.models import OutboxMessage

    now = timezone.now()
    out = {}
    with transaction.atomic():
        before = OutboxMessage.objects.count()
        with CaptureQueriesContext(connection) as q:
            t0 = time.perf_counter()
            written = services.enqueue_due_reminders(now=now)
            elapsed = time.perf_counter() - t0
        out["reminder_scan"] = {
            "service": "notifications.services.enqueue_due_reminders",
            "wall_s": round(elapsed, 3),
            "queries": len(q.captured_queries),
            "outbox_rows_written": written,
            "outbox_rows_before": before,
        }
        with CaptureQueriesContext(connection) as q:
            t0 = time.perf_counter()
            digests = build_weekly_digests(now=now)
            elapsed = time.perf_counter() - t0
        out["digest_build"] = {
            "service": "notifications.digest.build_weekly_digests",
            "wall_s": round(elapsed, 3),
            "queries": len(q.captured_queries),
            "digests": len(digests),
        }
        if sizes is not None:
            plans = [explain_sql(x["sql"], sizes) for x in q.captured_queries]
            out["digest_build"]["plans"] = [p for p in plans if p]
        with CaptureQueriesContext(connection) as q:
            t0 = time.perf_counter()
            written = services.enqueue_weekly_digests(now=now)
            elapsed = time.perf_counter() - t0
        out["digest_enqueue"] = {
            "service": "notifications.services.enqueue_weekly_digests",
            "wall_s": round(elapsed, 3),
            "queries": len(q.captured_queries),
            "outbox_rows_written": written,
        }
        transaction.set_rollback(True)
    out["rolled_back"] = True
    return out


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("command", choices=["prepare", "measure"])
    parser.add_argument("--out", required=True)
    parser.add_argument("--endpoints")
    parser.add_argument("--prepared")
    parser.add_argument("--explain", action="store_true")
    parser.add_argument("--notifications", action="store_true")
    parser.add_argument("--repeat", type=int, default=10)
    args = parser.parse_args()
    if args.command == "prepare":
        result = prepare()
    else:
        endpoints = json.loads(Path(args.endpoints).read_text())
        prepared = json.loads(Path(args.prepared).read_text())
        result = measure(
            endpoints, prepared, explain=args.explain, notifications=args.notifications, repeat=args.repeat
        )
    Path(args.out).write_text(json.dumps(result, indent=1, default=str))


if __name__ == "__main__":
    main()
