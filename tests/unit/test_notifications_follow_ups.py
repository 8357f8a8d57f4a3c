"""Follow-up reminders (an engagement's follow_up_by) go to its owner, or else to its staff who took part.

Never to someone who may not see the engagement, and never merely to
whoever typed it in: a clerk who logs (or imports) a meeting is its owner by
default, but when others took part and the clerk did not, the people who were
there are reminded.
"""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command

from engagements.models import Engagement
from engagements.services import engagement_create
from notifications.models import OutboxMessage
from tests.world import make_user
from tests.factories import EngagementFactory

pytestmark = pytest.mark.django_db

LA = ZoneInfo("America/Los_Angeles")
TODAY = dt.date(2025, 3, 10)
NOW = dt.datetime(2025, 3, 10, 9, 0, tzinfo=LA)


def follow_up_mail(mailoutbox) -> list[str]:
    """Addresses of the follow-up reminders delivered, sorted."""
    call_command("send_reminders", now=NOW.isoformat())
    call_command("send_reminders", now=NOW.isoformat())
    return sorted(m.to[0] for m in mailoutbox if m.extra_headers["X-Outbox-Key"].startswith("engagement_follow_up:"))


def log_meeting(actor, **fields) -> Engagement:
    return engagement_create(
        actor=actor,
        title="Visit of the Consul General",
        kind=Engagement.Kind.BILATERAL_MEETING,
        starts_at=NOW - dt.timedelta(days=7),
        follow_up_by=TODAY,
        **fields,
    )


def test_a_meeting_typed_in_by_a_clerk_reminds_the_people_who_took_part(
    django_user_model, staff_user, other_staff, mailoutbox
):
    clerk = make_user(django_user_model, "clara_clerk", "staff")
    log_meeting(clerk, staff=[staff_user, other_staff])
    assert follow_up_mail(mailoutbox) == sorted([staff_user.email, other_staff.email])


def test_an_owner_who_took_part_is_reminded_alone(staff_user, other_staff, mailoutbox):
    log_meeting(staff_user, staff=[staff_user, other_staff])
    assert follow_up_mail(mailoutbox) == [staff_user.email]


def test_an_owner_named_by_the_clerk_is_reminded(django_user_model, staff_user, other_staff, mailoutbox):
    clerk = make_user(django_user_model, "clara_clerk", "staff")
    log_meeting(clerk, owner=other_staff, staff=[staff_user])
    assert follow_up_mail(mailoutbox) == [other_staff.email]


def test_a_clerk_who_logged_a_meeting_nobody_else_attended_is_still_its_owner(django_user_model, mailoutbox):
    clerk = make_user(django_user_model, "clara_clerk", "staff")
    log_meeting(clerk)
    assert follow_up_mail(mailoutbox) == [clerk.email]


def test_without_an_owner_each_participant_is_reminded(staff_user, other_staff, mailoutbox):
    EngagementFactory(owner=None, follow_up_by=TODAY, staff=[staff_user, other_staff])
    assert follow_up_mail(mailoutbox) == sorted([staff_user.email, other_staff.email])
    assert OutboxMessage.objects.filter(kind="engagement_follow_up").count() == 2


def test_an_owner_who_may_not_see_the_restricted_meeting_is_not_told_of_it(staff_user, other_staff, mailoutbox):
    EngagementFactory(
        owner=other_staff,  # neither took part nor is an officer
        follow_up_by=TODAY,
        confidentiality=Engagement.Confidentiality.RESTRICTED,
        staff=[staff_user],
    )
    assert follow_up_mail(mailoutbox) == [staff_user.email]


def test_participants_who_cannot_get_mail_are_skipped(django_user_model, staff_user, mailoutbox):
    gone = make_user(django_user_model, "gone_staff", "staff", is_active=False)
    no_mail = make_user(django_user_model, "no_mail_staff", "staff", email="")
    EngagementFactory(owner=None, follow_up_by=TODAY, staff=[staff_user, gone, no_mail])
    assert follow_up_mail(mailoutbox) == [staff_user.email]


def test_a_user_without_a_role_is_sent_nothing(django_user_model, staff_user, mailoutbox):
    """A signed-in user with no role sees no data at all: no reminder, no follow-up, no digest."""
    from tests.factories import AgreementFactory, CommitmentFactory

    nobody = django_user_model.objects.create_user("no_role", email="no_role@city.example.org")
    AgreementFactory(owner=nobody, expires_on=TODAY + dt.timedelta(days=30))
    CommitmentFactory(owner=nobody, due_date=TODAY, description="Deliver the roleless thing")
    EngagementFactory(owner=nobody, follow_up_by=TODAY)
    EngagementFactory(owner=None, follow_up_by=TODAY, staff=[nobody, staff_user])
    CommitmentFactory(owner=staff_user, due_date=TODAY)
    call_command("send_reminders", now=NOW.isoformat())
    call_command("send_weekly_digest", now=NOW.isoformat())
    assert [m.to[0] for m in mailoutbox if nobody.email in m.to] == []
    assert sorted(m.extra_headers["X-Outbox-Key"].split(":")[0] for m in mailoutbox) == [
        "commitment_due_today", "engagement_follow_up", "weekly_digest"
    ]
