"""docs/benchmarks.md from one run's results (bench/results/latest.json)."""

import json
import sys
from pathlib import Path


def _f(value, digits=2, suffix=""):
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.{digits}f}{suffix}"
    return f"{value}{suffix}"


def _pct(value):
    return "–" if value is None else f"{value * 100:.0f} %"


def write_markdown(result: dict, path: Path, findings: str | None = None) -> None:
    lines = (_machine_lines(result) + _throughput_lines(result) + _plan_lines(result) + import_lines(result)
             + _closing_lines(result, findings))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines))


def _machine_lines(result: dict) -> list[str]:
    """The machine, the run and the databases."""
    m = result["machine"]
    dbs = result["databases"]
    lines = [
        "# Benchmarks",
        "",
        "Written by `make bench` (`bench/run`); raw figures in `bench/results/latest.json` (git-ignored).",
        "How it measures: QUALITY.md test design 3.1; what each column means is below the tables.",
        "",
        "## Machine and run",
        "",
        f"- date: {m['date']}; commit `{m['git']}`{' + uncommitted changes' if m.get('git_dirty') else ''}",
        f"- {m['nproc']} CPUs (`nproc`), {m['memory_gib']} GiB memory, PostgreSQL {m['postgresql']}, "
        f"Python {m['python']}, kernel {m['kernel']}",
        f"- load average at start: {m['loadavg_at_start']} (the machine is shared; ratios within one run are "
        "what counts, absolute req/s are context)",
        f"- {result['rounds']} round(s); per endpoint and round `wrk -t1 -c8 -d{result['seconds']}s --latency` "
        "against each server, endpoints shuffled per round, the two scales back to back; then "
        f"`hey -z {result['latency_seconds']}s -c 4 -q 10` (~40 req/s, fixed rate) once per endpoint",
        "- servers: gunicorn `-w 2 --worker-class sync`, `DEBUG=0`, `HTTPS_ONLY=0`, `DB_CONN_MAX_AGE=600`, "
        "local-memory cache, API throttle raised out of the way; one real login per role, session cookie reused",
        f"- run time: {result.get('elapsed_s', 0) / 60:.1f} min",
        "",
        "| database | scale | partners | contacts | engagements | engagement-partner links | commitments | "
        "agreements | users | size | seeding |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for key, d in dbs.items():
        r = d["rows"]
        seeding = (
            f"reused (seeded {d.get('seeded_on')})"
            if d.get("reused")
            else f"seeded in {d.get('seed_s')} s (+ migrate {d.get('migrate_s')} s)"
        )
        lines.append(
            f"| `{d['db']}` | {d['scale']:g} | {r['partners_partner']:,} | {r['partners_contact']:,} | "
            f"{r['engagements_engagement']:,} | {r['engagements_engagement_partners']:,} | "
            f"{r['engagements_commitment']:,} | {r['partners_agreement']:,} | {r['auth_user']:,} | {d['size']} | "
            f"{seeding}; VACUUM ANALYZE {d['vacuum_analyze_s']} s |"
        )
    large = dbs.get("large", {}).get("prepared", {})
    if large:
        bp = large["busiest_partner"]
        lines += ["", f"Busiest partner at scale 1: id {bp['id']} with {bp['engagements']:,} engagements."]
    for note in result.get("notes", []):
        lines += ["", f"Note: {note}"]
    return lines


def _throughput_lines(result: dict) -> list[str]:
    """Throughput against the same-run baselines, one row per endpoint."""
    summary = result["summary"]
    lines = []
    lines += [
        "",
        "## Throughput relative to the same-run baselines (P3, P4)",
        "",
        "Ratios are medians over rounds of (endpoint req/s ÷ B1 req/s) in the same round; large/small likewise.",
        "Goals: lists and details ≥ 50 % of B1, dashboard ≥ 40 %, floor 25 %; scale 1 ≥ 0.8 × scale 0.01 "
        "(dashboard 0.7).",
        "",
        "| endpoint | role | req/s 0.01 | req/s 1 | ÷ B1 at 0.01 | ÷ B1 at 1 | goal | scale 1 ÷ 0.01 | "
        "p50 / p99 ms at 1 (wrk) | p95 ms fixed rate 0.01 → 1 | queries 0.01 / 1 | in-process ms 0.01 / 1 | verdict |",
        "|---|---|---:|---:|---:|---:|---:|---:|---|---|---|---|---|",
    ]
    eps = {ep["name"]: ep for ep in json.loads(json.dumps(result.get("endpoints_meta", [])))} if result.get(
        "endpoints_meta"
    ) else {}
    for name, row in summary.items():
        s, lg = row.get("small", {}), row.get("large", {})
        verdicts = []
        if row.get("goal_b1") is not None:
            v = lg.get("verdict") or s.get("verdict")
            verdicts.append(v)
        if row.get("scale_verdict") and row["scale_verdict"] != "ok":
            verdicts.append("scale " + row["scale_verdict"])
        if row.get("queries_equal") is False:
            verdicts.append("QUERY COUNT DIFFERS")
        verdict = ", ".join(v for v in verdicts if v) or ("baseline" if row["kind"] == "baseline" else "ok")
        role = (eps.get(name) or {}).get("role") or ("viewer" if name.startswith("viewer") else
                                                      ("–" if name.startswith("B0") else "officer"))
        lines.append(
            f"| {name} | {role} | {_f(s.get('rps_median'), 0)} | {_f(lg.get('rps_median'), 0)} | "
            f"{_pct(s.get('ratio_b1'))} | {_pct(lg.get('ratio_b1'))} | {_pct(row.get('goal_b1'))} | "
            f"{_f(row.get('large_over_small'))} | {_f(lg.get('p50_ms'), 1)} / {_f(lg.get('p99_ms'), 1)} | "
            f"{_f(s.get('fixed_p95_ms'), 1)} → {_f(lg.get('fixed_p95_ms'), 1)} | "
            f"{_f(row.get('queries_small'))} / {_f(row.get('queries_large'))} | "
            f"{_f(row.get('inproc_ms_small'), 1)} / {_f(row.get('inproc_ms_large'), 1)} | {verdict} |"
        )
    return lines


def _plan_lines(result: dict) -> list[str]:
    """Query plans and the jobs at scale 1."""
    lines = []
    inp = result.get("inproc", {})
    if "large" in inp:
        big = inp["large"]
        lines += ["", "## Query plans at scale 1 (P5, P6)", ""]
        rp = big.get("reminder_plan")
        if rp:
            ok = not rp["big_seq_scans"] and rp["buffer_share"] <= 0.02
            lines += [
                "Reminder scan, due-commitment selection (`notifications.selectors.due_commitments`): "
                f"{rp['execution_ms']} ms, indexes {', '.join(f'`{i}`' for i in rp['indexes']) or 'none'}, "
                f"{rp['shared_hit'] + rp['shared_read']} shared buffers = {rp['buffer_share'] * 100:.1f} % of "
                f"`{rp['table']}`'s {rp['table_pages']} pages (goal ≤ 2 %), "
                f"seq scans on big tables: {', '.join(rp['big_seq_scans']) or 'none'} → "
                f"**{'ok' if ok else 'FAILS P6'}**.",
                "",
            ]
        lines += [
            "Every SELECT a page runs (officer unless noted), `EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON)`; "
            "a Seq Scan on a table above 10,000 rows is flagged.",
            "",
            "| page | query | ms | buffers | indexes used | Seq Scan on big table |",
            "|---|---:|---:|---:|---|---|",
        ]
        for name, entry in big["endpoints"].items():
            for i, plan in enumerate(entry.get("plans", []), 1):
                if plan["execution_ms"] < 0.5 and not plan["big_seq_scans"]:
                    continue  # session, user, permissions: sub-millisecond, not worth a row
                lines.append(
                    f"| {name} | {i} | {plan['execution_ms']:.1f} | {plan['shared_hit'] + plan['shared_read']} | "
                    f"{', '.join(f'`{x}`' for x in plan['indexes']) or '–'} | "
                    f"{'**' + ', '.join(plan['big_seq_scans']) + '**' if plan['big_seq_scans'] else '–'} |"
                )
        lines += ["", "(Queries under 0.5 ms without a big Seq Scan are left out; all are in latest.json.)"]
        notif = big.get("notifications")
        if notif:
            lines += [
                "",
                "## Jobs at scale 1 (P7, P8), in a transaction rolled back afterwards",
                "",
                "| job | service | wall time | queries | rows |",
                "|---|---|---:|---:|---|",
            ]
            r = notif["reminder_scan"]
            lines.append(f"| reminder scan | `{r['service']}` | {r['wall_s']} s | {r['queries']} | "
                         f"{r['outbox_rows_written']:,} outbox rows |")
            d = notif["digest_build"]
            lines.append(f"| weekly digest, build | `{d['service']}` | {d['wall_s']} s | {d['queries']} | "
                         f"{d['digests']} digests |")
            e = notif["digest_enqueue"]
            lines.append(f"| weekly digest, build + enqueue | `{e['service']}` | {e['wall_s']} s | {e['queries']} | "
                         f"{e['outbox_rows_written']:,} outbox rows |")
            big_digest = [p for p in d.get("plans", []) if p["big_seq_scans"]]
            if big_digest:
                lines += ["", "Digest queries with a Seq Scan on a big table: " + "; ".join(
                    f"{p['execution_ms']} ms on {', '.join(p['big_seq_scans'])}" for p in big_digest)]
            lines += ["", "Sending (SMTP) is not part of this figure; the outbox rows are rolled back."]
    return lines


def import_lines(result: dict) -> list[str]:
    """Import speed (bench/import_bench.py): rows/s of partners and engagements, import and re-import."""
    figures = result.get("import")
    if not figures:
        return []
    lines = [
        "",
        f"## Import speed ({figures['rows']:,} rows per file)",
        "",
        "`bench/import_bench.py` on its own database: a generated CSV of partners (kind, country by name or "
        "alias, topics, external id), then one of engagements naming one or two of them and a topic; each "
        "imported (one transaction, the bulk writes of `diplomacy_crm/bulk.py`, one history row per record) "
        "and imported again (writes nothing: 0 created, 0 updated, no history row — asserted). "
        f"Required: at least 200 rows/s on an import. Load average {figures.get('loadavg_at_start')} at its "
        f"start, {figures.get('loadavg_at_end')} at its end.",
        "",
        "| run | rows | seconds | rows/s | SQL queries |",
        "|---|---:|---:|---:|---:|",
    ]
    for run in figures["runs"]:
        lines.append(f"| {run['run']} | {run['rows']:,} | {run['seconds']} | {run['rows_per_s']:,} | {run['queries']} |")
    return lines


def _closing_lines(result: dict, findings: str | None) -> list[str]:
    """Failures, findings and what the columns mean."""
    lines = []
    if result.get("failures"):
        lines += ["", "## Failures", ""] + [f"- {f}" for f in result["failures"]]
    if findings:
        lines += ["", findings.strip()]
    findings_file = Path(__file__).resolve().parent / "findings.md"
    if findings is None and findings_file.exists():
        lines += ["", findings_file.read_text().strip()]
    lines += [
        "",
        "## Columns",
        "",
        "- B0 = `/healthz` (no session; it runs `SELECT 1` and a broker check), B1 = `/accounts/password_change/` "
        "(session + user + a small form): the same-run baselines.",
        "- ÷ B1: median over rounds of the endpoint's req/s over B1's in that round, per server.",
        "- scale 1 ÷ 0.01: median over rounds of req/s at scale 1 over req/s at scale 0.01 (P4).",
        "- p95 fixed rate: `hey -c 4 -q 10`, ~40 req/s, below saturation (P4 wants ≤ 1.5× from 0.01 to 1).",
        "- queries: Django test client + `CaptureQueriesContext` in-process (not HTTP), including session and "
        "user lookups; must be equal at both scales (P1).",
        "- in-process ms: median of 10 test-client GETs after a warm-up (P5: dashboard ≤ 3× a list page).",
        "",
    ]
    return lines

if __name__ == "__main__":
    data = json.loads(Path(sys.argv[1] if len(sys.argv) > 1 else "bench/results/latest.json").read_text())
    write_markdown(data, Path(sys.argv[2] if len(sys.argv) > 2 else "docs/benchmarks.md"))
