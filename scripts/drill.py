#!/usr/bin/env python
"""The operations drill: the production layout on this machine, a worker killed mid-run.

    scripts/drill.sh [--reminders 300] [--timeout 300] [--json]     (or: make drill)

What it runs, all on loopback:
- PostgreSQL: a scratch database `crm_drill_<pid>` it creates, migrates and drops
  (server from DRILL_PG_URL, default postgres://postgres@127.0.0.1:5432/postgres);
- Redis: database 8 of DRILL_REDIS (default redis://127.0.0.1:6379; the test suite uses 9 and up),
  which must be empty, flushed at the end;
- a real SMTP server (aiosmtpd) in this process, answering each message after DRILL_SMTP_DELAY s;
- two gunicorn web instances (ops/gunicorn.conf.py) on two ports, two Celery
  workers (-c 2), one beat; production settings (DEBUG=0), LOG_FORMAT=json.

Then it creates N commitments due today (N owners), asks for the reminder scan
(as beat does hourly: `celery call send_due_reminders`), SIGKILLs the process
group of one worker once a third of the mail is out (the other keeps running;
`--restart` starts the killed one again as systemd would), polls /healthz on
both web instances throughout, and waits until every outbox row is sent.

It reports: sent (distinct messages the server accepted), lost, duplicates
(and whether each duplicate kept its Message-ID), time to recover (kill → all
sent), the rows the killed worker held, `email sent` log lines, and the log
lines of every process that are not one JSON object (should be 0). Everything
stops by itself within --timeout seconds (default 300) and the scratch
database is dropped. Exit status 0 when nothing was lost.

Recovery is bounded by the outbox lease (OUTBOX_LEASE_SECONDS) plus one
outbox sweep (beat, every 60 s): pass OUTBOX_* / CELERY_* variables to try
other values; they reach every process.
"""

from __future__ import annotations

import argparse
import asyncio
import email
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
sys.path.insert(0, str(REPO))  # the project, for the seeding through Django


# --- pure parts (tested in tests/unit/test_drill.py) ------------------------------------------


def summarise(expected: set[str], received: list[tuple[str, str]]) -> dict:
    """Figures from what the server accepted: `received` is (outbox key, Message-ID) per message."""
    counts = Counter(key for key, _ in received)
    ids: dict[str, set[str]] = {}
    for key, message_id in received:
        ids.setdefault(key, set()).add(message_id)
    return {
        "expected": len(expected),
        "sent": len(set(counts) & expected),
        "lost": len(expected - set(counts)),
        "duplicates": sum(n - 1 for key, n in counts.items() if key in expected),
        "duplicates_same_message_id": all(len(ids[k]) == 1 for k, n in counts.items() if n > 1),
        "unexpected": len(set(counts) - expected),
    }


def scan_logs(paths: list[Path]) -> dict:
    """Per log file: lines, lines that are not one JSON object, `email sent` lines, request ids seen."""
    result = {}
    for path in paths:
        lines = bad = emails = 0
        first_bad = None
        request_ids: set[str] = set()
        for line in path.read_text(errors="replace").splitlines():
            lines += 1
            try:
                record = json.loads(line)
                if not isinstance(record, dict):
                    raise ValueError("not an object")
            except ValueError:
                bad += 1
                first_bad = first_bad or line[:200]
                continue
            emails += record.get("email") == "sent"
            if record.get("request_id"):
                request_ids.add(record["request_id"])
        result[path.stem] = {"lines": lines, "not_json": bad, "first_not_json": first_bad,
                             "emails_sent_lines": emails, "request_ids": len(request_ids)}
    return result


def format_report(report: dict) -> str:
    f = report["figures"]
    logs = report["logs"]
    bad = sum(v["not_json"] for v in logs.values())
    lines = [
        f"drill: {f['expected']} reminders, 2 web + 2 workers (-c 2) + 1 beat, worker killed with SIGKILL"
        f"{' and restarted' if report['restarted'] else ''} at {report['sent_at_kill']} sent",
        f"  sent {f['sent']}  lost {f['lost']}  duplicates {f['duplicates']}"
        f" (same Message-ID: {'yes' if f['duplicates_same_message_id'] else 'NO'})  unexpected {f['unexpected']}",
        f"  rows held by the killed worker: {report['held_by_killed']}",
        f"  time to recover (kill -> all sent): {report['recovery_s']} s"
        f"  [lease {report['lease_s']} s + sweep every {report['sweep_s']} s]; whole run {report['run_s']} s",
        f"  web /healthz during the run: {report['health']}",
        f"  'email sent' log lines: {sum(v['emails_sent_lines'] for v in logs.values())}",
        f"  log lines: {sum(v['lines'] for v in logs.values())} from {len(logs)} processes, not JSON: {bad}",
    ]
    for name, v in logs.items():
        if v["not_json"]:
            lines.append(f"    {name}: first non-JSON line: {v['first_not_json']!r}")
    lines.append(f"  logs kept in {report['log_dir']}")
    if report.get("error"):
        lines.append(f"  stopped early: {report['error']}")
    return "\n".join(lines)


# --- moving parts ----------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def port_open(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.3):
            return True
    except OSError:
        return False


class Sink:
    """aiosmtpd on loopback, keeping (outbox key, Message-ID) of each message it answered 250 to."""

    def __init__(self, delay: float):
        from aiosmtpd.controller import Controller

        sink = self
        self.received: list[tuple[str, str]] = []
        self.lock = threading.Lock()

        class Handler:
            async def handle_DATA(self, server, session, envelope):
                await asyncio.sleep(delay)
                if server.transport is None or server.transport.is_closing():
                    return "421 4.4.2 connection lost"  # the client died: no 250 went out
                message = email.message_from_bytes(envelope.original_content or envelope.content)
                with sink.lock:
                    sink.received.append((message["X-Outbox-Key"], message["Message-ID"]))
                return "250 Message accepted for delivery"

        self.port = free_port()
        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port, ready_timeout=10)

    def count(self) -> int:
        with self.lock:
            return len(self.received)

    def snapshot(self) -> list[tuple[str, str]]:
        with self.lock:
            return list(self.received)


class Proc:
    def __init__(self, name: str, argv: list[str], env: dict, log_dir: Path):
        self.name, self.argv, self.env = name, argv, env
        self.log_path = log_dir / f"{name}.log"
        self.proc: subprocess.Popen | None = None

    def start(self):
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(self.argv, cwd=REPO, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                                         start_new_session=True)
        return self

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def kill(self):
        if self.alive():
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)

    def stop(self, grace: float = 15):
        if not self.alive():
            return
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(grace)
        except subprocess.TimeoutExpired:
            self.kill()
        except ProcessLookupError:
            pass

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


class Deadline(Exception):
    pass


def wait_for(condition, *, until: float, what: str, interval: float = 0.2):
    while time.monotonic() < until:
        if condition():
            return
        time.sleep(interval)
    if not condition():
        raise Deadline(f"timed out waiting for {what}")


def seed(n: int) -> set[str]:
    """n open commitments due today (office time), each with its own staff owner; their outbox keys."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.utils import timezone

    from accounts.models import Profile
    from accounts.roles import sync_role_groups
    from engagements.models import Commitment
    from notifications.models import OutboxMessage

    User = get_user_model()
    today = timezone.localdate()
    sync_role_groups()
    owners = User.objects.bulk_create(
        [User(username=f"drill-{i}", email=f"drill-{i}@city.example.org") for i in range(n)]
    )
    Profile.objects.bulk_create([Profile(user=o, digest_opt_out=True) for o in owners])
    group = Group.objects.get(name="staff")
    through = User.groups.through
    through.objects.bulk_create([through(user_id=o.pk, group_id=group.pk) for o in owners])
    commitments = Commitment.objects.bulk_create(
        [Commitment(description=f"Drill item {i}", owner=o, due_date=today) for i, o in enumerate(owners)]
    )
    return {
        OutboxMessage.make_key(kind="commitment_due_today", subject_type="commitment", subject_id=c.pk,
                               period=today.isoformat(), recipient_id=c.owner_id)
        for c in commitments
    }


def drill_env(*, db_url: str, redis_url: str, smtp_port: int, work: Path) -> dict:
    """The environment of every process of the drill: production settings on the drill's own services."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "DJANGO_"))}
    env.update({
        "DJANGO_SETTINGS_MODULE": "diplomacy_crm.settings",
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_hex(32),
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SITE_URL": "http://127.0.0.1",
        "HTTPS_ONLY": "0",  # loopback, no TLS proxy in front
        "DATABASE_URL": db_url,
        "REDIS_URL": redis_url,
        "EMAIL_URL": f"smtp://127.0.0.1:{smtp_port}",
        "LOG_FORMAT": "json",
        "LOG_LEVEL": "INFO",
        "VAR_DIR": str(work / "var"),
        "PYTHONUNBUFFERED": "1",
    })
    return env


def make_cluster(env: dict, work: Path, log_dir: Path) -> tuple[list, list, "Proc"]:
    """Two web instances (port, Proc), two Celery workers and beat, not started yet."""
    webs = []
    for i in (1, 2):
        port = free_port()
        webs.append((port, Proc(f"web{i}", [str(BIN / "gunicorn"), "-c", "ops/gunicorn.conf.py",
                                             "--bind", f"127.0.0.1:{port}", "--workers", "2"], env, log_dir)))
    workers = [
        Proc(f"worker{i}", [str(BIN / "celery"), "-A", "diplomacy_crm", "worker", "-c", "2",
                            "--prefetch-multiplier", "1", "-n", f"drill{i}@%h", "-l", "INFO"], env, log_dir)
        for i in (1, 2)
    ]
    beat = Proc("beat", [str(BIN / "celery"), "-A", "diplomacy_crm", "--quiet", "beat", "-l", "INFO",
                         "-s", str(work / "celerybeat-schedule")], env, log_dir)
    return webs, workers, beat


def wait_ready(webs: list, workers: list, until: float) -> None:
    for port, p in webs:
        wait_for(lambda port=port: port_open(port), until=until, what=f"{p.name} on port {port}")
    for w in workers:
        wait_for(lambda w=w: " ready." in w.log_text(), until=until, what=f"{w.name} ready")


class HealthPoller:
    """Asks every web instance for /healthz twice a second (a request id each, as the proxy would send)."""

    def __init__(self, ports: list[int]):
        self.ports = ports
        self.health: Counter = Counter()
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self.poll, daemon=True)

    def poll(self) -> None:
        while not self.stopping.is_set():
            for port in self.ports:
                request = urllib.request.Request(f"http://127.0.0.1:{port}/healthz",
                                                 headers={"X-Request-ID": f"drill-{secrets.token_hex(8)}"})
                try:
                    with urllib.request.urlopen(request, timeout=5) as response:
                        self.health[response.status] += 1
                except urllib.error.HTTPError as exc:
                    self.health[exc.code] += 1
                except OSError:
                    self.health["no answer"] += 1
            self.stopping.wait(0.5)

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> dict:
        self.stopping.set()
        self.thread.join(10)
        return dict(self.health)


def kill_and_recover(args, *, sink, workers: list, expected: set, redis_url: str, until: float, report: dict) -> None:
    """Queue the reminders, kill a worker once a third is sent, and time until every reminder is sent once."""
    from celery import Celery

    from notifications.models import OutboxMessage

    Status = OutboxMessage.Status
    client = Celery("drill", broker=redis_url, set_as_current=False)
    run_started = time.monotonic()
    client.send_task("send_due_reminders")  # what beat sends on the hour
    wait_for(lambda: sink.count() >= max(args.reminders // 3, 1), until=until, what="a third of the mail", interval=0.05)
    victim = workers[0]
    victim.kill()
    killed_at = time.monotonic()
    report["sent_at_kill"] = sink.count()
    if args.restart:
        time.sleep(1)  # systemd's Restart=on-failure
        victim.start()
    time.sleep(0.5)
    report["held_by_killed"] = OutboxMessage.objects.filter(status=Status.SENDING).count()

    def all_sent():
        return OutboxMessage.objects.filter(status=Status.SENT).count() >= len(expected) and \
            {k for k, _ in sink.snapshot()} >= expected

    try:
        wait_for(all_sent, until=until - 10, what="every reminder sent", interval=0.5)
        report["recovery_s"] = round(time.monotonic() - killed_at, 1)
        time.sleep(3)  # a late duplicate would show now
    except Deadline as exc:
        report["error"] = str(exc)
    report["run_s"] = round(time.monotonic() - run_started, 1)


def run(args) -> dict:
    started = time.monotonic()
    until = started + args.timeout
    pg_url = os.environ.get("DRILL_PG_URL", "postgres://postgres@127.0.0.1:5432/postgres")
    redis_base = os.environ.get("DRILL_REDIS", "redis://127.0.0.1:6379").rstrip("/")
    redis_url = f"{redis_base}/{args.redis_db}"
    database = f"crm_drill_{os.getpid()}"
    work = Path(tempfile.mkdtemp(prefix="crm-drill-"))
    log_dir = work / "logs"
    log_dir.mkdir()

    import psycopg
    import redis

    broker = redis.Redis.from_url(redis_url)
    if broker.dbsize():  # someone else's queue (the test suite uses 9 and up): never flush it
        raise SystemExit(f"drill: Redis database {args.redis_db} is not empty; pick a free one with --redis-db")
    with psycopg.connect(pg_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{database}"')

    sink = Sink(args.smtp_delay)
    db_url = pg_url.rsplit("/", 1)[0] + f"/{database}"
    env = drill_env(db_url=db_url, redis_url=redis_url, smtp_port=sink.port, work=work)
    os.environ.update(env)  # this process seeds the data through Django
    procs: list[Proc] = []
    report = {"restarted": args.restart, "sent_at_kill": None, "held_by_killed": None, "recovery_s": None,
              "run_s": None, "health": {}, "lease_s": None, "sweep_s": None, "error": None}
    expected: set[str] = set()
    try:
        subprocess.run([sys.executable, "manage.py", "migrate", "--no-input", "-v0"], cwd=REPO, env=env, check=True,
                       timeout=max(until - time.monotonic(), 1))
        sink.controller.start()
        webs, workers, beat = make_cluster(env, work, log_dir)
        procs = [p for _, p in webs] + workers + [beat]
        for p in procs:
            p.start()
        wait_ready(webs, workers, until)

        import django

        django.setup()
        import logging

        logging.getLogger().setLevel(logging.WARNING)  # this process's own lines (the sink's chatter) stay quiet
        from django.conf import settings

        report["lease_s"] = settings.CRM["OUTBOX_LEASE_SECONDS"]
        report["sweep_s"] = int(settings.CELERY_BEAT_SCHEDULE["flush-outbox"]["schedule"])
        expected = seed(args.reminders)
        poller = HealthPoller([port for port, _ in webs])
        poller.start()
        kill_and_recover(args, sink=sink, workers=workers, expected=expected, redis_url=redis_url, until=until, report=report)
        report["health"] = poller.stop()
    except (Deadline, subprocess.SubprocessError) as exc:
        report["error"] = str(exc)
    finally:
        teardown(procs, sink, pg_url=pg_url, database=database, broker=broker)
    report["figures"] = summarise(expected, sink.snapshot())
    report["logs"] = scan_logs(sorted(log_dir.glob("*.log")))
    report["log_dir"] = str(log_dir)
    report["total_s"] = round(time.monotonic() - started, 1)
    return report


def teardown(procs: list, sink, *, pg_url: str, database: str, broker) -> None:
    import psycopg

    for p in procs:
        p.stop()
    if sink.controller.loop.is_running():
        sink.controller.stop()
    try:
        from django.db import connections

        connections.close_all()
    except Exception:  # noqa: BLE001 (teardown: the drop below forces the connections closed anyway)
        pass  # nosec B110
    with psycopg.connect(pg_url, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
    broker.flushdb()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reminders", type=int, default=int(os.environ.get("DRILL_REMINDERS", "300")))
    parser.add_argument("--timeout", type=float, default=float(os.environ.get("DRILL_TIMEOUT", "300")),
                        help="seconds; everything stops by then (default 300)")
    parser.add_argument("--redis-db", type=int, default=int(os.environ.get("DRILL_REDIS_DB", "8")),
                        help="an empty Redis database of its own, flushed at the end (default 8; tests use 9 and up)")
    parser.add_argument("--smtp-delay", type=float, default=float(os.environ.get("DRILL_SMTP_DELAY", "0.05")))
    parser.add_argument("--restart", action="store_true", help="start the killed worker again after 1 s")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    args = parser.parse_args(argv)
    report = run(args)
    print(json.dumps(report, indent=2) if args.json else format_report(report))
    figures = report["figures"]
    ok = (not report["error"] and figures["lost"] == 0 and figures["unexpected"] == 0
          and sum(v["not_json"] for v in report["logs"].values()) == 0)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
