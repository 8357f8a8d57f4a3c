"""One clock and quick recovery: claims and leases on the database's clock (PostgreSQL, real threads).

- a worker whose clock runs 125 s fast takes no row (and no import job) whose lease is live;
- a claim abandoned by a dead worker is delivered within lease + one scan interval;
- a sender slower than its lease renews it, so nobody sends its rows twice;
- two overlapping reminder scans report (and queue sends for) only the rows each inserted.
"""

import datetime as dt
import threading
import time
from collections import Counter

import pytest
from django.db import connection, transaction
from django.db.models import DateTimeField, ExpressionWrapper
from django.db.models.functions import Now
from django.utils import timezone

from imports import services as import_services
from imports.models import ImportJob
from notifications import services, tasks
from notifications.models import OutboxMessage
from notifications.selectors import Outgoing

Status = OutboxMessage.Status
SKEW = dt.timedelta(seconds=125)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("postgres_required")]


def messages(user, n: int, tag: str = "x") -> list[Outgoing]:
    return [
        Outgoing(
            kind=OutboxMessage.Kind.COMMITMENT_DUE_TODAY, recipient_id=user.pk, to_email=user.email,
            subject_type="commitment", subject_id=5000 + i, period=f"2025-03-10-{tag}", summary=f"Due: item {i}",
            context={"first_name": "Sam", "headline": "Due today", "description": f"Item {i}", "due_date": "Mon 10 Mar 2025",
                     "status": "Open", "partner": "", "engagement": "", "url": f"https://crm.example.org/commitments/{i}/"},
        )
        for i in range(n)
    ]


class RecordingMailer:
    """A mail connection that records each message's outbox key, optionally slowly."""

    def __init__(self, delay: float = 0.0):
        self.delay, self.keys, self.lock = delay, Counter(), threading.Lock()

    def open(self):
        pass

    def close(self):
        pass

    def send_messages(self, batch):
        time.sleep(self.delay)
        with self.lock:
            for message in batch:
                self.keys[message.extra_headers["X-Outbox-Key"]] += 1
        return len(batch)


@pytest.fixture
def mailer(monkeypatch):
    recording = RecordingMailer()

    class Handler:
        default = recording

    monkeypatch.setattr(services, "mailers", Handler)
    return recording


def in_thread(target, *args):
    """Run target in a thread of its own (its own database connection); return its result or raise its error."""
    out = {}

    def run():
        try:
            out["value"] = target(*args)
        except BaseException as exc:  # re-raised in the test's thread
            out["error"] = exc
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(60)
    if "error" in out:
        raise out["error"]
    return out.get("value")


def test_a_worker_whose_clock_runs_fast_never_takes_a_live_outbox_lease(staff_user, settings, mailer, time_machine):
    settings.CRM = {**settings.CRM, "OUTBOX_LEASE_SECONDS": 60}
    services.enqueue(messages=messages(staff_user, 5))
    held, token = in_thread(lambda: services.claim_batch(size=10))  # a worker with a good clock; then it dies
    assert len(held) == 5

    # Another worker's clock runs 125 s fast: by its own time every lease above has run out.
    time_machine.move_to(timezone.now() + SKEW, tick=True)
    report = in_thread(services.deliver_due)
    assert (report.sent, report.batches) == (0, 0)
    assert mailer.keys == Counter()
    assert OutboxMessage.objects.filter(status=Status.SENDING, claim_token=token).count() == 5
    # The lease written was the database's now + 60 s, whatever the claiming worker's clock said.
    with connection.cursor() as cursor:
        cursor.execute("SELECT now()")
        (db_now,) = cursor.fetchone()
    for row in OutboxMessage.objects.all():
        assert dt.timedelta(seconds=55) < row.lease_until - db_now <= dt.timedelta(seconds=60)


def test_a_worker_whose_clock_runs_fast_never_takes_a_live_import_job(officer, time_machine):
    job = ImportJob.objects.create(kind="partners", created_by=officer, filename="p.csv", content=b"", status="importing")
    # Held by a worker whose lease has a minute left, by the database's clock.
    lease = dt.timedelta(seconds=import_services.lease_seconds())
    almost_over = ExpressionWrapper(Now() - lease + dt.timedelta(seconds=60), output_field=DateTimeField())
    ImportJob.objects.filter(pk=job.pk).update(claimed_at=almost_over)

    time_machine.move_to(timezone.now() + SKEW, tick=True)
    assert in_thread(import_services._claim, job.pk, "importing") is None
    time_machine.move_to(timezone.now() - SKEW, tick=True)

    # Once the lease has really run out (by the database's clock), the job is taken over.
    stale = ExpressionWrapper(Now() - lease - dt.timedelta(seconds=1), output_field=DateTimeField())
    ImportJob.objects.filter(pk=job.pk).update(claimed_at=stale)
    assert in_thread(import_services._claim, job.pk, "importing") is not None


def test_an_abandoned_claim_is_delivered_within_lease_plus_one_scan_interval(staff_user, settings, mailer):
    """The bound the README states (lease + flush interval), at test scale: a 2 s lease, a scan every second."""
    lease, interval = 2.0, 1.0
    settings.CRM = {**settings.CRM, "OUTBOX_LEASE_SECONDS": lease}
    services.enqueue(messages=messages(staff_user, 3))
    held, _ = in_thread(lambda: services.claim_batch(size=10))  # claimed, and the worker is gone
    claimed_at = time.monotonic()
    assert len(held) == 3

    delivered_at = None
    while time.monotonic() - claimed_at < lease + 3 * interval:  # what beat does: a flush every interval
        in_thread(services.deliver_due)
        if not OutboxMessage.objects.exclude(status=Status.SENT).exists():
            delivered_at = time.monotonic()
            break
        time.sleep(interval)
    assert delivered_at is not None, "the abandoned rows were never delivered"
    took = delivered_at - claimed_at
    print(f"recovery: abandoned claim delivered {took:.2f} s after it was made (lease {lease} s, scan every {interval} s)")
    assert lease <= took <= lease + interval + 0.5
    assert mailer.keys == Counter({row.key: 1 for row in OutboxMessage.objects.all()})
    assert set(OutboxMessage.objects.values_list("attempts", flat=True)) == {2}


def test_a_sender_slower_than_its_lease_renews_it_and_nobody_sends_twice(staff_user, settings, monkeypatch):
    settings.CRM = {**settings.CRM, "OUTBOX_LEASE_SECONDS": 1.5}
    slow = RecordingMailer(delay=0.6)  # five sends: 3 s, twice the lease

    class Handler:
        default = slow

    monkeypatch.setattr(services, "mailers", Handler)
    services.enqueue(messages=messages(staff_user, 5))
    first = threading.Thread(target=lambda: (services.deliver_due(), connection.close()))
    first.start()
    time.sleep(0.2)
    rivals = []
    while first.is_alive():  # a second worker scanning all along
        rivals.append(in_thread(services.deliver_due).sent)
        time.sleep(0.2)
    first.join()
    assert sum(rivals) == 0
    assert OutboxMessage.objects.filter(status=Status.SENT, attempts=1).count() == 5
    assert set(slow.keys.values()) == {1} and len(slow.keys) == 5


def test_overlapping_reminder_scans_count_only_the_rows_they_inserted(staff_user, monkeypatch):
    """Two scans both find the keys missing, then both insert: one writes them, the other is told 0."""
    both_looked = threading.Barrier(2, timeout=20)
    real_insert = services._insert_new

    def insert_after_both_looked(rows):
        both_looked.wait()
        return real_insert(rows)

    monkeypatch.setattr(services, "_insert_new", insert_after_both_looked)
    kicked = []
    monkeypatch.setattr(tasks.flush_outbox, "delay_on_commit", lambda: kicked.append(1))
    wanted = messages(staff_user, 200)

    def scan():
        with transaction.atomic():
            created = services.enqueue(messages=wanted)
            tasks.schedule_delivery(created)
        return created

    results = []
    threads = [threading.Thread(target=lambda: (results.append(scan()), connection.close())) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(results) == [0, 200]
    assert OutboxMessage.objects.count() == 200
    # Sends are queued for the rows written, once: OUTBOX_FLUSH_FANOUT (2) flushes, not twice that.
    assert len(kicked) == 2


def test_insert_counts_existing_keys_out(staff_user):
    services.enqueue(messages=messages(staff_user, 3))
    rows = [
        OutboxMessage(key=m.key, kind=m.kind, recipient_id=m.recipient_id, to_email=m.to_email, subject_type=m.subject_type,
                      subject_id=m.subject_id, period=m.period, summary=m.summary, context=m.context, next_attempt_at=Now())
        for m in messages(staff_user, 5)
    ]
    with transaction.atomic():
        assert services._insert_new(rows) == 2
    assert OutboxMessage.objects.count() == 5
