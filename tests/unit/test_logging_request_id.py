"""The log format and the request id, in-process (the real processes: tests/integration/test_logging_trace.py)."""

import json
import logging

import pytest

from diplomacy_crm.logging import (
    ContextFilter,
    JsonFormatter,
    JsonLinesStream,
    accept_request_id,
    request_id,
)


def format_record(message="hello", **extra):
    record = logging.makeLogRecord({"name": "crm.test", "levelname": "INFO", "levelno": 20, "msg": message, **extra})
    ContextFilter().filter(record)
    return json.loads(JsonFormatter().format(record))


def test_extra_dicts_are_json_values_not_reprs_and_time_is_utc():
    line = format_record(data={"id": "abc", "args": [1, 2], "when": __import__("datetime").date(2025, 3, 10)})
    assert line["data"] == {"id": "abc", "args": [1, 2], "when": "2025-03-10"}
    assert line["ts"].endswith("+00:00") and line["message"] == "hello"


def test_the_current_request_id_is_on_every_line():
    token = request_id.set("req-123456789")
    try:
        assert format_record()["request_id"] == "req-123456789"
    finally:
        request_id.reset(token)
    assert format_record()["request_id"] is None


@pytest.mark.parametrize(
    "given, kept",
    [
        ("3f2a9c1e-5b7d-4e6f-8a0b-1c2d3e4f5a6b", True),
        ("0123456789abcdef0123456789abcdef", True),
        ("short", False),
        ("has space in it", False),
        ('x"\n{"level":"INFO"}', False),
        ("a" * 200, False),
        (None, False),
    ],
)
def test_a_proxy_id_is_kept_only_when_it_looks_like_one(given, kept):
    result = accept_request_id(given)
    assert (result == given) is kept
    assert 8 <= len(result) <= 128


@pytest.mark.django_db
def test_the_response_carries_the_id_and_a_4xx_line_has_it(client, caplog):
    with caplog.at_level(logging.WARNING, logger="django.request"):
        response = client.get("/no-such-page/", HTTP_X_REQUEST_ID="proxy-id-0001")
    assert response.status_code == 404 and response["X-Request-ID"] == "proxy-id-0001"
    (line,) = [r for r in caplog.records if r.name == "django.request"]
    # Stamped by the console handler's filter (settings.LOGGING), though Django logs it after the middleware.
    assert line.request_id == "proxy-id-0001"
    # And it is cleared once the response is done: the next line carries none.
    assert format_record()["request_id"] is None
    fresh = client.get("/no-such-page/")
    assert fresh["X-Request-ID"] != "proxy-id-0001" and len(fresh["X-Request-ID"]) == 32


def test_text_written_past_logging_becomes_json_lines():
    import io

    out = io.StringIO()
    stream = JsonLinesStream(out, "stdout", "INFO")
    stream.write("celery beat v5 is starting.\n\x1b[36mbanner\x1b[0m\n")
    stream.write('{"ts": "x", "message": "already json"}\n')
    stream.write("partial")
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [line["message"] for line in lines] == ["celery beat v5 is starting.", "banner", "already json"]
    assert stream.fileno() is None  # Celery's raw os.write() path is skipped


@pytest.mark.django_db
def test_each_email_sent_failed_or_deferred_is_one_line_with_key_and_message_id(staff_user, monkeypatch, caplog):
    import smtplib

    from notifications import services
    from notifications.models import OutboxMessage
    from tests.unit.test_notifications_outbox import FlakyMailer, outgoing, use_mailer

    def email_lines():
        lines = [r for r in caplog.records if getattr(r, "email", None)]
        caplog.clear()
        return lines

    caplog.set_level(logging.INFO, logger="notifications.services")
    services.enqueue(messages=[outgoing(staff_user, n) for n in range(2)])
    good = FlakyMailer()
    use_mailer(monkeypatch, good)
    services.deliver_due()
    lines = email_lines()
    assert sorted((r.email, r.outbox_key, r.message_id) for r in lines) == sorted(
        ("sent", m.extra_headers["X-Outbox-Key"], m.extra_headers["Message-ID"]) for m in good.sent
    )
    assert all(json.loads(JsonFormatter().format(r))["outbox_key"] == r.outbox_key for r in lines)

    services.enqueue(messages=[outgoing(staff_user, 5)])
    row = OutboxMessage.objects.get(status=OutboxMessage.Status.PENDING)
    use_mailer(monkeypatch, FlakyMailer(fail_send=smtplib.SMTPRecipientsRefused({row.to_email: (550, b"no such user")})))
    services.deliver_due()
    (failed,) = email_lines()
    assert (failed.email, failed.outbox_key, failed.message_id, failed.smtp_code) == ("failed", row.key, row.message_id, 550)
    assert failed.levelname == "WARNING" and "550" in failed.error

    OutboxMessage.objects.filter(pk=row.pk).update(next_attempt_at=row.created_at)
    use_mailer(monkeypatch, FlakyMailer(fail_open=ConnectionRefusedError(111, "Connection refused")))
    services.deliver_due()
    (deferred,) = email_lines()
    assert (deferred.email, deferred.outbox_key) == ("deferred", row.key) and "refused" in deferred.error
