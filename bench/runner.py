"""The benchmark suite (`make bench`, i.e. bench/run): throughput, latency, queries, plans, jobs.

One run, on PostgreSQL (QUALITY.md, test design 3.1):
1. seed crm_bench_small (scale 0.01) and crm_bench_large (scale 1) once; a
   marker in the database comment says which seed_bench version and scale it
   holds, so later runs reuse it; then migrate, VACUUM ANALYZE;
2. serve each with gunicorn (-w 2 --worker-class sync, DEBUG=0, HTTPS_ONLY=0,
   persistent connections) on 127.0.0.1:8801 (small) and :8802 (large);
3. log in once per role over HTTP and reuse the session cookie;
4. per round, in a shuffled order of endpoints, wrk both servers back to
   back (`wrk -t1 -c8 -d$BENCH_SECONDS --latency`); then one fixed-rate
   latency run per endpoint and server (`hey -c 4 -q 10`, ~40 req/s);
   any non-2xx response fails the bench;
5. in-process: query counts per page at both scales (test client +
   CaptureQueriesContext), EXPLAIN (ANALYZE, BUFFERS) of the hot queries, and
   at scale 1 the reminder scan and the weekly digest (rolled back);
6. import speed (bench/import_bench.py): 10,000 partners, 10,000 engagements; < 200 rows/s fails;
7. write bench/results/latest.json and docs/benchmarks.md.

Environment: BENCH_ROUNDS (3), BENCH_SECONDS (8), BENCH_LATENCY_SECONDS (4),
BENCH_SMOKE=1 (scale 0.01 only, 1 round, 2 s, no latency/EXPLAIN/jobs; writes
bench/results/smoke.json and leaves docs/benchmarks.md alone),
BENCH_LARGE_SCALE (1), BENCH_PG (postgres://postgres@127.0.0.1:5432), BENCH_IMPORT_ROWS (10000, smoke 200, 0: none).
"""

import datetime as dt
import http.cookiejar
import json
import os
import platform
import random
import re
import secrets
import shutil
import signal
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
RESULTS = BENCH / "results"
PY = str(ROOT / ".venv" / "bin" / "python")
GUNICORN = str(ROOT / ".venv" / "bin" / "gunicorn")

SMOKE = os.environ.get("BENCH_SMOKE") == "1"
ROUNDS = 1 if SMOKE else int(os.environ.get("BENCH_ROUNDS", "3"))
SECONDS = 2 if SMOKE else int(os.environ.get("BENCH_SECONDS", "8"))
LATENCY_SECONDS = 0 if SMOKE else int(os.environ.get("BENCH_LATENCY_SECONDS", "4"))
PG = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432").rstrip("/")
PASSWORD = "bench-password-2028"  # seed_bench.BENCH_PASSWORD
SEED = 2028

DATABASES = [
    {"key": "small", "db": "crm_bench_small", "scale": 0.01, "port": 8801},
    {"key": "large", "db": "crm_bench_large", "scale": float(os.environ.get("BENCH_LARGE_SCALE", "1")), "port": 8802},
]
if SMOKE:
    DATABASES = DATABASES[:1]
IMPORT_DB, IMPORT_MIN_ROWS_PER_S = "crm_bench_import", 200  # issue 16: importing partners or engagements
IMPORT_ROWS = int(os.environ.get("BENCH_IMPORT_ROWS", "200" if SMOKE else "10000"))


def log(msg: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", flush=True)


def seed_version() -> int:
    text = (ROOT / "devdata/management/commands/seed_bench.py").read_text()
    return int(re.search(r"^SEED_VERSION = (\d+)", text, re.M).group(1))


# ---------------------------------------------------------------- databases


def psql(sql: str, db: str = "postgres") -> str:
    out = subprocess.run(
        ["psql", f"{PG}/{db}", "-v", "ON_ERROR_STOP=1", "-tAqc", sql], capture_output=True, text=True
    )
    if out.returncode != 0:
        raise SystemExit(f"psql failed on {db}: {out.stderr.strip()}")
    return out.stdout.strip()


def django_env(db: str, **extra) -> dict:
    env = dict(os.environ)
    env.update(
        DATABASE_URL=f"{PG}/{db}",
        DEBUG="0",
        HTTPS_ONLY="0",
        EMBEDDED_DEFAULTS="1",  # no broker or mail server in the bench
        SECRET_KEY=env.get("BENCH_SECRET_KEY") or secrets.token_urlsafe(40),
        ALLOWED_HOSTS="127.0.0.1,localhost,testserver",
        SITE_URL="http://127.0.0.1",
        DB_CONN_MAX_AGE="600",
        # The API throttle (600/min per user) would answer 429 under load: the
        # bench measures the pages, not the throttle (its cache lookups still run).
        API_THROTTLE_USER="100000000/min",
        API_THROTTLE_ANON="100000000/min",
        AXES_ENABLED="1",
        LOG_LEVEL="WARNING",
        VAR_DIR=str(RESULTS / f"var-{db}"),
        PYTHONUNBUFFERED="1",
    )
    # Local-memory cache and the embedded broker: the two servers must not
    # share a Redis cache (their keys would collide across databases).
    env.pop("REDIS_URL", None)
    env.update(extra)
    return env


def manage(db: str, *args, capture=False) -> subprocess.CompletedProcess:
    out = subprocess.run(
        [PY, "manage.py", *args], cwd=ROOT, env=django_env(db), capture_output=capture, text=True
    )
    if out.returncode != 0:
        if capture:
            sys.stderr.write(out.stdout + out.stderr)
        raise SystemExit(f"manage.py {' '.join(args)} failed on {db}")
    return out


def ensure_seeded(spec: dict) -> dict:
    db, scale = spec["db"], spec["scale"]
    marker = f"seed_bench v{seed_version()} scale={scale:g} seed={SEED}"
    exists = psql(f"SELECT 1 FROM pg_database WHERE datname = '{db}'") == "1"
    current = psql(f"SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = '{db}'") if exists else ""
    info = {"db": db, "scale": scale, "marker": marker}
    if exists and current.startswith(marker):
        log(f"{db}: reusing ({current})")
        t0 = time.time()
        manage(db, "migrate", "--noinput", "-v0")
        info.update(reused=True, seeded_on=current.split("on=")[-1], migrate_s=round(time.time() - t0, 1))
    else:
        log(f"{db}: (re)creating and seeding at scale {scale:g} (marker was {current!r})")
        psql(f'DROP DATABASE IF EXISTS "{db}"')
        psql(f'CREATE DATABASE "{db}"')
        t0 = time.time()
        manage(db, "migrate", "--noinput", "-v0")
        migrate_s = time.time() - t0
        t0 = time.time()
        out = manage(db, "seed_bench", "--scale", f"{scale:g}", "--seed", str(SEED), capture=True)
        seed_s = time.time() - t0
        print(out.stdout, flush=True)
        today = dt.date.today().isoformat()
        psql(f"COMMENT ON DATABASE \"{db}\" IS '{marker} on={today}'")
        info.update(reused=False, seeded_on=today, migrate_s=round(migrate_s, 1), seed_s=round(seed_s, 1),
                    seed_output=out.stdout)
    t0 = time.time()
    psql("VACUUM ANALYZE", db)
    info["vacuum_analyze_s"] = round(time.time() - t0, 1)
    info["rows"] = {
        table: int(psql(f'SELECT count(*) FROM "{table}"', db))
        for table in (
            "partners_partner", "partners_contact", "engagements_engagement", "engagements_engagement_partners",
            "engagements_commitment", "partners_agreement", "auth_user",
        )
    }
    info["size"] = psql(f"SELECT pg_size_pretty(pg_database_size('{db}'))")
    return info


def static_is_fresh() -> bool:
    """True when staticfiles/staticfiles.json is newer than every file of the project's static dirs."""
    manifest = ROOT / "staticfiles" / "staticfiles.json"
    if not manifest.exists():
        return False
    newest = 0.0
    for folder in [ROOT / "static", *ROOT.glob("*/static")]:
        for path in folder.rglob("*"):
            if path.is_file():
                newest = max(newest, path.stat().st_mtime)
    return newest <= manifest.stat().st_mtime


# ---------------------------------------------------------------- servers


def start_server(spec: dict) -> subprocess.Popen:
    logfile = open(RESULTS / f"gunicorn-{spec['key']}.log", "w")
    proc = subprocess.Popen(
        [GUNICORN, "-w", "2", "--worker-class", "sync", "-b", f"127.0.0.1:{spec['port']}",
         "--log-level", "warning", "--timeout", "60", "diplomacy_crm.wsgi"],
        cwd=ROOT, env=django_env(spec["db"]), stdout=logfile, stderr=subprocess.STDOUT, start_new_session=True,
    )
    deadline = time.time() + 60
    while time.time() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"gunicorn on {spec['port']} exited; see {logfile.name}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{spec['port']}/healthz", timeout=2) as r:
                if r.status == 200:
                    return proc
        except OSError:
            time.sleep(0.5)
    raise SystemExit(f"gunicorn on {spec['port']} did not answer /healthz in 60 s")


def stop_server(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def login(port: int, username: str) -> str:
    """A real login over HTTP (CSRF token, password check, axes): returns the session id."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), _NoRedirect)
    base = f"http://127.0.0.1:{port}"
    page = opener.open(f"{base}/accounts/login/", timeout=30).read().decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    body = urllib.parse.urlencode({"username": username, "password": PASSWORD, "csrfmiddlewaretoken": token}).encode()
    req = urllib.request.Request(f"{base}/accounts/login/", data=body, headers={"Referer": f"{base}/accounts/login/"})
    try:
        opener.open(req, timeout=30)
    except urllib.error.HTTPError as exc:  # the 302 after a good login lands here (no redirect handler)
        if exc.code != 302:
            raise
    session = next((c.value for c in jar if c.name == "sessionid"), None)
    if not session:
        raise SystemExit(f"login as {username} on {port} failed (no session cookie)")
    return session


def headers_for(endpoint: dict, auth: dict) -> dict:
    role = endpoint.get("role")
    if not role:
        return {}
    if endpoint.get("auth") == "token":
        return {"Authorization": f"Token {auth[role]['token']}"}
    return {"Cookie": f"sessionid={auth[role]['session']}"}


def preflight(port: int, endpoint: dict, auth: dict) -> dict:
    opener = urllib.request.build_opener(_NoRedirect)
    req = urllib.request.Request(f"http://127.0.0.1:{port}{endpoint['path']}", headers=headers_for(endpoint, auth))
    t0 = time.perf_counter()
    try:
        with opener.open(req, timeout=60) as r:
            body = r.read()
            return {"status": r.status, "bytes": len(body), "first_ms": round((time.perf_counter() - t0) * 1000, 1)}
    except urllib.error.HTTPError as exc:
        return {"status": exc.code, "bytes": 0, "first_ms": None}


def wait_idle(port: int, limit: float = 90.0) -> float:
    """Wait until gunicorn has worked off the requests wrk left queued (sync workers finish them all).

    Without this, a slow page's backlog would be billed to the next endpoint.
    Idle = two quick /healthz answers in a row. Returns the seconds waited.
    """
    t_start = time.perf_counter()
    quick = 0
    while time.perf_counter() - t_start < limit and quick < 2:
        t0 = time.perf_counter()
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=limit).read()
        except OSError:
            pass
        quick = quick + 1 if time.perf_counter() - t0 < 0.25 else 0
    return round(time.perf_counter() - t_start, 2)


def run_wrk(port: int, endpoint: dict, auth: dict, seconds: int) -> dict:
    cmd = ["wrk", "-t1", "-c8", f"-d{seconds}s", "--latency", "--timeout", "30s", "-s", str(BENCH / "wrk_report.lua")]
    for name, value in headers_for(endpoint, auth).items():
        cmd += ["-H", f"{name}: {value}"]
    cmd.append(f"http://127.0.0.1:{port}{endpoint['path']}")
    out = subprocess.run(cmd, capture_output=True, text=True)
    line = next((ln for ln in out.stdout.splitlines() if ln.startswith("WRKJSON ")), None)
    if not line:
        raise SystemExit(f"wrk gave no result for {endpoint['path']}: {out.stdout}{out.stderr}")
    data = json.loads(line[len("WRKJSON "):])
    data["rps"] = round(data["requests"] / (data["duration_us"] / 1e6), 1)
    data["drain_s"] = wait_idle(port)
    return data


def run_hey(port: int, endpoint: dict, auth: dict, seconds: int) -> dict:
    cmd = ["hey", "-z", f"{seconds}s", "-c", "4", "-q", "10", "-t", "20"]
    for name, value in headers_for(endpoint, auth).items():
        cmd += ["-H", f"{name}: {value}"]
    cmd.append(f"http://127.0.0.1:{port}{endpoint['path']}")
    out = subprocess.run(cmd, capture_output=True, text=True).stdout
    wait_idle(port)
    pct = {int(p): float(s) * 1000 for p, s in re.findall(r"\s(\d+)%+ in ([\d.]+) secs", out)}
    codes = {int(c): int(n) for c, n in re.findall(r"\[(\d+)\]\s+(\d+) responses", out)}
    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    return {
        "rps": float(rps.group(1)) if rps else None,
        "p50_ms": pct.get(50), "p95_ms": pct.get(95), "p99_ms": pct.get(99),
        "codes": codes,
        "non2xx": sum(n for c, n in codes.items() if not 200 <= c < 300),
        "errors": "Error distribution" in out,
    }


# ---------------------------------------------------------------- endpoints


def inproc(db: str, *args) -> dict:
    out_file = RESULTS / f"inproc-{db}-{args[0]}.json"
    proc = subprocess.run(
        [PY, str(BENCH / "inproc.py"), *args, "--out", str(out_file)], cwd=ROOT, env=django_env(db),
        capture_output=True, text=True,
    )
    if proc.returncode != 0:
        sys.stderr.write(proc.stdout + proc.stderr)
        raise SystemExit(f"bench/inproc.py {args[0]} failed on {db}")
    return json.loads(out_file.read_text())


# ---------------------------------------------------------------- main


def machine() -> dict:
    mem = next((ln.split()[1] for ln in Path("/proc/meminfo").read_text().splitlines() if ln.startswith("MemTotal")), "0")
    load = os.getloadavg()
    return {
        "nproc": os.cpu_count(),
        "memory_gib": round(int(mem) / 1024 / 1024, 1),
        "postgresql": psql("SHOW server_version"),
        "python": platform.python_version(),
        "kernel": platform.release(),
        "date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "git": subprocess.run(["git", "log", "-1", "--format=%h %s"], cwd=ROOT, capture_output=True, text=True).stdout.strip(),
        "git_dirty": bool(subprocess.run(["git", "status", "--porcelain"], cwd=ROOT, capture_output=True, text=True).stdout.strip()),
        "loadavg_at_start": [round(x, 2) for x in load],
        "wrk": subprocess.run(["wrk", "-v"], capture_output=True, text=True).stdout.splitlines()[0:1],
    }


def main() -> int:
    for tool in ("wrk", "psql") + (() if SMOKE else ("hey",)):
        if not shutil.which(tool):
            raise SystemExit(f"{tool} is not installed (apt-get install -y wrk hey postgresql-client)")
    RESULTS.mkdir(parents=True, exist_ok=True)
    started = time.time()
    result = {"smoke": SMOKE, "rounds": ROUNDS, "seconds": SECONDS, "latency_seconds": LATENCY_SECONDS,
              "machine": machine(), "databases": {}, "failures": []}
    log(f"{'SMOKE ' if SMOKE else ''}bench: {ROUNDS} round(s) x {SECONDS}s, machine {result['machine']['nproc']} CPUs")

    for spec in DATABASES:
        result["databases"][spec["key"]] = ensure_seeded(spec)
    if static_is_fresh():
        log("collectstatic: manifest newer than every static file, skipped")
    else:
        log("collectstatic (whitenoise's compressed manifest, needed with DEBUG=0)")
        manage(DATABASES[0]["db"], "collectstatic", "--noinput", "-v0")

    prepared = {spec["key"]: inproc(spec["db"], "prepare") for spec in DATABASES}
    for key, prep in prepared.items():
        result["databases"][key]["prepared"] = {k: v for k, v in prep.items() if k != "users"}
    # Endpoints come from the large database (its busiest partner); the small one uses its own.
    from endpoints import endpoint_list  # bench/endpoints.py

    endpoints = {spec["key"]: endpoint_list(prepared[spec["key"]]) for spec in DATABASES}
    names = [ep["name"] for ep in endpoints[DATABASES[0]["key"]]]
    result["endpoints_meta"] = endpoints[DATABASES[-1]["key"]]
    if not prepared[DATABASES[0]["key"]]["search"]:
        result["notes"] = ["/search/ is not routed: the search endpoint was skipped."]

    _measure_servers(result, prepared, endpoints, names)
    if not SMOKE:
        _measure_inproc(result, prepared, endpoints)
    if IMPORT_ROWS:
        _measure_import(result)

    from summary import summarize  # bench/summary.py

    result["summary"] = summarize(result, names, endpoints[DATABASES[0]["key"]])
    result["elapsed_s"] = round(time.time() - started, 1)
    out = RESULTS / ("smoke.json" if SMOKE else "latest.json")
    out.write_text(json.dumps(result, indent=1, default=str))
    if not SMOKE:
        from report import write_markdown  # bench/report.py

        write_markdown(result, ROOT / "docs" / "benchmarks.md")
    log(f"done in {result['elapsed_s']} s; results in {out}")
    if result["failures"]:
        log("FAILED:\n  " + "\n  ".join(result["failures"]))
        return 1
    return 0


def _measure_servers(result: dict, prepared: dict, endpoints: dict, names: list) -> None:
    """Against real servers: log in per role, preflight, warm up, then wrk rounds and the fixed-rate latency."""
    servers, auth = {}, {}
    try:
        for spec in DATABASES:
            servers[spec["key"]] = start_server(spec)
            auth[spec["key"]] = {
                role: {"session": login(spec["port"], info["username"]), "token": info["token"]}
                for role, info in prepared[spec["key"]]["users"].items()
            }
        log("servers up, sessions made; preflight")
        by_name = {spec["key"]: {ep["name"]: ep for ep in endpoints[spec["key"]]} for spec in DATABASES}
        pre = {}
        for spec in DATABASES:
            pre[spec["key"]] = {}
            for ep in endpoints[spec["key"]]:
                pre[spec["key"]][ep["name"]] = p = preflight(spec["port"], ep, auth[spec["key"]])
                if not 200 <= p["status"] < 300:
                    result["failures"].append(f"{spec['key']} {ep['path']}: preflight status {p['status']}")
        result["preflight"] = pre
        log("warm-up")
        for spec in DATABASES:
            for ep in endpoints[spec["key"]]:
                run_wrk(spec["port"], ep, auth[spec["key"]], 1)

        rng = random.Random(SEED)
        raw = {spec["key"]: {n: [] for n in names} for spec in DATABASES}
        for rnd in range(ROUNDS):
            order = names[:]
            rng.shuffle(order)
            log(f"round {rnd + 1}/{ROUNDS}")
            for n in order:
                for spec in DATABASES:  # the two scales back to back: their ratio sees the same machine
                    r = run_wrk(spec["port"], by_name[spec["key"]][n], auth[spec["key"]], SECONDS)
                    raw[spec["key"]][n].append(r)
                    if not r["requests"]:
                        result["failures"].append(f"{spec['key']} {n}: no response completed in {SECONDS} s")
                    if r["non2xx"] or r["socket_errors"]:
                        result["failures"].append(
                            f"{spec['key']} {n}: {r['non2xx']} non-2xx (first {r['first_non2xx']}), "
                            f"{r['socket_errors']} socket errors"
                        )
        result["wrk"] = raw
        if LATENCY_SECONDS:
            log("fixed-rate latency (hey -c 4 -q 10)")
            lat = {spec["key"]: {} for spec in DATABASES}
            for n in names:
                for spec in DATABASES:
                    h = run_hey(spec["port"], by_name[spec["key"]][n], auth[spec["key"]], LATENCY_SECONDS)
                    lat[spec["key"]][n] = h
                    if h["non2xx"]:
                        result["failures"].append(f"{spec['key']} {n}: hey saw non-2xx {h['codes']}")
            result["latency"] = lat
    finally:
        for proc in servers.values():
            stop_server(proc)


def _measure_inproc(result: dict, prepared: dict, endpoints: dict) -> None:
    """In-process, per database: the queries each page runs, their plans, and (large) the jobs."""
    for spec in DATABASES:
        log(f"in-process: queries, EXPLAIN{', jobs' if spec['key'] == 'large' else ''} on {spec['db']}")
        ep_file = RESULTS / f"endpoints-{spec['key']}.json"
        ep_file.write_text(json.dumps(endpoints[spec["key"]]))
        prep_file = RESULTS / f"prepared-{spec['key']}.json"
        prep_file.write_text(json.dumps(prepared[spec["key"]]))
        args = ["measure", "--endpoints", str(ep_file), "--prepared", str(prep_file), "--explain"]
        if spec["key"] == "large":
            args.append("--notifications")
        result.setdefault("inproc", {})[spec["key"]] = inproc(spec["db"], *args)


def _measure_import(result: dict) -> None:
    """bench/import_bench.py on a database of its own: partners and engagements, imported then re-imported."""
    if psql(f"SELECT 1 FROM pg_database WHERE datname = '{IMPORT_DB}'") != "1":
        psql(f'CREATE DATABASE "{IMPORT_DB}"')
    log(f"import speed: {IMPORT_ROWS} partners, then {IMPORT_ROWS} engagements, on {IMPORT_DB}")
    out_file, load = RESULTS / "import.json", os.getloadavg()
    proc = subprocess.run([PY, str(BENCH / "import_bench.py"), "--rows", str(IMPORT_ROWS), "--out", str(out_file)],
                          cwd=ROOT, env=django_env(IMPORT_DB), capture_output=True, text=True)
    if proc.returncode != 0:
        sys.stderr.write(proc.stdout + proc.stderr)
        return result["failures"].append(f"bench/import_bench.py failed (exit {proc.returncode})")
    result["import"] = figures = json.loads(out_file.read_text())
    figures["loadavg_at_start"], figures["loadavg_at_end"] = [[round(x, 2) for x in v] for v in (load, os.getloadavg())]
    result["failures"] += [f"{r['run']}: {r['rows_per_s']} rows/s, below {IMPORT_MIN_ROWS_PER_S} rows/s"
                           for r in figures["runs"] if r["run"].endswith(" import") and not SMOKE
                           and r["rows_per_s"] < IMPORT_MIN_ROWS_PER_S]


def import_only() -> int:
    """`bench/run --import-only`: just the import speed step; prints its docs/benchmarks.md section."""
    from report import import_lines  # bench/report.py
    RESULTS.mkdir(parents=True, exist_ok=True)
    result = {"failures": []}
    _measure_import(result)
    print("\n".join(import_lines(result) + [f"FAILED: {f}" for f in result["failures"]]))
    return 1 if result["failures"] else 0


if __name__ == "__main__":
    sys.path.insert(0, str(BENCH))
    sys.exit(import_only() if sys.argv[1:] == ["--import-only"] else main())
