"""In Chromium: a meeting abroad shows the office time and the venue's, is set from the meeting form, and the
pages that show it (engagement, partner, briefing) have no serious accessibility violations."""

import datetime as dt

import pytest

from engagements.models import Engagement
from tests.browser.helpers import serious_violations
from tests.factories import EngagementFactory, PartnerFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ROME_AUDIENCE_AT = dt.datetime(2026, 5, 12, 8, 0, tzinfo=dt.UTC)  # 10:00 in Rome, 01:00 in Los Angeles


@pytest.fixture(autouse=True)
def office_in_los_angeles(settings):
    settings.TIME_ZONE = "America/Los_Angeles"


def test_an_audience_in_rome_reads_ten_oclock_rome_time_everywhere(web, officer):
    holy_see = PartnerFactory(name="Holy See", kind="religious", country="VA", city="Vatican City")
    audience = EngagementFactory(
        title="Papal audience", kind="visit_abroad", partners=[holy_see], starts_at=ROME_AUDIENCE_AT,
        ends_at=ROME_AUDIENCE_AT + dt.timedelta(hours=1), venue_timezone="Europe/Rome",
    )
    web.login("omar_officer")
    found = {}
    web.visit(f"/engagements/{audience.pk}/")
    subtitle = web.page.locator(".crm-subtitle").inner_text()
    assert "01:00–02:00 (America/Los_Angeles)" in subtitle and "10:00–11:00 Rome time" in subtitle
    found["engagement"] = serious_violations(web.page)
    web.visit(f"/partners/{holy_see.pk}/")
    item = web.page.locator(".dash-timeline__item", has_text="Papal audience")
    assert "10:00 Rome time" in item.inner_text()
    found["partner"] = serious_violations(web.page)
    web.visit(f"/engagements/{audience.pk}/briefing/")
    assert "10:00–11:00 Rome time" in web.page.locator(".briefing-facts").inner_text()
    found["briefing"] = serious_violations(web.page)
    assert {page: v for page, v in found.items() if v} == {}
    assert web.problems == []


def test_the_venue_zone_is_chosen_on_the_meeting_form(web, officer):
    audience = EngagementFactory(
        title="Call with Tokyo", kind="call", status="planned", partners=[PartnerFactory(name="Tokyo Metro")],
        starts_at=dt.datetime(2026, 6, 1, 23, 0, tzinfo=dt.UTC), ends_at=None,
    )
    web.login("omar_officer")
    web.visit(f"/engagements/{audience.pk}/edit/")
    web.page.get_by_text("More details:").click()  # the place and its zone are folded on the meeting form
    web.page.get_by_label("Venue's time zone").select_option("Asia/Tokyo")
    web.page.locator("#engagement-form button[type=submit]").first.click()
    web.page.wait_for_load_state("networkidle")
    assert web.path() == f"/engagements/{audience.pk}/"
    assert Engagement.objects.get(pk=audience.pk).venue_timezone == "Asia/Tokyo"
    subtitle = web.page.locator(".crm-subtitle").inner_text()
    assert "16:00 (America/Los_Angeles)" in subtitle and "Tue Jun 2, 08:00 Tokyo time" in subtitle
