"""Reminders by window, not by date (issue 14, QUALITY R11).

A commitment gets its reminder at the first scan after it enters a window,
however it got there: logged late, logged overdue, its due date moved, or
handed to a new owner. Each path is checked across three runs of
`send_reminders --now ...` (the same instant twice, then the next morning):
exactly one email, to the right person, saying the right thing.

In every test the hourly scan already ran earlier that day, before the
commitment appeared: the steady state in which reminders by exact date were
lost.
"""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command

from engagements.models import Commitment
from notifications.models import OutboxMessage
from tests.factories import CommitmentFactory

pytestmark = pytest.mark.django_db

LA = ZoneInfo("America/Los_Angeles")
TODAY = dt.date(2025, 3, 10)  # a Monday, the day after DST began


def at(day: dt.date, hour=9) -> str:
    return dt.datetime.combine(day, dt.time(hour), tzinfo=LA).isoformat()


def scan(day: dt.date, hour=9) -> None:
    call_command("send_reminders", now=at(day, hour))


def three_scans(day: dt.date) -> None:
    """The same instant twice (a rerun), then the next morning's scan."""
    scan(day, 10)
    scan(day, 10)
    scan(day + dt.timedelta(days=1), 9)


def sent(mailoutbox) -> list[tuple[str, str, str]]:
    """(recipient, kind, period) of every reminder email delivered."""
    rows = dict(OutboxMessage.objects.values_list("key", "kind"))
    result = []
    for mail in mailoutbox:
        key = mail.extra_headers["X-Outbox-Key"]
        period = OutboxMessage.objects.get(key=key).period
        result.append((mail.to[0], rows[key], period))
    return sorted(result)


@pytest.fixture
def steady_state(staff_user):
    """The hourly scan ran at 08:00 today and found nothing."""
    scan(TODAY, 8)
    return staff_user


def test_logged_inside_the_window_gets_due_soon_at_the_next_scan(steady_state, staff_user, mailoutbox):
    # Lead time 7 days (the default); logged 3 days before it is due.
    CommitmentFactory(owner=staff_user, due_date=TODAY + dt.timedelta(days=3), description="Send the MoU draft")
    three_scans(TODAY)
    assert sent(mailoutbox) == [(staff_user.email, "commitment_due_soon", "2025-03-13")]
    assert mailoutbox[0].subject.startswith("Due in 3 days: Send the MoU draft")


def test_logged_overdue_gets_overdue_at_the_next_scan(steady_state, staff_user, mailoutbox):
    CommitmentFactory(owner=staff_user, due_date=TODAY - dt.timedelta(days=5), description="Thank-you letter")
    three_scans(TODAY)
    assert sent(mailoutbox) == [(staff_user.email, "commitment_overdue", "2025-03-05/w0")]
    assert mailoutbox[0].subject.startswith("Overdue by 5 days: Thank-you letter")


def test_due_date_moved_into_the_window_gets_due_soon(steady_state, staff_user, mailoutbox):
    c = CommitmentFactory(owner=staff_user, due_date=TODAY + dt.timedelta(days=30))
    scan(TODAY, 9)
    assert mailoutbox == []
    c.due_date = TODAY + dt.timedelta(days=2)
    c.save()
    three_scans(TODAY)
    assert sent(mailoutbox) == [(staff_user.email, "commitment_due_soon", "2025-03-12")]


def test_a_new_owner_inside_the_window_gets_their_own_reminder(steady_state, staff_user, other_staff, mailoutbox):
    c = CommitmentFactory(owner=staff_user, due_date=TODAY + dt.timedelta(days=7))
    scan(TODAY, 9)  # its lead time begins today: the first owner is reminded
    assert sent(mailoutbox) == [(staff_user.email, "commitment_due_soon", "2025-03-17")]
    day = TODAY + dt.timedelta(days=2)
    scan(day, 8)
    c.owner = other_staff
    c.save()
    three_scans(day)
    assert sent(mailoutbox) == [
        (other_staff.email, "commitment_due_soon", "2025-03-17"),
        (staff_user.email, "commitment_due_soon", "2025-03-17"),
    ]


def test_due_today_logged_on_the_day_after_the_morning_scan(steady_state, staff_user, mailoutbox):
    CommitmentFactory(owner=staff_user, due_date=TODAY)
    three_scans(TODAY)
    # Due today at 10:00; the next morning it is overdue (the first overdue week begins).
    assert sent(mailoutbox) == [
        (staff_user.email, "commitment_due_today", "2025-03-10"),
        (staff_user.email, "commitment_overdue", "2025-03-10/w0"),
    ]


def test_the_whole_life_of_a_commitment_scanned_hourly(staff_user, mailoutbox):
    """Every reminder once: due soon, due today, overdue at once and then weekly for 8 weeks; then silence."""
    CommitmentFactory(owner=staff_user, due_date=TODAY)
    for offset in range(-10, 80):
        for hour in (0, 9, 23):
            scan(TODAY + dt.timedelta(days=offset), hour)
    assert [(kind, period) for _, kind, period in sent(mailoutbox)] == sorted(
        [("commitment_due_soon", "2025-03-10"), ("commitment_due_today", "2025-03-10")]
        + [("commitment_overdue", f"2025-03-10/w{week}") for week in range(0, 9)]
    )
    assert len({m.extra_headers["Message-ID"] for m in mailoutbox}) == 11


def test_done_before_the_window_is_never_reminded(steady_state, staff_user, mailoutbox):
    CommitmentFactory(
        owner=staff_user, due_date=TODAY + dt.timedelta(days=3), status=Commitment.Status.DONE, completed_on=TODAY
    )
    three_scans(TODAY)
    assert mailoutbox == []
