"""Traceable logs (issue 18): every line from a real gunicorn web process and a real
Celery worker is one JSON object; a request's id reaches the task it queued; each
email sent gives a line with its outbox key and Message-ID.

Real moving parts, on loopback: gunicorn started with ops/gunicorn.conf.py,
`celery worker -P prefork`, PostgreSQL (the test database), Redis (the test
database number) and the aiosmtpd sink. LOG_FORMAT=json in both processes.
"""

import json
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from imports.models import ImportJob
from imports.services import import_job_create
from notifications.models import OutboxMessage
from tests.conftest import port_open
from tests.integration.import_helpers import PARTNER_HEADER, csv_bytes

from .notification_helpers import (
    REPO,
    CeleryWorker,
    celery_client,
    free_port,
    give_role,
    wait_until,
)
from .test_notifications_reliability import NOW, seed_due

GUNICORN_BIN = str(Path(sys.executable).with_name("gunicorn"))
PASSWORD = "correct horse battery staple"

pytestmark = [pytest.mark.celery, pytest.mark.redis, pytest.mark.smtp]


def json_lines(path: Path) -> list[dict]:
    """Every line of the file, parsed; fails naming the first line that is not one JSON object."""
    records = []
    for number, line in enumerate(path.read_text(errors="replace").splitlines(), 1):
        try:
            record = json.loads(line)
        except ValueError:
            pytest.fail(f"{path.name} line {number} is not JSON: {line[:300]!r}")
        assert isinstance(record, dict), f"{path.name} line {number} is not an object: {line[:300]!r}"
        assert record["ts"].endswith("+00:00"), f"{path.name} line {number} is not in UTC: {record['ts']}"
        records.append(record)
    return records


class Web:
    """`gunicorn -c ops/gunicorn.conf.py` on a free loopback port, env like the workers'."""

    def __init__(self, env: dict, log_path: Path):
        self.port = free_port()
        self.env = env
        self.log_path = log_path
        self.proc = None

    def start(self):
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                [GUNICORN_BIN, "-c", "ops/gunicorn.conf.py", "--bind", f"127.0.0.1:{self.port}", "--workers", "1"],
                cwd=REPO, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            )
        assert wait_until(lambda: port_open("127.0.0.1", self.port) or self.proc.poll() is not None, timeout=30)
        assert self.proc.poll() is None, self.log_path.read_text()
        return self

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)  # graceful: its shutdown lines are checked too
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)


@pytest.fixture
def json_stack(postgres_required, transactional_db, redis_url, smtp_sink, tmp_path):
    """A worker and a web instance, both with LOG_FORMAT=json, on the test database and Redis."""
    import redis

    redis.Redis.from_url(redis_url).flushdb()
    worker = CeleryWorker("json", redis_url=redis_url, smtp_port=smtp_sink.port, log_dir=tmp_path,
                          extra_env={"LOG_FORMAT": "json"})
    web = Web(dict(worker.env), tmp_path / "web.log")
    try:
        worker.start()
        web.start()
        yield web, worker
    finally:
        web.stop()
        if worker.proc and worker.proc.poll() is None:
            worker.proc.send_signal(signal.SIGTERM)  # warm shutdown: its lines are checked too
            try:
                worker.proc.wait(20)
            except subprocess.TimeoutExpired:
                worker.stop()
        from django.db import connection

        connection.close()


def sign_in(web: Web, user):
    import requests

    session = requests.Session()
    page = session.get(web.url("/accounts/login/"), timeout=20)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    response = session.post(
        web.url("/accounts/login/"),
        data={"username": user.username, "password": PASSWORD, "csrfmiddlewaretoken": token},
        headers={"Referer": web.url("/accounts/login/")}, timeout=20, allow_redirects=False,
    )
    assert response.status_code == 302, response.text[:500]
    return session


def test_a_request_id_follows_the_import_check_into_the_worker(json_stack, django_user_model, topics):  # noqa: F811
    web, worker = json_stack
    user = django_user_model.objects.create_user("importer", "importer@city.example.org", PASSWORD)
    give_role([user], "staff")
    rows = [[f"Partner city {i}", "city", "JP", f"Town {i}", "trade", "", ""] for i in range(50)]
    job = import_job_create(user=user, kind="partners", filename="big.csv", data=csv_bytes([PARTNER_HEADER, *rows]))

    session = sign_in(web, user)
    page = session.get(web.url(f"/import/{job.pk}/"), timeout=20)
    assert page.status_code == 200 and "Map the columns" in page.text
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    # The proxy's id is kept when it looks like one (nginx: proxy_set_header X-Request-ID $request_id).
    request_id = "3f2a9c1e5b7d4e6f8a0b1c2d3e4f5a6b"
    response = session.post(
        web.url(f"/import/{job.pk}/"),
        data={"csrfmiddlewaretoken": token, **{f"col_{k}": v for k, v in job.mapping.items()}},
        headers={"X-Request-ID": request_id, "Referer": page.url}, timeout=30, allow_redirects=False,
    )
    assert response.status_code == 302, response.text[:500]
    assert response.headers["X-Request-ID"] == request_id
    # A forged id (a newline would write a fake log line) is replaced by one of ours.
    forged = session.get(web.url("/healthz"), headers={"X-Request-ID": 'x" \\n{"level": "INFO"'}, timeout=20)
    assert re.fullmatch(r"[0-9a-f]{32}", forged.headers["X-Request-ID"])

    # The worker checks the big file (the Celery task the request queued).
    assert wait_until(lambda: ImportJob.objects.get(pk=job.pk).status == ImportJob.Status.CHECKED, timeout=120), \
        worker.log_tail()
    time.sleep(0.5)  # the task's last line is written after the row is updated

    web.stop()
    worker.proc.send_signal(signal.SIGTERM)
    worker.proc.wait(30)
    web_lines = json_lines(web.log_path)
    worker_lines = json_lines(worker.log_path)

    # The access line: method, path, status, duration, user id, request id.
    (access,) = [r for r in web_lines if r["logger"] == "gunicorn.access" and r.get("request_id") == request_id]
    assert access["method"] == "POST" and access["path"] == f"/import/{job.pk}/" and access["status"] == 302
    assert access["user_id"] == user.pk and access["duration_ms"] > 0
    assert any(r["logger"] == "gunicorn.error" and "Listening at" in r["message"] for r in web_lines)

    # The task's lines carry the same id, and its details are JSON, not a repr.
    task_lines = [r for r in worker_lines if r.get("request_id") == request_id]
    assert task_lines, [r["message"] for r in worker_lines][-20:]
    done = [r for r in task_lines if r["logger"] == "celery.app.trace" and "run_import_job" in r["message"]]
    assert done and done[0]["data"]["name"] == "run_import_job" and done[0]["task_name"] == "run_import_job"
    assert any("worker json@" in r["message"] and r.get("concurrency") == 2 for r in worker_lines)  # the banner
    assert any("Warm shutdown" in r["message"] for r in worker_lines)


def test_each_email_gives_a_line_with_its_key_and_message_id(json_stack, smtp_sink, redis_url, django_user_model):
    _web, worker = json_stack
    expected = seed_due(django_user_model, 3)
    celery_client(redis_url).send_task("send_due_reminders", kwargs={"now": NOW.isoformat()})
    assert wait_until(
        lambda: OutboxMessage.objects.filter(key__in=expected, status=OutboxMessage.Status.SENT).count() == 3,
        timeout=60,
    ), worker.log_tail()
    time.sleep(0.5)
    worker.proc.send_signal(signal.SIGTERM)
    worker.proc.wait(30)

    sent = {r["outbox_key"]: r for r in json_lines(worker.log_path) if r.get("email") == "sent"}
    assert set(sent) == expected
    for message in smtp_sink.messages:
        line = sent[message["X-Outbox-Key"]]
        assert line["message_id"] == message["Message-ID"] and line["kind"] == "commitment_due_today"
        # Queued by the reminder scan (itself from beat): the flush task's lines share an id.
        assert line["request_id"] and line["task_name"] == "flush_outbox"


def test_beat_writes_only_json_banner_included(postgres_required, transactional_db, redis_url, tmp_path):
    """Beat without --quiet: its text banner is printed past logging, and still comes out as JSON lines."""
    env = CeleryWorker("beat", redis_url=redis_url, smtp_port=25, log_dir=tmp_path,
                       extra_env={"LOG_FORMAT": "json"}).env
    log_path = tmp_path / "beat.log"
    with open(log_path, "ab") as log:
        beat = subprocess.Popen(
            [str(Path(sys.executable).with_name("celery")), "-A", "diplomacy_crm", "beat", "-l", "INFO",
             "-s", str(tmp_path / "schedule")],
            cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )
    try:
        assert wait_until(lambda: b"beat starting" in log_path.read_bytes(), timeout=30), log_path.read_text()
    finally:
        beat.send_signal(signal.SIGTERM)
        beat.wait(20)
    lines = json_lines(log_path)
    assert any("celery beat v" in r["message"] and r["logger"] == "stdout" for r in lines)
    (started,) = [r for r in lines if r["message"] == "beat starting"]
    assert "flush-outbox" in started["schedule"]
