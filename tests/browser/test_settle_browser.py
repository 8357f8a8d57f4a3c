"""`web.visit` returns once the page has settled (tests/browser/conftest.py, Web.settle): what a page
loads by itself after its load event, such as the attachments panel htmx fetches, is already there."""

import pytest

from tests.factories import EngagementFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_visit_returns_with_the_lazily_loaded_panel_in_place(web, staff_user):
    meeting = EngagementFactory(title="Signing of the MOU", staff=[staff_user])
    web.login("sam_staff")
    web.visit(meeting.get_absolute_url())
    # Read at once, no waiting: without Web.settle the panel still shows its placeholder here.
    assert "No files yet." in web.page.locator("#attachments").inner_text()
    assert web.in_flight == set()
    assert web.problems == []
