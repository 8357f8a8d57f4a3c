"""Real moving parts for the integration tests: an SMTP sink, Celery workers, a Redis of our own, a table held.

- `SmtpSink`: aiosmtpd on a free loopback port, in a thread of the test
  process; it can delay each message (so a kill lands mid-run), refuse mail,
  and be stopped and started again on the same port (an outage).
- `CeleryWorker`: `celery -A diplomacy_crm worker -c 2 --prefetch-multiplier 1
  -P prefork` in its own process group (so the whole group can be killed),
  pointed at the *test* database, the test Redis (db 9) and the sink.
- `Figures`: lost / duplicates per outbox key, computed from what the sink got.

The fixtures built on them (`smtp_sink`, `outbox_to_sink`, `celery_workers`,
`private_redis`) are in tests/integration/conftest.py.
"""

import asyncio
import contextlib
import email
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

from aiosmtpd.controller import Controller
from django.db import connection, connections

REPO = Path(__file__).resolve().parents[2]
CELERY_BIN = str(Path(sys.executable).with_name("celery"))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class _SinkHandler:
    def __init__(self):
        self.messages: list[email.message.Message] = []
        self.delay = 0.0
        self.refuse: str | None = None  # e.g. "451 4.3.0 try again later"
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        if self.refuse:
            return self.refuse
        if self.delay:
            await asyncio.sleep(self.delay)
        if server.transport is None or server.transport.is_closing():
            # The client died before we could answer: no 250 was sent, so not accepted.
            return "421 4.4.2 connection lost"
        message = email.message_from_bytes(envelope.original_content or envelope.content)
        message.accepted_at = time.time()  # when our 250 went out
        with self.lock:
            self.messages.append(message)
        return "250 Message accepted for delivery"


class SmtpSink:
    """An SMTP server that keeps every message it accepted (a 250 was sent)."""

    def __init__(self, port: int | None = None):
        self.port = port or free_port()
        self.handler = _SinkHandler()
        self.controller: Controller | None = None

    def start(self):
        logging.getLogger("mail.log").setLevel(logging.WARNING)
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port, ready_timeout=10)
        self.controller.start()
        return self

    def stop(self):
        if self.controller:
            self.controller.stop()
            self.controller = None

    @property
    def messages(self):
        with self.handler.lock:
            return list(self.handler.messages)

    def keys(self) -> Counter:
        return Counter(m["X-Outbox-Key"] for m in self.messages)

    def message_ids_by_key(self) -> dict[str, set[str]]:
        result: dict[str, set[str]] = {}
        for m in self.messages:
            result.setdefault(m["X-Outbox-Key"], set()).add(m["Message-ID"])
        return result

    def mailers_setting(self) -> dict:
        return {
            "default": {
                "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
                "OPTIONS": {"host": "127.0.0.1", "port": self.port, "timeout": 10},
            }
        }


class Figures:
    """lost / duplicates of a run, from the sink's point of view."""

    def __init__(self, expected_keys, sink: SmtpSink):
        self.expected = set(expected_keys)
        self.received = sink.keys()
        self.lost = len(self.expected - set(self.received))
        self.duplicates = sum(n - 1 for n in self.received.values())
        self.unexpected = set(self.received) - self.expected
        ids = sink.message_ids_by_key()
        self.same_message_id = all(len(ids[k]) == 1 for k, n in self.received.items() if n > 1)
        first_copy: dict[str, float] = {}
        for m in sink.messages:
            first_copy.setdefault(m["X-Outbox-Key"], m.accepted_at)
        self._first_copy = {k: t for k, t in first_copy.items() if self.received[k] > 1}

    def duplicates_outside(self, kill_times, *, before: float = 0.05, after: float = 1.0) -> int:
        """Duplicates whose first copy was not accepted inside a kill's window.

        The window is the SMTP one: the server's 250 went out just before the
        kill (the client had no time to mark it), or after the kill signal
        while the dying process's socket was still open (a process takes a few
        ms to tear down, and a server answering then never reaches it).
        """
        return sum(
            1
            for t in self._first_copy.values()
            if not any(k - before <= t <= k + after for k in kill_times)
        )

    def __str__(self):
        return (
            f"expected={len(self.expected)} received={sum(self.received.values())} "
            f"lost={self.lost} duplicates={self.duplicates} unexpected={len(self.unexpected)}"
        )


def give_role(users, role: str = "staff"):
    """Put `users` in a role group in one insert (a user with no role is sent nothing)."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    from accounts.roles import sync_role_groups

    if not Group.objects.filter(name=role).exists():
        sync_role_groups()  # a transactional test's flush empties the groups the migration made
    group = Group.objects.get(name=role)
    through = get_user_model().groups.through
    through.objects.bulk_create([through(user_id=u.pk, group_id=group.pk) for u in users])
    return users


def _test_database_url() -> str:
    cfg = connection.settings_dict
    host = cfg.get("HOST") or "127.0.0.1"
    port = cfg.get("PORT") or 5432
    user = cfg.get("USER") or "postgres"
    password = f":{cfg['PASSWORD']}" if cfg.get("PASSWORD") else ""
    return f"postgres://{user}{password}@{host}:{port}/{cfg['NAME']}"


WORKER_DEFAULTS = {
    # Small leases and back-offs so recovery fits in seconds (QUALITY 3.5).
    "OUTBOX_LEASE_SECONDS": "6",
    "OUTBOX_RETRY_BASE_SECONDS": "1",
    "OUTBOX_RETRY_MAX_SECONDS": "3",
    "OUTBOX_BATCH_SIZE": "10",
    "OUTBOX_FLUSH_TIME_BUDGET": "60",
    "CELERY_VISIBILITY_TIMEOUT": "15",
    "CELERY_UNACKED_RESTORE_INTERVAL": "2",
    "CELERY_UNACKED_RESTORE_THROTTLE": "1",
}


class CeleryWorker:
    def __init__(self, name: str, *, redis_url: str, smtp_port: int, log_dir: Path, extra_env: dict | None = None):
        self.name = name
        self.log_path = log_dir / f"worker-{name}.log"
        self.env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("EMAIL_", "OUTBOX_", "CELERY_", "PYTEST_")) and k not in {"DATABASE_URL", "REDIS_URL"}
        }
        self.env.update(WORKER_DEFAULTS)
        self.env.update(
            {
                "DJANGO_SETTINGS_MODULE": "diplomacy_crm.test_settings",
                "DATABASE_URL": _test_database_url(),
                "REDIS_URL": redis_url,
                "EMAIL_HOST": "127.0.0.1",
                "EMAIL_PORT": str(smtp_port),
                "EMAIL_TIMEOUT": "10",
                "VAR_DIR": str(log_dir / "var"),
                "LOG_LEVEL": "INFO",
                "PYTHONUNBUFFERED": "1",
            }
        )
        self.env.update(extra_env or {})
        self.proc: subprocess.Popen | None = None
        self.restarts = 0
        self.kill_times: list[float] = []

    def start(self, timeout: float = 45):
        log = open(self.log_path, "ab")
        self._log_offset = self.log_path.stat().st_size
        self.proc = subprocess.Popen(
            [
                CELERY_BIN, "-A", "diplomacy_crm", "worker", "-c", "2", "--prefetch-multiplier", "1",
                "-P", "prefork", "-l", "INFO", "-n", f"{self.name}@%h",
                "--without-gossip", "--without-mingle", "--without-heartbeat",
            ],
            cwd=REPO,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"worker {self.name} exited:\n{self.log_tail()}")
            if b" ready." in self.log_path.read_bytes()[self._log_offset :]:
                return self
            time.sleep(0.2)
        raise RuntimeError(f"worker {self.name} not ready after {timeout}s:\n{self.log_tail()}")

    def log_tail(self, n: int = 4000) -> str:
        return self.log_path.read_bytes()[-n:].decode(errors="replace") if self.log_path.exists() else ""

    def kill_group(self):
        """SIGKILL the worker and its pool children at once (a machine losing the process)."""
        if self.proc and self.proc.poll() is None:
            self.kill_times.append(time.time())
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)

    def kill_pool_child(self) -> bool:
        import psutil

        children = psutil.Process(self.proc.pid).children()
        if not children:
            return False
        self.kill_times.append(time.time())
        children[0].kill()
        return True

    def restart(self):
        self.kill_group()
        self.restarts += 1
        return self.start()

    def stop(self):
        if self.proc and self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.proc.wait(10)


def celery_client(redis_url: str):
    """A bare Celery client on the test broker, to call tasks by name as beat or `celery call` would."""
    from celery import Celery

    return Celery("test-client", broker=redis_url, set_as_current=False)


def wait_until(condition, *, timeout: float, interval: float = 0.1, tick=None, tick_every: float = 2.0):
    """Poll `condition` until true; `tick` (e.g. a beat-like flush) runs every `tick_every` seconds."""
    deadline = time.monotonic() + timeout
    last_tick = 0.0
    while time.monotonic() < deadline:
        if condition():
            return True
        if tick and time.monotonic() - last_tick >= tick_every:
            tick()
            last_tick = time.monotonic()
        time.sleep(interval)
    return condition()


@contextlib.contextmanager
def table_held(model):
    """A SHARE lock on `model`'s table from a connection of our own, until the block ends: a run under test
    reads and checks what it needs, then waits at its first INSERT into that table, so the test acts on a run
    that is provably under way (a kill, a cancel) instead of racing a fast worker."""
    conn = connections.create_connection("default")
    try:
        conn.ensure_connection()
        conn.set_autocommit(False)
        with conn.cursor() as cursor:
            cursor.execute(f"LOCK TABLE {model._meta.db_table} IN SHARE MODE")
        yield
    finally:
        conn.rollback()
        conn.close()
