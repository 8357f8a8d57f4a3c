"""Fixtures for the integration suite: the real moving parts of the outbox tests (an SMTP sink,
Celery workers, a Redis of our own; their machinery in notification_helpers.py) and the import
tests' topics and file (helpers in import_helpers.py).
"""

import subprocess

import pytest
from django.db import connection

from partners.models import Topic
from tests.conftest import port_open, require_service

from .import_helpers import PARTNER_HEADER, PARTNER_ROWS, csv_bytes
from .notification_helpers import CeleryWorker, SmtpSink, free_port, wait_until


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "reliability: long crash-injection variants, run with RUN_RELIABILITY=1 (nightly)"
    )


@pytest.fixture
def topics(db):
    return [
        Topic.objects.create(name="Trade", slug="trade"),
        Topic.objects.create(name="Climate", slug="climate"),
    ]


@pytest.fixture
def partners_csv(topics) -> bytes:
    return csv_bytes([PARTNER_HEADER, *PARTNER_ROWS])


@pytest.fixture
def inline_import_tasks(monkeypatch):
    """Run an import job's queued pass at once, in the test's thread and transaction: (job id, commit) per pass.

    For tests of what a pass does; the real worker, its claims and its crashes
    are tested with `celery_workers` (test_import_jobs.py, test_import_recovery.py).
    """
    from imports import services, tasks

    calls = []

    def run_now(job_id, commit):
        calls.append((job_id, commit))
        tasks.run_import_job(job_id, commit)

    monkeypatch.setattr(services, "_enqueue_on_commit", run_now)
    return calls


@pytest.fixture
def smtp_sink():
    sink = SmtpSink().start()
    yield sink
    sink.stop()


@pytest.fixture
def outbox_to_sink(settings, smtp_sink):
    """In-process sending goes to the sink."""
    settings.MAILERS = smtp_sink.mailers_setting()
    return smtp_sink


@pytest.fixture
def celery_workers(postgres_required, transactional_db, redis_url, smtp_sink, tmp_path):
    """Start workers on demand: `celery_workers(name, **extra_env)`; all are killed at teardown."""
    import redis

    redis.Redis.from_url(redis_url).flushdb()  # no task left over from another test
    started: list[CeleryWorker] = []

    def start(name: str = "w1", **extra_env):
        worker = CeleryWorker(
            name, redis_url=redis_url, smtp_port=smtp_sink.port, log_dir=tmp_path, extra_env=extra_env
        )
        started.append(worker)
        return worker.start()

    yield start
    for worker in started:
        worker.stop()
    connection.close()


@pytest.fixture
def private_redis(tmp_path):
    """A Redis server of our own on a spare port, which the test may stop and start (R5)."""
    import shutil

    binary = shutil.which("redis-server")
    require_service(binary is not None, "redis-server is not installed")
    port = free_port()

    class Server:
        url = f"redis://127.0.0.1:{port}/9"
        proc = None

        def start(self):
            self.proc = subprocess.Popen(
                [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                 "--dir", str(tmp_path)],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,
            )
            assert wait_until(lambda: port_open("127.0.0.1", port), timeout=10, interval=0.1)
            return self

        def stop(self):
            if self.proc and self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait(10)

    server = Server().start()
    yield server
    server.stop()
