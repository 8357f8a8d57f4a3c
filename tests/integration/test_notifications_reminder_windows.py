"""Reminders by window with the real moving parts (issue 14, QUALITY R11 and R2).

- Through a real Celery worker (`send_due_reminders` called by name, as beat
  or `celery call` would) and an SMTP sink: a commitment logged inside its
  window, one logged overdue, one whose due date is moved into its window and
  one handed to a new owner each get their reminder once, across three calls
  of the task.
- Two scans at once (threads on PostgreSQL, each `send_reminders --now`):
  each reminder is written and sent once.
"""

import datetime as dt
import threading
import time
import uuid
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.db import connection

from engagements.models import Commitment
from notifications import services
from notifications.models import OutboxMessage

from .notification_helpers import Figures, celery_client, give_role, wait_until

LA = ZoneInfo("America/Los_Angeles")
TODAY = dt.date(2025, 3, 10)
Status = OutboxMessage.Status


def at(day: dt.date, hour: int) -> str:
    return dt.datetime.combine(day, dt.time(hour), tzinfo=LA).isoformat()


def key(kind: str, commitment: Commitment, period: str) -> str:
    return OutboxMessage.make_key(
        kind=kind, subject_type="commitment", subject_id=commitment.pk, period=period, recipient_id=commitment.owner_id
    )


def entry_paths(django_user_model, n: int = 1) -> set[str]:
    """n commitments on each entry path, after a morning scan (08:00) that ran before they entered
    their window. Returns the outbox keys that must each be sent exactly once."""
    tag = uuid.uuid4().hex[:6]
    users = give_role(
        django_user_model.objects.bulk_create(
            [django_user_model(username=f"u-{tag}-{i}", email=f"u-{tag}-{i}@city.example.org") for i in range(5 * n)]
        )
    )
    expected = set()
    handed_over, moved = [], []
    for i in range(n):
        a, b, c, d, e = users[5 * i : 5 * i + 5]
        # Handed over later: due in 5 days, so its first owner is reminded by the morning scan.
        handed_over.append((Commitment.objects.create(description=f"Hand over {i}", owner=d, due_date=TODAY + dt.timedelta(days=5)), e))
        # Moved later: due in a month at first.
        moved.append(Commitment.objects.create(description=f"Move {i}", owner=c, due_date=TODAY + dt.timedelta(days=30)))
        expected.add(key("commitment_due_soon", handed_over[-1][0], "2025-03-15"))
    services.enqueue_due_reminders(now=dt.datetime.fromisoformat(at(TODAY, 8)))
    for i in range(n):
        a, b = users[5 * i], users[5 * i + 1]
        inside = Commitment.objects.create(description=f"Logged inside {i}", owner=a, due_date=TODAY + dt.timedelta(days=3))
        overdue = Commitment.objects.create(description=f"Logged overdue {i}", owner=b, due_date=TODAY - dt.timedelta(days=5))
        expected |= {key("commitment_due_soon", inside, "2025-03-13"), key("commitment_overdue", overdue, "2025-03-05/w0")}
        moved[i].due_date = TODAY + dt.timedelta(days=2)
        moved[i].save()
        expected.add(key("commitment_due_soon", moved[i], "2025-03-12"))
        commitment, new_owner = handed_over[i]
        commitment.owner = new_owner
        commitment.save()
        expected.add(key("commitment_due_soon", commitment, "2025-03-15"))
    return expected


@pytest.mark.celery
@pytest.mark.redis
@pytest.mark.smtp
def test_each_entry_path_is_reminded_once_through_a_celery_worker(
    celery_workers, redis_url, smtp_sink, django_user_model
):
    expected = entry_paths(django_user_model)
    assert len(expected) == 5
    broker = celery_client(redis_url)
    celery_workers("w1")
    for now in (at(TODAY, 10), at(TODAY, 10), at(TODAY + dt.timedelta(days=1), 9)):
        broker.send_task("send_due_reminders", kwargs={"now": now})
    assert wait_until(
        lambda: OutboxMessage.objects.filter(status=Status.SENT).count() >= len(expected),
        timeout=60,
        tick=lambda: broker.send_task("flush_outbox"),
    )
    time.sleep(2)  # anything extra would arrive now
    figures = Figures(expected, smtp_sink)
    print(f"R11 celery: {figures}")
    assert figures.lost == 0 and figures.duplicates == 0 and not figures.unexpected, figures
    assert set(OutboxMessage.objects.values_list("key", flat=True)) == expected
    by_key = {m["X-Outbox-Key"]: m for m in smtp_sink.messages}
    subjects = sorted(m["Subject"].split(":")[0] for m in by_key.values())
    assert subjects == ["Due in 2 days", "Due in 3 days", "Due in 5 days", "Due in 5 days", "Overdue by 5 days"]


@pytest.mark.smtp
@pytest.mark.django_db(transaction=True)
def test_two_concurrent_scans_send_each_reminder_once(postgres_required, django_user_model, outbox_to_sink):
    sink = outbox_to_sink
    expected = entry_paths(django_user_model, n=20)
    # The morning scan's rows (the first owners' reminders) are not these scans' business.
    morning = set(OutboxMessage.objects.values_list("key", flat=True))
    OutboxMessage.objects.all().delete()
    expected -= morning
    assert len(expected) == 80
    start = threading.Barrier(2)
    errors = []

    def scan():
        try:
            start.wait(10)
            for _ in range(3):
                call_command("send_reminders", now=at(TODAY, 10))
        except Exception as exc:  # reported below, not lost in the thread
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=scan) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert not errors, errors
    figures = Figures(expected, sink)
    print(f"R2/R11 two concurrent scans x 3 runs each: {figures}")
    assert figures.lost == 0 and figures.duplicates == 0 and not figures.unexpected, figures
    assert OutboxMessage.objects.filter(key__in=expected, status=Status.SENT).count() == 80
    assert OutboxMessage.objects.count() == 80
