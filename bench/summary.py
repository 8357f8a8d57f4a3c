"""The benchmark's verdicts: medians over rounds of each endpoint's ratio to the baselines, against the goals."""

import statistics

# Goals of QUALITY.md (P3, P4).
GOAL_LIST = 0.50
GOAL_DASHBOARD = 0.40
FLOOR = 0.25
GOAL_SCALE = 0.8
GOAL_SCALE_DASHBOARD = 0.7


def _ratios(top, bottom):
    return [a / b for a, b in zip(top, bottom) if a and b]


def _median(values):
    values = [v for v in values if v is not None]
    return round(statistics.median(values), 3) if values else None


def summarize(result: dict, names: list[str], eps: list[dict]) -> dict:
    """Median over rounds of each endpoint's ratio to B1 (and B0), and of large/small."""
    kinds = {ep["name"]: ep["kind"] for ep in eps}
    summary = {}
    wrk = result["wrk"]
    for key in wrk:
        b1 = [r["rps"] for r in wrk[key]["B1 password_change"]]
        b0 = [r["rps"] for r in wrk[key]["B0 /healthz"]]
        for n in names:
            rps = [r["rps"] for r in wrk[key][n]]
            row = summary.setdefault(n, {"kind": kinds[n]})
            row[key] = {
                "rps_median": _median(rps),
                "rps_rounds": rps,
                "ratio_b1": _median(_ratios(rps, b1)),
                "ratio_b1_range": [round(min(_ratios(rps, b1) or [0]), 3), round(max(_ratios(rps, b1) or [0]), 3)],
                "ratio_b0": _median(_ratios(rps, b0)),
                "p50_ms": _median([r["p50_us"] / 1000 for r in wrk[key][n]]),
                "p99_ms": _median([r["p99_us"] / 1000 for r in wrk[key][n]]),
            }
            lat = result.get("latency", {}).get(key, {}).get(n)
            if lat:
                row[key]["fixed_p50_ms"] = lat["p50_ms"]
                row[key]["fixed_p95_ms"] = lat["p95_ms"]
    if "small" in wrk and "large" in wrk:
        for n in names:
            s = [r["rps"] for r in wrk["small"][n]]
            lg = [r["rps"] for r in wrk["large"][n]]
            row = summary[n]
            row["large_over_small"] = _median(_ratios(lg, s))
            ls, ll = row["small"].get("fixed_p95_ms"), row["large"].get("fixed_p95_ms")
            row["p95_large_over_small"] = round(ll / ls, 2) if ls and ll else None
    for n, row in summary.items():
        kind = row["kind"]
        goal = GOAL_DASHBOARD if kind == "dashboard" else GOAL_LIST if kind in ("list", "detail") else None
        scale_goal = GOAL_SCALE_DASHBOARD if kind == "dashboard" else GOAL_SCALE
        row["goal_b1"] = goal
        for key in ("small", "large"):
            if key in row and goal is not None and row[key]["ratio_b1"] is not None:
                ratio = row[key]["ratio_b1"]
                row[key]["verdict"] = "ok" if ratio >= goal else ("below goal" if ratio >= FLOOR else "DEFECT (< floor)")
        if row.get("large_over_small") is not None and kind != "baseline":
            row["scale_goal"] = scale_goal
            row["scale_verdict"] = "ok" if row["large_over_small"] >= scale_goal else "below goal"
    inp = result.get("inproc", {})
    if "small" in inp and "large" in inp:
        for n, row in summary.items():
            qs, ql = inp["small"]["endpoints"].get(n, {}), inp["large"]["endpoints"].get(n, {})
            row["queries_small"], row["queries_large"] = qs.get("queries"), ql.get("queries")
            row["queries_equal"] = qs.get("queries") == ql.get("queries")
            row["inproc_ms_small"], row["inproc_ms_large"] = qs.get("inproc_ms_median"), ql.get("inproc_ms_median")
    return summary
