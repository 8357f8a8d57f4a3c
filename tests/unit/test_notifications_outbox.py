"""The outbox sender (claim, lease, mark, back-off, poison rows), its page, the tasks, preferences."""

import datetime as dt
import io
import smtplib

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from kombu.exceptions import OperationalError

from notifications import services, tasks
from notifications.models import OutboxMessage
from notifications.selectors import Outgoing

pytestmark = pytest.mark.django_db

Status = OutboxMessage.Status


def outgoing(user, n: int = 0, **context) -> Outgoing:
    return Outgoing(
        kind=OutboxMessage.Kind.COMMITMENT_DUE_TODAY,
        recipient_id=user.pk,
        to_email=user.email,
        subject_type="commitment",
        subject_id=1000 + n,
        period="2025-03-10",
        summary=f"Due today: thing {n}",
        context={
            "first_name": "Sam",
            "headline": "Due today",
            "description": f"Thing {n}",
            "due_date": "Mon 10 Mar 2025",
            "status": "Open",
            "partner": "",
            "engagement": "",
            "url": f"https://crm.example.org/commitments/{1000 + n}/",
            **context,
        },
    )


@pytest.fixture
def fast_retry(settings):
    settings.CRM = {**settings.CRM, "OUTBOX_RETRY_BASE_SECONDS": 10, "OUTBOX_RETRY_MAX_SECONDS": 40}


class FlakyMailer:
    """A mail connection that fails the way we tell it to, and records what it sent."""

    def __init__(self, fail_open=None, fail_send=None):
        self.fail_open, self.fail_send, self.sent = fail_open, fail_send, []

    def open(self):
        if self.fail_open:
            raise self.fail_open

    def close(self):
        pass

    def send_messages(self, messages):
        if self.fail_send:
            raise self.fail_send
        self.sent.extend(messages)
        return len(messages)


def use_mailer(monkeypatch, mailer):
    class Handler:
        default = mailer

    monkeypatch.setattr(services, "mailers", Handler)


def test_enqueue_writes_each_key_once(staff_user):
    assert services.enqueue(messages=[outgoing(staff_user, 1), outgoing(staff_user, 1), outgoing(staff_user, 2)]) == 2
    assert services.enqueue(messages=[outgoing(staff_user, 1), outgoing(staff_user, 3)]) == 1
    assert OutboxMessage.objects.count() == 3
    row = OutboxMessage.objects.get(subject_id=1001)
    assert row.key == f"commitment_due_today:commitment:1001:2025-03-10:u{staff_user.pk}"
    assert row.status == Status.PENDING and row.attempts == 0


def test_a_claimed_row_is_not_claimed_again_until_its_lease_runs_out(staff_user, settings, time_machine):
    settings.CRM = {**settings.CRM, "OUTBOX_LEASE_SECONDS": 60}
    services.enqueue(messages=[outgoing(staff_user, n) for n in range(3)])
    now = timezone.now()
    first, token1 = services.claim_batch(now=now, size=2)
    second, token2 = services.claim_batch(now=now, size=2)
    assert len(first) == 2 and len(second) == 1
    assert not {r.pk for r in first} & {r.pk for r in second}
    assert services.claim_batch(now=now + dt.timedelta(seconds=59), size=5)[0] == []
    # The worker holding the first batch died: after the lease, another takes it.
    again, token3 = services.claim_batch(now=now + dt.timedelta(seconds=61), size=5)
    assert {r.pk for r in again} == {r.pk for r in first} | {r.pk for r in second}
    assert all(r.attempts == 2 for r in again)
    # The dead worker's late "mark sent" no longer counts.
    assert services._mark_sent(first[0], token1, "s") is False
    assert services._mark_sent(first[0], token3, "s") is True


def test_deliver_marks_rows_sent_with_stable_headers(staff_user, mailoutbox):
    services.enqueue(messages=[outgoing(staff_user, n) for n in range(3)])
    report = services.deliver_due()
    assert (report.sent, report.failed, report.retried) == (3, 0, 0)
    assert OutboxMessage.objects.filter(status=Status.SENT, attempts=1).count() == 3
    rows = {r.key: r for r in OutboxMessage.objects.all()}
    for mail in mailoutbox:
        row = rows[mail.extra_headers["X-Outbox-Key"]]
        assert mail.extra_headers["Message-ID"] == row.message_id == OutboxMessage(key=row.key).message_id
        assert row.rendered_subject == mail.subject
    assert services.deliver_due().sent == 0


def test_an_unreachable_server_leaves_rows_pending_with_back_off(staff_user, monkeypatch, fast_retry, time_machine):
    # The outbox runs on the database's clock; the test drives it by passing `now`
    # (a second ahead, so the rows the database just stamped are due).
    time_machine.move_to(timezone.now() + dt.timedelta(seconds=1), tick=False)
    services.enqueue(messages=[outgoing(staff_user, n) for n in range(3)])
    use_mailer(monkeypatch, FlakyMailer(fail_open=ConnectionRefusedError(111, "Connection refused")))
    report = services.deliver_due(now=timezone.now())
    assert report.retried == 3 and report.sent == 0
    for _ in range(8):  # an outage never marks a row failed: it is not the message's fault
        time_machine.shift(dt.timedelta(seconds=60))
        services.deliver_due(now=timezone.now())
    row = OutboxMessage.objects.first()
    assert row.status == Status.PENDING and row.attempts == 9 and row.failures == 0
    assert "Connection refused" in row.last_error
    # The server comes back: the next scan after the back-off delivers everything.
    good = FlakyMailer()
    use_mailer(monkeypatch, good)
    assert services.deliver_due(now=timezone.now()).sent == 0  # still backing off
    time_machine.shift(dt.timedelta(seconds=41))
    assert services.deliver_due(now=timezone.now()).sent == 3 and len(good.sent) == 3


def test_back_off_grows_and_is_capped(settings):
    settings.CRM = {**settings.CRM, "OUTBOX_RETRY_BASE_SECONDS": 60, "OUTBOX_RETRY_MAX_SECONDS": 900}
    assert [services.backoff(n).total_seconds() for n in range(1, 7)] == [60, 120, 240, 480, 900, 900]


def test_a_temporary_refusal_retries_a_permanent_one_counts_as_a_failure(staff_user, monkeypatch, fast_retry):
    services.enqueue(messages=[outgoing(staff_user)])
    use_mailer(monkeypatch, FlakyMailer(fail_send=smtplib.SMTPDataError(451, b"try again later")))
    services.deliver_due()
    row = OutboxMessage.objects.get()
    assert (row.status, row.failures) == (Status.PENDING, 0) and "451" in row.last_error
    row.next_attempt_at = timezone.now()
    row.save()
    use_mailer(monkeypatch, FlakyMailer(fail_send=smtplib.SMTPRecipientsRefused({row.to_email: (550, b"no such user")})))
    services.deliver_due()
    row.refresh_from_db()
    assert (row.status, row.failures) == (Status.PENDING, 1) and "550" in row.last_error


def test_a_poison_row_fails_after_max_attempts_without_blocking_the_others(
    staff_user, monkeypatch, settings, mailoutbox, time_machine
):
    """R7 (in process): a row whose rendering raises is tried 5 times, then marked failed."""
    time_machine.move_to(timezone.now() + dt.timedelta(seconds=1), tick=False)
    settings.CRM = {**settings.CRM, "OUTBOX_MAX_ATTEMPTS": 5, "OUTBOX_RETRY_BASE_SECONDS": 1}
    services.enqueue(messages=[outgoing(staff_user, n) for n in range(20)])
    poison_key = outgoing(staff_user, 7).key
    real_render = services.render_message

    def render(row):
        if row.key == poison_key:
            raise ValueError("template exploded")
        return real_render(row)

    monkeypatch.setattr(services, "render_message", render)
    scans = 0
    while OutboxMessage.objects.filter(status__in=[Status.PENDING, Status.SENDING]).exists() and scans < 20:
        services.deliver_due(now=timezone.now())
        time_machine.shift(dt.timedelta(seconds=30))
        scans += 1
    poison = OutboxMessage.objects.get(key=poison_key)
    assert (poison.status, poison.attempts, poison.failures) == (Status.FAILED, 5, 5)
    assert "template exploded" in poison.last_error
    assert OutboxMessage.objects.filter(status=Status.SENT).count() == 19 == len(mailoutbox)


def test_rows_whose_workers_keep_dying_are_given_up(staff_user, settings):
    settings.CRM = {**settings.CRM, "OUTBOX_MAX_ATTEMPTS": 2}
    services.enqueue(messages=[outgoing(staff_user)])
    OutboxMessage.objects.update(status=Status.SENDING, attempts=6, lease_until=timezone.now() - dt.timedelta(seconds=1))
    assert services.deliver_due().failed == 1
    assert OutboxMessage.objects.get().status == Status.FAILED


def test_the_sender_costs_at_most_two_queries_per_email(staff_user, django_assert_max_num_queries, mailoutbox):
    services.enqueue(messages=[outgoing(staff_user, n) for n in range(40)])
    # 1 (crash-loop sweep) + 2 per batch of 20 (claim) + 1 per email (mark) + 2 (last, empty claim)
    with django_assert_max_num_queries(2 * 40):
        assert services.deliver_due().sent == 40


# --- tasks -------------------------------------------------------------------------


def test_a_broker_outage_is_logged_never_raised(monkeypatch, caplog, django_capture_on_commit_callbacks):
    """R5: enqueueing delivery on commit swallows broker errors; the periodic scan delivers later."""

    def broker_down(*args, **kwargs):
        raise OperationalError("Error 111 connecting to 127.0.0.1:6390. Connection refused.")

    monkeypatch.setattr(tasks.flush_outbox, "delay", broker_down)
    with django_capture_on_commit_callbacks(execute=True):
        tasks.schedule_delivery(5)
    assert "could not enqueue flush_outbox" in caplog.text


def test_tasks_are_thin_and_idempotent(staff_user, monkeypatch, mailoutbox, django_capture_on_commit_callbacks):
    from tests.factories import CommitmentFactory

    CommitmentFactory(owner=staff_user, due_date=dt.date(2025, 3, 10))
    kicked = []
    monkeypatch.setattr(tasks.flush_outbox, "delay", lambda *a, **k: kicked.append(1))
    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.send_due_reminders.apply(kwargs={"now": "2025-03-10T09:00:00-07:00"}).get() == 1
        assert tasks.send_due_reminders.apply(kwargs={"now": "2025-03-10T09:00:00-07:00"}).get() == 0
        assert tasks.send_weekly_digests.apply(kwargs={"now": "2025-03-10T07:00:00-07:00"}).get() == 1
    assert kicked == [1, 1]
    assert tasks.flush_outbox.apply().get() == 2
    assert {t.name for t in (tasks.send_due_reminders, tasks.send_weekly_digests, tasks.flush_outbox)} == {
        "send_due_reminders",
        "send_weekly_digests",
        "flush_outbox",
    }


def test_the_beat_schedule_names_our_tasks(settings):
    from diplomacy_crm.celery import app

    scheduled = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert scheduled == {
        "send_due_reminders", "send_weekly_digests", "flush_outbox", "deliver_webhooks", "resume_import_jobs",
        "queue_pending_attachment_texts", "poll_mail_capture",
    }
    app.loader.import_default_modules()
    assert scheduled <= set(app.tasks)


def test_commands_reject_a_bad_now():
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        call_command("send_reminders", now="last tuesday")


def test_no_missing_migrations_for_notifications():
    out = io.StringIO()
    call_command("makemigrations", "notifications", "--check", "--dry-run", stdout=out)


# --- pages ---------------------------------------------------------------------------


def test_outbox_page_is_for_officers(client, viewer, staff_user, officer, superuser):
    url = reverse("notifications:outbox")
    assert url == "/outbox/"
    response = client.get(url)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    for user in (viewer, staff_user):
        client.force_login(user)
        assert client.get(url).status_code == 403
    for user in (officer, superuser):
        client.force_login(user)
        response = client.get(url)
        assert response.status_code == 200 and "<h1>Outbox</h1>" in response.content.decode()


def test_outbox_page_shows_state_attempts_and_errors(client, officer, staff_user):
    services.enqueue(messages=[outgoing(staff_user, n, description=f"<b>thing {n}</b>") for n in range(3)])
    OutboxMessage.objects.filter(subject_id=1000).update(
        status=Status.FAILED, attempts=5, failures=5, last_error="SMTPDataError: 554 <rejected>"
    )
    OutboxMessage.objects.filter(subject_id=1001).update(status=Status.SENT, attempts=2, sent_at=timezone.now())
    client.force_login(officer)
    body = client.get("/outbox/").content.decode()
    assert "Failed (1)" in body and "Sent (1)" in body and "Pending (1)" in body
    assert "SMTPDataError: 554 &lt;rejected&gt;" in body
    assert "5 (5 failed)" in body
    failed_only = client.get("/outbox/?status=failed").content.decode()
    assert failed_only.count('class="outbox-row') == 1
    # The status chosen is a chip, removed by a link to the whole outbox (issue 17, as on the other lists).
    assert 'aria-label="Active filters"' in failed_only and "Status: <strong>Failed</strong>" in failed_only
    assert 'href="/outbox/" data-chip="status"' in failed_only
    assert 'aria-label="Active filters"' not in body


def test_outbox_page_size_is_chosen_and_kept(client, officer, staff_user):
    services.enqueue(messages=[outgoing(staff_user, n) for n in range(30)])
    client.force_login(officer)
    default = client.get("/outbox/").content.decode()
    assert default.count('class="outbox-row') == 30  # 50 a page by default
    assert '<option value="50" selected>' in default
    small = client.get("/outbox/?per_page=25&status=pending").content.decode()
    assert small.count('class="outbox-row') == 25
    assert '<option value="25" selected>' in small
    # The next page, the status buttons and the chip keep the page size.
    assert 'href="?per_page=25&amp;status=pending&amp;page=2"' in small
    assert 'href="?per_page=25&amp;status=failed"' in small
    assert 'href="/outbox/?per_page=25" data-chip="status"' in small
    assert client.get("/outbox/?per_page=25&page=2").content.decode().count('class="outbox-row') == 5
    # A size that is not offered falls back to the default.
    assert client.get("/outbox/?per_page=7").content.decode().count('class="outbox-row') == 30


def test_outbox_admin_is_read_only(admin_client, staff_user):
    services.enqueue(messages=[outgoing(staff_user)])
    row = OutboxMessage.objects.get()
    assert admin_client.get("/admin/notifications/outboxmessage/").status_code == 200
    assert admin_client.get("/admin/notifications/outboxmessage/add/").status_code == 403
    assert admin_client.post(f"/admin/notifications/outboxmessage/{row.pk}/delete/", {"post": "yes"}).status_code == 403


def test_preferences_page(client, staff_user):
    url = reverse("accounts:preferences")
    assert url == "/accounts/preferences/"
    assert client.get(url).status_code == 302
    client.force_login(staff_user)
    page = client.get(url)
    assert page.status_code == 200
    old_token = staff_user.profile.calendar_token
    assert old_token in page.content.decode()

    response = client.post(url, {"reminder_lead_days": "14", "digest_opt_out": "on"})
    assert response.status_code == 302
    staff_user.profile.refresh_from_db()
    assert (staff_user.profile.reminder_lead_days, staff_user.profile.digest_opt_out) == (14, True)

    response = client.post(url, {"reminder_lead_days": "0"})
    assert response.status_code == 200 and "reminder_lead_days" in response.context["form"].errors
    staff_user.profile.refresh_from_db()
    assert staff_user.profile.reminder_lead_days == 14

    client.post(url, {"rotate_token": "1"})
    staff_user.profile.refresh_from_db()
    assert staff_user.profile.calendar_token != old_token
    assert staff_user.profile.reminder_lead_days == 14


def test_preferences_changes_reach_the_digest_and_reminders(client, staff_user, mailoutbox):
    from tests.factories import CommitmentFactory

    client.force_login(staff_user)
    client.post("/accounts/preferences/", {"reminder_lead_days": "30", "digest_opt_out": "on"})
    # Due 30 days after the run: reminded at the chosen lead time (the default 7 would be silent).
    CommitmentFactory(owner=staff_user, due_date=dt.date(2025, 4, 9))
    call_command("send_weekly_digest", now="2025-03-10T07:00:00-07:00")
    call_command("send_reminders", now="2025-03-10T07:00:00-07:00")
    assert [m.extra_headers["X-Outbox-Key"].split(":")[0] for m in mailoutbox] == ["commitment_due_soon"]
