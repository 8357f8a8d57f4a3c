"""Calendars: the personal feed /calendar.ics?token=… and /engagements/<id>/ics/, parsed back with icalendar."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone
from icalendar import Calendar

from engagements.models import Commitment, Engagement
from tests.factories import CommitmentFactory, EngagementFactory, PartnerFactory

pytestmark = pytest.mark.django_db

MARKER = "ZQX-CALENDAR-LEAK-3141"
OFFICE = ZoneInfo("America/Los_Angeles")


@pytest.fixture
def calendar_world(staff_user, other_staff):
    now = timezone.now()
    partner = PartnerFactory(name="Consulate General of Mexico")
    upcoming = EngagementFactory(
        title="Binational commission", partners=[partner], status="planned", location="City Hall, Room 300",
        starts_at=(now + dt.timedelta(days=10)).replace(second=0, microsecond=0),
        summary="Science, clean energy, culture.",
    )
    past = EngagementFactory(title="Pandemic call", starts_at=now - dt.timedelta(days=30))
    EngagementFactory(title="Too old", starts_at=now - dt.timedelta(days=200))
    EngagementFactory(title="Too far", starts_at=now + dt.timedelta(days=400))
    EngagementFactory(title="Called off", status="cancelled", starts_at=now + dt.timedelta(days=3))
    secret = EngagementFactory(
        title=f"Closed talks {MARKER}", staff=[staff_user], confidentiality=Engagement.Confidentiality.RESTRICTED,
        starts_at=now + dt.timedelta(days=2), summary=f"Notes {MARKER}",
    )
    mine = CommitmentFactory(description="Send the flight study", owner=staff_user, partner=partner,
                             due_date=timezone.localdate() + dt.timedelta(days=5))
    CommitmentFactory(description="Someone else's", owner=other_staff)
    CommitmentFactory(description="Already done", owner=staff_user, status=Commitment.Status.DONE,
                      completed_on=timezone.localdate())
    CommitmentFactory(description=f"Secret promise {MARKER}", owner=staff_user, engagement=secret)
    return {"upcoming": upcoming, "past": past, "secret": secret, "mine": mine}


def _feed(client, user):
    return client.get("/calendar.ics", {"token": user.profile.calendar_token})


def _events(cal):
    return [c for c in cal.walk("VEVENT")]


def test_the_feed_needs_no_login_and_parses_back(client, staff_user, calendar_world):
    response = _feed(client, staff_user)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/calendar")
    raw = response.content
    # Structure: CRLF line ends, folded at 75 octets, one VCALENDAR with a VTIMEZONE.
    assert raw.startswith(b"BEGIN:VCALENDAR\r\n") and raw.endswith(b"END:VCALENDAR\r\n")
    assert all(len(line) <= 75 for line in raw.split(b"\r\n"))
    assert b"\n" not in raw.replace(b"\r\n", b"")
    cal = Calendar.from_ical(raw)
    assert cal["VERSION"] == "2.0" and "PRODID" in cal
    assert [tz["TZID"] for tz in cal.walk("VTIMEZONE")] == ["America/Los_Angeles"]
    events = _events(cal)
    summaries = {str(e["SUMMARY"]) for e in events}
    assert {"Binational commission", "Pandemic call", f"Closed talks {MARKER}"} <= summaries
    assert not {"Too old", "Too far", "Called off", "Someone else's"} & summaries
    assert "Due: Send the flight study (Consulate General of Mexico)" in summaries
    assert not any("Already done" in s for s in summaries)
    # 3 engagements + 2 commitments (one from the restricted meeting staff_user took part in).
    assert len(events) == 5


def test_engagement_times_are_in_the_office_zone_with_stable_uids(client, staff_user, calendar_world):
    upcoming = calendar_world["upcoming"]
    cal = Calendar.from_ical(_feed(client, staff_user).content)
    event = next(e for e in _events(cal) if str(e["SUMMARY"]) == "Binational commission")
    start = event["DTSTART"]
    assert start.params["TZID"] == "America/Los_Angeles"
    assert start.dt == timezone.localtime(upcoming.starts_at) and start.dt.utcoffset() == upcoming.starts_at.astimezone(OFFICE).utcoffset()
    assert event["DTEND"].dt - start.dt == dt.timedelta(hours=1)
    assert str(event["UID"]) == f"engagement-{upcoming.pk}@diplomacy-crm.invalid"
    assert str(event["LOCATION"]) == "City Hall, Room 300"
    assert "DTSTAMP" in event and int(event["SEQUENCE"]) >= 0
    # Editing bumps the sequence, the UID stays.
    first_sequence = int(event["SEQUENCE"])
    upcoming.refresh_from_db()
    Engagement.objects.filter(pk=upcoming.pk).update(updated_at=upcoming.updated_at + dt.timedelta(minutes=5))
    again = next(e for e in _events(Calendar.from_ical(_feed(client, staff_user).content)) if str(e["SUMMARY"]) == "Binational commission")
    assert str(again["UID"]) == str(event["UID"]) and int(again["SEQUENCE"]) > first_sequence


def test_commitments_are_all_day_events_on_their_due_date(client, staff_user, calendar_world):
    cal = Calendar.from_ical(_feed(client, staff_user).content)
    event = next(e for e in _events(cal) if str(e["SUMMARY"]).startswith("Due: Send the flight study"))
    assert event["DTSTART"].dt == calendar_world["mine"].due_date
    assert not isinstance(event["DTSTART"].dt, dt.datetime)
    assert str(event["UID"]) == f"commitment-{calendar_world['mine'].pk}@diplomacy-crm.invalid"


@pytest.mark.parametrize("who,sees", [("viewer", False), ("other_staff", False), ("staff_user", True), ("officer", True)])
def test_restricted_engagements_only_in_the_feeds_of_those_who_may_see_them(client, calendar_world, who, sees, request):
    user = request.getfixturevalue(who)
    body = _feed(client, user).content.decode()
    assert (MARKER in body) is sees
    # Even for those who see it, a restricted meeting's notes stay out of calendar applications.
    assert f"Notes {MARKER}" not in body


def test_unknown_or_rotated_token_is_404(client, staff_user, calendar_world):
    assert client.get("/calendar.ics").status_code == 404
    assert client.get("/calendar.ics", {"token": "nope"}).status_code == 404
    old = staff_user.profile.calendar_token
    staff_user.profile.rotate_calendar_token()
    assert client.get("/calendar.ics", {"token": old}).status_code == 404
    assert client.get("/calendar.ics", {"token": staff_user.profile.calendar_token}).status_code == 200
    staff_user.is_active = False
    staff_user.save()
    assert client.get("/calendar.ics", {"token": staff_user.profile.calendar_token}).status_code == 404


def test_the_preferences_page_rotates_the_feed_address(client, staff_user):
    client.force_login(staff_user)
    old = staff_user.profile.calendar_token
    client.post("/accounts/preferences/", {"rotate_token": "1"})
    staff_user.profile.refresh_from_db()
    assert staff_user.profile.calendar_token != old
    assert client.get("/calendar.ics", {"token": old}).status_code == 404


def test_one_engagement_as_a_file_to_add(client, viewer, staff_user, calendar_world):
    upcoming = calendar_world["upcoming"]
    assert client.get(f"/engagements/{upcoming.pk}/ics/").status_code == 302  # login first
    client.force_login(viewer)
    response = client.get(f"/engagements/{upcoming.pk}/ics/")
    assert response.status_code == 200
    assert "attachment" in response["Content-Disposition"]
    cal = Calendar.from_ical(response.content)
    assert cal["METHOD"] == "PUBLISH"
    (event,) = _events(cal)
    assert str(event["SUMMARY"]) == "Binational commission"
    assert event["DTSTART"].params["TZID"] == "America/Los_Angeles"
    assert "Consulate General of Mexico" in str(event["DESCRIPTION"])
    assert client.get(f"/engagements/{calendar_world['secret'].pk}/ics/").status_code == 404
    client.force_login(staff_user)
    response = client.get(f"/engagements/{calendar_world['secret'].pk}/ics/")
    assert response.status_code == 200
    (event,) = _events(Calendar.from_ical(response.content))
    assert str(event["SUMMARY"]) == calendar_world["secret"].title


def _ics_event(client, engagement):
    (event,) = _events(Calendar.from_ical(client.get(f"/engagements/{engagement.pk}/ics/").content))
    return event


def test_a_meeting_in_the_repeated_hour_of_a_clock_change_keeps_its_instant(client, viewer):
    """2027-11-07 01:30 happens twice in Los Angeles; a TZID time would name the first for every reader."""
    second = dt.datetime(2027, 11, 7, 1, 30, fold=1, tzinfo=OFFICE)  # -08:00, after the clocks went back
    first = dt.datetime(2027, 11, 7, 1, 30, fold=0, tzinfo=OFFICE)  # -07:00
    assert second.utcoffset() == dt.timedelta(hours=-8) and first.utcoffset() == dt.timedelta(hours=-7)
    twenty = dt.timedelta(minutes=20)  # added in UTC: Python adds to a zoned time on the wall clock
    late = EngagementFactory(title="Late call", starts_at=second, ends_at=second.astimezone(dt.UTC) + twenty)
    early = EngagementFactory(title="Early call", starts_at=first, ends_at=first.astimezone(dt.UTC) + twenty)
    ordinary = EngagementFactory(title="Morning", starts_at=dt.datetime(2027, 11, 7, 9, 0, tzinfo=OFFICE))
    client.force_login(viewer)
    for engagement in (late, early):
        event = _ics_event(client, engagement)
        engagement.refresh_from_db()  # as stored (UTC): a fold=1 time never equals another zone's (PEP 495)
        assert event["DTSTART"].dt == engagement.starts_at  # the same instant, whatever the reader's zone rules
        assert event["DTSTART"].dt.utcoffset() == dt.timedelta(0) and "TZID" not in event["DTSTART"].params
        assert event["DTEND"].dt - event["DTSTART"].dt == dt.timedelta(minutes=20)
    assert _ics_event(client, late)["DTSTART"].dt == dt.datetime(2027, 11, 7, 9, 30, tzinfo=dt.UTC)
    # Unambiguous times keep the office's zone.
    event = _ics_event(client, ordinary)
    assert event["DTSTART"].params["TZID"] == "America/Los_Angeles"
    assert event["DTSTART"].dt == ordinary.starts_at
    assert event["DTEND"].dt - event["DTSTART"].dt == dt.timedelta(hours=1)


def test_uids_stay_when_the_site_moves(client, staff_user, calendar_world, settings):
    before = {str(e["UID"]) for e in _events(Calendar.from_ical(_feed(client, staff_user).content))}
    settings.SITE_URL = "https://international.city.example.gov"
    after_cal = Calendar.from_ical(_feed(client, staff_user).content)
    assert {str(e["UID"]) for e in _events(after_cal)} == before
    assert f"engagement-{calendar_world['upcoming'].pk}@diplomacy-crm.invalid" in before
    # Links follow the site; identities do not.
    assert all(str(e["URL"]).startswith("https://international.city.example.gov/") for e in _events(after_cal))


def test_a_restricted_meeting_in_a_participants_feed_is_as_documented(client, staff_user, calendar_world):
    """The calendar module's docstring: CLASS:CONFIDENTIAL; title, time, location and partners; never the notes."""
    secret = calendar_world["secret"]
    secret.location = "Mayor's office"
    secret.outcomes = f"Outcome {MARKER}-2"
    secret.save()
    cal = Calendar.from_ical(_feed(client, staff_user).content)
    event = next(e for e in _events(cal) if str(e["UID"]).startswith(f"engagement-{secret.pk}@"))
    assert str(event["CLASS"]) == "CONFIDENTIAL"
    assert str(event["SUMMARY"]) == f"Closed talks {MARKER}"
    assert str(event["LOCATION"]) == "Mayor's office"
    assert event["DTSTART"].dt == secret.starts_at.replace(microsecond=0)
    description = str(event["DESCRIPTION"])
    assert "Restricted: see the CRM for details." in description
    assert f"Notes {MARKER}" not in description and f"Outcome {MARKER}-2" not in description


@pytest.mark.parametrize("size", [3, 40])
def test_feed_query_count_is_constant(client, staff_user, django_assert_num_queries, size):
    partners = [PartnerFactory() for _ in range(3)]
    for i in range(size):
        EngagementFactory(partners=partners, staff=[staff_user], starts_at=timezone.now() + dt.timedelta(days=i),
                          confidentiality="restricted" if i % 3 == 0 else "internal")
        CommitmentFactory(owner=staff_user, partner=partners[0])
    # profile+user, groups (confidentiality), engagements, their partners, commitments
    with django_assert_num_queries(5):
        response = _feed(client, staff_user)
    assert len(_events(Calendar.from_ical(response.content))) == 2 * size
