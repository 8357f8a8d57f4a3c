"""Reminder rules at their boundaries, in the office time zone (America/Los_Angeles)."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.db import transaction

from engagements.models import Commitment, Engagement
from notifications import services
from notifications.models import OutboxMessage
from partners.models import Agreement
from tests.world import make_user
from tests.factories import AgreementFactory, CommitmentFactory, EngagementFactory, PartnerFactory

pytestmark = pytest.mark.django_db

LA = ZoneInfo("America/Los_Angeles")
# Monday 10 March 2025, 09:00 in Los Angeles (16:00 UTC), the day after DST began.
NOW = dt.datetime(2025, 3, 10, 9, 0, tzinfo=LA)
TODAY = dt.date(2025, 3, 10)


def at(day: dt.date, hour=9, minute=0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=LA)


def kinds(now=NOW) -> list[tuple[str, str]]:
    services.enqueue_due_reminders(now=now)
    return sorted(OutboxMessage.objects.values_list("kind", "period"))


def commitment(owner, due, **kw):
    return CommitmentFactory(owner=owner, due_date=due, **kw)


# --- commitments ---------------------------------------------------------------------


def headlines() -> list[str]:
    return sorted(OutboxMessage.objects.values_list("context__headline", flat=True))


@pytest.mark.parametrize(
    ("days_ahead", "expected"),
    [
        (8, []),  # outside the default 7-day lead
        (7, [("commitment_due_soon", "2025-03-17")]),  # the lead time before the due date begins
        (6, [("commitment_due_soon", "2025-03-16")]),  # still inside it: whenever it was logged
        (1, [("commitment_due_soon", "2025-03-11")]),
        (0, [("commitment_due_today", "2025-03-10")]),
        (-1, [("commitment_overdue", "2025-03-09/w0")]),  # overdue: at once (week 0) ...
        (-6, [("commitment_overdue", "2025-03-04/w0")]),
        (-7, [("commitment_overdue", "2025-03-03/w1")]),  # ... then once a week
        (-13, [("commitment_overdue", "2025-02-25/w1")]),
        (-14, [("commitment_overdue", "2025-02-24/w2")]),
        (-56, [("commitment_overdue", "2025-01-13/w8")]),
        (-62, [("commitment_overdue", "2025-01-07/w8")]),
        (-63, []),  # after week 8 only the weekly digest lists it
    ],
)
def test_the_window_that_holds_today_is_reminded(staff_user, days_ahead, expected):
    commitment(staff_user, TODAY + dt.timedelta(days=days_ahead))
    assert kinds() == expected


def test_it_honours_the_owners_lead_time(staff_user):
    staff_user.profile.reminder_lead_days = 3
    staff_user.profile.save()
    commitment(staff_user, TODAY + dt.timedelta(days=4))
    commitment(staff_user, TODAY + dt.timedelta(days=7))
    assert kinds() == []
    commitment(staff_user, TODAY + dt.timedelta(days=3))
    assert kinds() == [("commitment_due_soon", "2025-03-13")]
    assert headlines() == ["Due in 3 days"]


def test_due_soon_is_sent_once_however_often_the_scan_runs(staff_user):
    commitment(staff_user, TODAY + dt.timedelta(days=5))
    for hour in range(0, 24, 3):
        services.enqueue_due_reminders(now=at(TODAY, hour))
    services.enqueue_due_reminders(now=at(TODAY + dt.timedelta(days=1)))
    assert OutboxMessage.objects.count() == 1


def test_due_today_uses_the_office_date_not_utc(staff_user):
    commitment(staff_user, TODAY)
    # 23:30 in Los Angeles is already the 11th in UTC: still "due today" here.
    assert kinds(at(TODAY, 23, 30)) == [("commitment_due_today", "2025-03-10")]
    # 00:30 the next morning in Los Angeles it is overdue (08:30 UTC, still the 11th there).
    assert kinds(at(TODAY + dt.timedelta(days=1), 0, 30)) == [
        ("commitment_due_today", "2025-03-10"),
        ("commitment_overdue", "2025-03-10/w0"),
    ]
    # A week after the due date, office time, the first overdue reminder.
    assert ("commitment_overdue", "2025-03-10/w1") in kinds(at(TODAY + dt.timedelta(days=7), 0, 30))


def test_overdue_is_reminded_once_a_week_until_done(staff_user):
    c = commitment(staff_user, TODAY)
    for day in range(0, 16):  # the hourly scan, every day for a fortnight
        for hour in (0, 9, 23):
            services.enqueue_due_reminders(now=at(TODAY + dt.timedelta(days=day), hour))
        if day == 3:  # overdue by 3 days: reminded once when it became overdue, not since
            assert kinds(at(TODAY + dt.timedelta(days=day), 23)) == [
                ("commitment_due_today", "2025-03-10"),
                ("commitment_overdue", "2025-03-10/w0"),
            ]
    assert kinds(at(TODAY + dt.timedelta(days=15))) == [
        ("commitment_due_today", "2025-03-10"),
        ("commitment_overdue", "2025-03-10/w0"),
        ("commitment_overdue", "2025-03-10/w1"),
        ("commitment_overdue", "2025-03-10/w2"),
    ]
    assert headlines() == ["Due today", "Overdue by 1 day", "Overdue by 14 days", "Overdue by 7 days"]
    c.status, c.completed_on = Commitment.Status.DONE, TODAY
    c.save()
    services.enqueue_due_reminders(now=at(TODAY + dt.timedelta(days=21)))
    assert OutboxMessage.objects.count() == 4


def test_moving_the_due_date_gives_a_new_reminder(staff_user):
    c = commitment(staff_user, TODAY)
    assert kinds() == [("commitment_due_today", "2025-03-10")]
    c.due_date = TODAY + dt.timedelta(days=7)
    c.save()
    assert kinds() == [("commitment_due_soon", "2025-03-17"), ("commitment_due_today", "2025-03-10")]


def test_a_missed_day_of_scans_still_reminds(staff_user):
    commitment(staff_user, TODAY)  # due on a day nothing ran
    # No scan at all on TODAY; the next morning's scan finds it in its first overdue week.
    assert kinds(at(TODAY + dt.timedelta(days=1), 1)) == [("commitment_overdue", "2025-03-10/w0")]
    assert headlines() == ["Overdue by 1 day"]


def test_a_weekend_of_downtime_loses_nothing(staff_user):
    friday, saturday, sunday, monday = (TODAY + dt.timedelta(days=n) for n in (4, 5, 6, 7))
    services.enqueue_due_reminders(now=at(friday, 18))  # the last scan before the outage
    commitment(staff_user, saturday)  # due on Saturday
    commitment(staff_user, sunday + dt.timedelta(days=7))  # its 7-day lead began on Sunday
    commitment(staff_user, saturday - dt.timedelta(days=7))  # its first overdue week ended on Saturday
    commitment(staff_user, monday + dt.timedelta(days=8))  # not due for a reminder yet
    assert kinds(at(monday, 0, 5)) == [
        ("commitment_due_soon", "2025-03-23"),
        ("commitment_overdue", "2025-03-08/w1"),
        ("commitment_overdue", "2025-03-15/w0"),
    ]
    # The next scans of the week do not repeat them.
    for hour in (12, 18):
        services.enqueue_due_reminders(now=at(monday, hour))
    assert OutboxMessage.objects.count() == 3


def test_after_an_outage_only_the_window_that_holds_today_goes_out(staff_user):
    commitment(staff_user, TODAY - dt.timedelta(days=8))  # due day and week 0 both missed
    assert kinds() == [("commitment_overdue", "2025-03-02/w1")]


def test_a_rolled_back_scan_is_made_up_by_the_next(staff_user):
    commitment(staff_user, TODAY)

    class Boom(Exception):
        pass

    with pytest.raises(Boom):
        with transaction.atomic():
            services.enqueue_due_reminders(now=NOW)
            raise Boom
    assert OutboxMessage.objects.count() == 0
    assert kinds(at(TODAY, 10)) == [("commitment_due_today", "2025-03-10")]


@pytest.mark.parametrize("status", [Commitment.Status.DONE, Commitment.Status.DROPPED])
def test_closed_commitments_are_not_reminded(staff_user, status):
    commitment(staff_user, TODAY, status=status, completed_on=TODAY)
    assert kinds() == []


def test_in_progress_commitments_are_reminded(staff_user):
    commitment(staff_user, TODAY, status=Commitment.Status.IN_PROGRESS)
    assert [k for k, _ in kinds()] == ["commitment_due_today"]


def test_owners_who_cannot_get_mail_are_skipped(django_user_model, staff_user):
    staff_user.is_active = False
    staff_user.save()
    no_email = django_user_model.objects.create_user("no_mail", email="")
    commitment(staff_user, TODAY)
    commitment(no_email, TODAY)
    commitment(None, TODAY)
    assert kinds() == []


def test_restricted_commitment_goes_only_to_an_owner_who_may_see_it(staff_user, other_staff, officer):
    secret = EngagementFactory(confidentiality=Engagement.Confidentiality.RESTRICTED, staff=[staff_user])
    commitment(staff_user, TODAY, engagement=secret)  # took part: reminded
    commitment(other_staff, TODAY, engagement=secret)  # did not: no mail about it
    commitment(officer, TODAY, engagement=secret)  # officers see everything
    services.enqueue_due_reminders(now=NOW)
    assert set(OutboxMessage.objects.values_list("recipient__username", flat=True)) == {
        staff_user.username,
        officer.username,
    }


# --- engagements and agreements ------------------------------------------------------------


def test_follow_up_reminds_the_engagement_owner_when_the_date_is_reached(staff_user):
    EngagementFactory(owner=staff_user, follow_up_by=TODAY + dt.timedelta(days=1))
    assert kinds() == []
    e = EngagementFactory(owner=staff_user, follow_up_by=TODAY)
    assert kinds() == [("engagement_follow_up", "2025-03-10")]
    assert OutboxMessage.objects.get().subject_id == e.pk
    # Two days on: the first is still reminded once, the second's date is now reached too.
    assert kinds(at(TODAY + dt.timedelta(days=2))) == [
        ("engagement_follow_up", "2025-03-10"),
        ("engagement_follow_up", "2025-03-11"),
    ]


def test_cancelled_engagements_need_no_follow_up(staff_user):
    EngagementFactory(owner=staff_user, follow_up_by=TODAY, status=Engagement.Status.CANCELLED)
    assert kinds() == []


@pytest.mark.parametrize(
    ("days_ahead", "expected"),
    [(91, []), (90, ["2025-06-08/90d"]), (31, ["2025-04-10/90d"]), (30, ["2025-04-09/30d"]), (0, ["2025-03-10/30d"])],
)
def test_agreement_expiry_is_reminded_90_and_30_days_ahead(staff_user, days_ahead, expected):
    AgreementFactory(owner=staff_user, expires_on=TODAY + dt.timedelta(days=days_ahead))
    assert [p for _, p in kinds()] == expected


def test_agreement_notice_date_reminds_twice_in_all(staff_user):
    AgreementFactory(owner=staff_user, notice_by=TODAY + dt.timedelta(days=90))
    for day in range(0, 91):
        services.enqueue_due_reminders(now=at(TODAY + dt.timedelta(days=day)))
    assert sorted(OutboxMessage.objects.values_list("kind", "period")) == [
        ("agreement_notice", "2025-06-08/30d"),
        ("agreement_notice", "2025-06-08/90d"),
    ]


def test_only_agreements_in_force_are_reminded(staff_user):
    AgreementFactory(owner=staff_user, expires_on=TODAY, status=Agreement.Status.DRAFT)
    AgreementFactory(owner=staff_user, expires_on=TODAY, status=Agreement.Status.TERMINATED)
    assert kinds() == []


# --- the email itself ---------------------------------------------------------------------


def test_the_reminder_says_what_is_due_and_links_to_it(staff_user, mailoutbox):
    partner = PartnerFactory(name="Consulate of <Japan>")
    c = commitment(staff_user, TODAY, description="Send the <script>alert(1)</script> letter", partner=partner)
    call_command("send_reminders", now=NOW.isoformat())
    (mail,) = mailoutbox
    assert mail.to == [staff_user.email]
    assert mail.subject.startswith("Due today: Send the <script>")
    html = mail.alternatives[0].content
    link = f"https://crm.example.org/commitments/{c.pk}/"
    for part in (mail.body, html):
        assert link in part
        assert "Mon 10 Mar 2025" in part
    assert "Send the <script>alert(1)</script> letter" in mail.body  # plain text is not HTML
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "<script>" not in html
    assert "Consulate of &lt;Japan&gt;" in html
    row = OutboxMessage.objects.get()
    assert mail.extra_headers["X-Outbox-Key"] == row.key
    assert mail.extra_headers["Message-ID"] == row.message_id
    assert row.status == OutboxMessage.Status.SENT and row.sent_at and row.attempts == 1


def test_send_reminders_twice_sends_once(staff_user, mailoutbox):
    commitment(staff_user, TODAY)
    EngagementFactory(owner=staff_user, follow_up_by=TODAY)
    AgreementFactory(owner=staff_user, expires_on=TODAY + dt.timedelta(days=30))
    call_command("send_reminders", now=NOW.isoformat())
    call_command("send_reminders", now=NOW.isoformat())
    assert len(mailoutbox) == 3
    assert len({m.extra_headers["Message-ID"] for m in mailoutbox}) == 3


def test_no_row_without_its_cause_when_the_transaction_rolls_back(staff_user, mailoutbox, django_capture_on_commit_callbacks):
    """R6: the outbox row and the data that caused it commit together or not at all."""

    class Boom(Exception):
        pass

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with pytest.raises(Boom):
            with transaction.atomic():
                commitment(staff_user, TODAY)
                assert services.enqueue_due_reminders(now=NOW) == 1
                raise Boom
    assert OutboxMessage.objects.count() == 0
    assert Commitment.objects.count() == 0
    assert callbacks == [] and mailoutbox == []


def test_reminder_enqueue_runs_a_fixed_number_of_queries(django_user_model, django_assert_max_num_queries):
    owners = [make_user(django_user_model, f"owner{i}", "staff", email=f"o{i}@x.org") for i in range(5)]
    for i, owner in enumerate(owners):
        commitment(owner, TODAY + dt.timedelta(days=i - 2))
        EngagementFactory(owner=owner, follow_up_by=TODAY)
        AgreementFactory(owner=owner, expires_on=TODAY + dt.timedelta(days=20), partners=[PartnerFactory()])
    with django_assert_max_num_queries(10):
        assert services.enqueue_due_reminders(now=NOW) == 15
