"""Times for people abroad: an engagement's venue time zone, shown beside the office time everywhere.

An audience in Rome at 10:00 Rome time is stored as an instant (08:00 UTC in May); the office (Los Angeles)
reads 01:00. Pages, the briefing (HTML and PDF), the digest and the follow-up reminder show the office
time and then "10:00–11:00 Rome time"; the .ics writes the event in Europe/Rome with its VTIMEZONE.
"""

import datetime as dt
import io
import re

import pytest
from django.core.exceptions import ValidationError
from pypdf import PdfReader

from diplomacy_crm import officetime
from engagements.forms import EngagementForm
from engagements.models import Engagement
from notifications.digest import _engagement_item
from tests.api.conftest import db_snapshot, token_client
from tests.factories import EngagementFactory, PartnerFactory

pytestmark = pytest.mark.django_db

UTC = dt.UTC
ROME_AUDIENCE_AT = dt.datetime(2026, 5, 12, 8, 0, tzinfo=UTC)  # 10:00 in Rome (CEST), 01:00 in Los Angeles (PDT)
TOKYO_CALL_AT = dt.datetime(2026, 6, 1, 23, 0, tzinfo=UTC)  # 16:00 Mon in Los Angeles, 08:00 Tue in Tokyo


@pytest.fixture(autouse=True)
def office_in_los_angeles(settings):
    settings.TIME_ZONE = "America/Los_Angeles"


@pytest.fixture
def rome_audience():
    holy_see = PartnerFactory(name="Holy See", kind="religious", country="VA", city="Vatican City")
    return EngagementFactory(
        title="Papal audience", kind="visit_abroad", partners=[holy_see], location="Apostolic Palace",
        starts_at=ROME_AUDIENCE_AT, ends_at=ROME_AUDIENCE_AT + dt.timedelta(hours=1), venue_timezone="Europe/Rome",
    )


@pytest.fixture
def tokyo_call():
    metro = PartnerFactory(name="Tokyo Metropolitan Government", country="JP", city="Tokyo")
    return EngagementFactory(
        title="Call with Tokyo on hydrogen", kind="call", status="planned", partners=[metro], is_virtual=True,
        starts_at=TOKYO_CALL_AT, ends_at=TOKYO_CALL_AT + dt.timedelta(minutes=30), venue_timezone="Asia/Tokyo",
    )


def test_the_phrase_names_the_venues_clock_and_its_date_only_when_it_differs():
    assert officetime.venue_phrase(ROME_AUDIENCE_AT, "Europe/Rome", ROME_AUDIENCE_AT + dt.timedelta(hours=1)) == (
        "10:00–11:00 Rome time"
    )
    assert officetime.venue_phrase(TOKYO_CALL_AT, "Asia/Tokyo") == "Tue Jun 2, 08:00 Tokyo time"
    assert officetime.venue_phrase(TOKYO_CALL_AT, "America/Argentina/Buenos_Aires") == "20:00 Buenos Aires time"
    # The office's own clock, or a zone that reads the same at that instant, adds nothing.
    assert officetime.venue_phrase(ROME_AUDIENCE_AT, "America/Los_Angeles") == ""
    assert officetime.venue_phrase(ROME_AUDIENCE_AT, "America/Vancouver") == ""
    assert officetime.venue_phrase(ROME_AUDIENCE_AT, "") == ""


def test_only_known_zones_are_accepted():
    officetime.validate_time_zone("Europe/Rome")
    officetime.validate_time_zone("")
    for bad in ("Mars/Olympus_Mons", "europe/rome", "+02:00", "Europe/Rome\x00"):
        with pytest.raises(ValidationError):
            officetime.validate_time_zone(bad)
    engagement = Engagement(title="x", kind="call", starts_at=ROME_AUDIENCE_AT, venue_timezone="Nowhere/Atlantis")
    with pytest.raises(ValidationError) as raised:
        engagement.full_clean(exclude=["owner", "trade_mission"])
    assert "venue_timezone" in raised.value.message_dict


def test_the_engagement_page_shows_office_time_then_rome_time(client, viewer, rome_audience):
    client.force_login(viewer)
    page = client.get(f"/engagements/{rome_audience.pk}/").content.decode()
    subtitle = re.search(r'<p class="crm-subtitle">(.*?)</p>', page, re.S).group(1)
    text = " ".join(re.sub(r"<[^>]+>", " ", subtitle).split())
    # (the office time's <time> element ends before its end time, hence the space in "01:00 –02:00")
    assert "Tuesday, May 12, 2026, 01:00 –02:00 (America/Los_Angeles) · 10:00–11:00 Rome time" in text


def test_an_engagement_at_the_office_shows_one_time(client, viewer):
    engagement = EngagementFactory(title="At City Hall", starts_at=ROME_AUDIENCE_AT)
    client.force_login(viewer)
    page = client.get(f"/engagements/{engagement.pk}/").content.decode()
    assert " time</span>" not in page and 'data-testid="venue-time"' not in page


def test_a_planned_call_with_a_partner_abroad_shows_both_times(client, staff_user, tokyo_call):
    client.force_login(staff_user)
    page = " ".join(re.sub(r"<[^>]+>", " ", client.get(f"/engagements/{tokyo_call.pk}/").content.decode()).split())
    assert "Monday, June 1, 2026, 16:00 –16:30 (America/Los_Angeles) · Tue Jun 2, 08:00–08:30 Tokyo time" in page
    briefing = " ".join(
        re.sub(r"<[^>]+>", " ", client.get(f"/engagements/{tokyo_call.pk}/briefing/").content.decode()).split()
    )
    assert "Monday, Jun 1, 2026 16:00 – 16:30 (America/Los_Angeles) Tue Jun 2, 08:00–08:30 Tokyo time" in briefing


def test_the_briefing_shows_rome_time_in_html_and_pdf(client, viewer, rome_audience):
    client.force_login(viewer)
    html = client.get(f"/engagements/{rome_audience.pk}/briefing/").content.decode()
    assert "Tuesday, May 12, 2026 01:00 – 02:00 (America/Los_Angeles)<br>10:00–11:00 Rome time" in html
    pdf = client.get(f"/engagements/{rome_audience.pk}/briefing/", {"format": "pdf"}).content
    text = " ".join("\n".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages).split())
    assert "01:00 – 02:00 (America/Los_Angeles)" in text and "10:00–11:00 Rome time" in text


def test_the_ics_is_written_in_the_venues_zone(client, viewer, rome_audience):
    client.force_login(viewer)
    ics = client.get(f"/engagements/{rome_audience.pk}/ics/").content.decode().replace("\r\n ", "")
    assert "DTSTART;TZID=Europe/Rome:20260512T100000" in ics
    assert "DTEND;TZID=Europe/Rome:20260512T110000" in ics
    assert "BEGIN:VTIMEZONE\r\nTZID:Europe/Rome" in ics
    assert "10:00–11:00 Rome time\\; office time Tue 12 May 2026\\, 01:00 (America/Los_Angeles)" in ics


def test_the_personal_feed_carries_each_zone_it_uses(client, viewer, rome_audience):
    office = EngagementFactory(title="At City Hall", starts_at=ROME_AUDIENCE_AT + dt.timedelta(days=1))
    from dashboard.calendar.ics import user_feed

    feed = user_feed(viewer, now=ROME_AUDIENCE_AT).to_ical().decode()
    assert "TZID:Europe/Rome" in feed and "TZID:America/Los_Angeles" in feed
    assert "DTSTART;TZID=Europe/Rome:20260512T100000" in feed
    assert f"engagement-{office.pk}@" in feed and "DTSTART;TZID=America/Los_Angeles:20260513T010000" in feed


def test_the_digest_and_the_follow_up_reminder_show_both_times(rome_audience):
    item = _engagement_item(Engagement.objects.prefetch_related("partners").get(pk=rome_audience.pk))
    assert item["when"] == "Tue 12 May 2026, 01:00 · 10:00–11:00 Rome time"

    from notifications.selectors import _follow_up_reminder

    class Recipient:
        pk, email, first_name, username = 1, "a@city.example.org", "Ana", "ana"

    rome_audience.partner_names = "Holy See"
    rome_audience.follow_up_by = dt.date(2026, 5, 20)
    outgoing = _follow_up_reminder(rome_audience, Recipient(), dt.date(2026, 5, 20))
    assert outgoing.context["held_on"] == "Tue 12 May 2026, 01:00 · 10:00–11:00 Rome time"


def test_the_form_offers_the_venue_zone_and_refuses_an_unknown_one():
    form = EngagementForm()
    choices = dict(form.fields["venue_timezone"].choices)
    assert choices[""] == "Same as the office (America/Los_Angeles)" and choices["Europe/Rome"] == "Europe/Rome"
    bound = EngagementForm(data={"venue_timezone": "Nowhere/Atlantis"})
    assert not bound.is_valid() and "venue_timezone" in bound.errors
    bound = EngagementForm(data={"venue_timezone": "Europe/Rome"})
    bound.is_valid()
    assert "venue_timezone" not in bound.errors and bound.cleaned_data["venue_timezone"] == "Europe/Rome"
    rendered = str(EngagementForm()["venue_timezone"])
    assert 'name="venue_timezone"' in rendered


def test_the_api_reads_and_writes_the_venue_zone(officer, db):
    partner = PartnerFactory(name="Comune di Roma", country="IT", city="Rome")
    client = token_client(officer)
    body = {
        "title": "Audience", "kind": "visit_abroad", "starts_at": "2026-05-12T10:00:00+02:00",
        "partners": [partner.pk], "venue_timezone": "Europe/Rome",
    }
    response = client.post("/api/v1/engagements/", body, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["venue_timezone"] == "Europe/Rome"
    assert Engagement.objects.get(pk=response.json()["id"]).venue_timezone == "Europe/Rome"

    before = db_snapshot()
    response = client.post("/api/v1/engagements/", {**body, "venue_timezone": "Mars/Olympus_Mons"}, format="json")
    assert response.status_code == 400 and "venue_timezone" in response.json()
    assert db_snapshot() == before

    schema = client.get("/api/v1/schema/", {"format": "json"}).json()
    field = schema["components"]["schemas"]["Engagement"]["properties"]["venue_timezone"]
    assert field["type"] == "string" and "IANA" in field["description"]


def test_the_partner_pages_history_shows_the_venue_time(client, viewer, rome_audience):
    partner = rome_audience.partners.get()
    EngagementFactory(title="At City Hall", partners=[partner], starts_at=ROME_AUDIENCE_AT - dt.timedelta(days=30))
    client.force_login(viewer)
    page = client.get(f"/partners/{partner.pk}/").content.decode()
    items = re.findall(r'<li class="dash-timeline__item.*?</li>', page, re.S)
    audience = next(item for item in items if "Papal audience" in item)
    text = " ".join(re.sub(r"<[^>]+>", " ", audience).split())
    assert "May 12, 2026 01:00 10:00 Rome time" in text
    at_home = next(item for item in items if "At City Hall" in item)
    assert " time<" not in at_home and "crm-venue-time" not in at_home
