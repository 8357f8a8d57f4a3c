"""End to end in real Chromium: log in, log a meeting with the keyboard, find it everywhere,
filter and export a list, and check every page for script errors, broken assets,
accessibility (axe-core) and script injection.
"""

import csv
import datetime as dt
import io

import pytest
from django.utils import timezone

from engagements.models import Commitment, Engagement
from tests.browser.helpers import serious_violations, some_world
from tests.factories import (
    CommitmentFactory,
    ContactFactory,
    EngagementFactory,
    PartnerFactory,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

XSS = '<script>alert("xss")</script><img src=x onerror=alert("img")>'


def tab_to(page, selector: str, limit: int = 250) -> None:
    """Press Tab until the element matching `selector` has the focus (no clicks)."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("(s) => document.activeElement && document.activeElement.matches(s)", selector):
            return
    raise AssertionError(f"Tab never reached {selector}")


def test_a_meeting_logged_with_the_keyboard_shows_on_history_and_dashboard(web, staff_user, officer, screenshot_dir):
    world = some_world(officer, staff_user)
    partner = world["government"]
    page = web.page
    web.login("sam_staff")

    # From the partner's page, as a user would: its "Log a meeting" link, followed with Enter.
    web.visit(f"/partners/{partner.pk}/")
    tab_to(page, f'a[href="/engagements/new/?partner={partner.pk}"]')
    with page.expect_navigation():
        page.keyboard.press("Enter")
    web.settle()
    assert web.path() == "/engagements/new/"

    tab_to(page, "#id_title")
    page.keyboard.type("Keyboard-only call with the Prime Minister")
    tab_to(page, "#id_kind")
    page.keyboard.type("Call")  # a closed <select> picks the option typed
    assert page.eval_on_selector("#id_kind", "el => el.value") == "call"
    tab_to(page, "details.crm-more > summary")  # the rarer fields are folded
    page.keyboard.press("Enter")
    tab_to(page, "#id_location")
    page.keyboard.type("City Hall, room 300")
    tab_to(page, "button[data-add-commitment]")  # commitment rows come on demand
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "id_commitments-0-description"
    page.keyboard.type("Send the airport's slot data to the Ministry")
    tab_to(page, "#id_commitments-0-due_date")
    due = timezone.localdate() + dt.timedelta(days=5)
    page.keyboard.type(due.strftime("%m%d%Y"))
    tab_to(page, 'button[type="submit"].usa-button--big')
    with page.expect_navigation():
        page.keyboard.press("Enter")
    web.settle()

    engagement = Engagement.objects.get(title="Keyboard-only call with the Prime Minister")
    commitment = Commitment.objects.get(engagement=engagement)
    assert list(engagement.partners.all()) == [partner]
    assert (commitment.partner, commitment.owner, commitment.due_date) == (partner, staff_user, due)
    assert web.path() == f"/engagements/{engagement.pk}/"
    assert "Logged" in page.content()

    web.visit(f"/partners/{partner.pk}/")
    timeline = page.locator(".dash-timeline")
    assert timeline.get_by_text("Keyboard-only call with the Prime Minister").count() == 1
    assert page.locator(".dash-owed__col").first.get_by_text("Send the airport's slot data").count() == 1
    if screenshot_dir:
        page.screenshot(path=f"{screenshot_dir}/partner_history.png", full_page=True)

    web.visit("/")
    assert page.locator("#upcoming-heading + table").get_by_text("Keyboard-only call with the Prime Minister").count() == 1
    assert page.locator(".dash-commitments").first.get_by_text("Send the airport's slot data").count() == 1
    assert page.locator(".dash-activity").get_by_text("Keyboard-only call with the Prime Minister").count() >= 1
    # Charts drew (Chart.js sizes its canvas) and each has its data table.
    page.wait_for_function("document.querySelectorAll('canvas[data-chart]').length === 3")
    widths = page.eval_on_selector_all("canvas[data-chart]", "els => els.map(e => e.width)")
    assert all(w > 0 for w in widths)
    assert page.locator(".dash-chart-figures table").count() == 3
    if screenshot_dir:
        page.screenshot(path=f"{screenshot_dir}/dashboard.png", full_page=True)
    assert web.problems == []


def test_a_filtered_list_exports_exactly_its_rows_as_csv(web, viewer, officer, staff_user):
    some_world(officer, staff_user)
    page = web.page
    web.login("vera_viewer")
    web.visit("/engagements/")
    # Applied as it is typed (static/js/filters.js): no button to press.
    with page.expect_navigation():
        page.locator("#id_q").fill("hydrogen")
    web.settle()
    assert "q=hydrogen" in page.url
    results = page.locator("table").last
    assert results.get_by_text("Green hydrogen call").count() == 1
    assert results.get_by_text("Nonstop flights to Hanoi").count() == 0

    with page.expect_download() as download_info:
        page.get_by_role("link", name="Export CSV").click()
    download = download_info.value
    rows = list(csv.DictReader(io.StringIO(open(download.path(), encoding="utf-8-sig").read())))
    assert [row["title"] for row in rows] == ["Green hydrogen call"]
    assert web.problems == []


def _pages(world) -> dict[str, list[str]]:
    meeting = world["meeting"]
    government = world["government"]
    return {
        "ours": ["/", f"/partners/{government.pk}/", f"/partners/{world['tokyo'].pk}/?page=1", "/countries/VN/"],
        "lists_and_details": [
            "/partners/",
            "/partners/?country=VN&priority=1",
            "/contacts/",
            f"/contacts/{government.contacts.first().pk}/",
            "/engagements/",
            "/engagements/?q=hanoi",
            f"/engagements/{meeting.pk}/",
            f"/engagements/{meeting.pk}/delete/",  # refused: its commitment points to it
            "/missions/",
            f"/missions/{world['mission'].pk}/",
            "/commitments/",
            f"/commitments/{meeting.commitments.first().pk}/",
            f"/commitments/{meeting.commitments.first().pk}/done/",
            f"/history/engagement/{meeting.pk}/",
            "/import/",
            "/import/duplicates/",
            "/agreements/",
            f"/agreements/{government.agreements.first().pk}/",
        ],
        # Forms whose partner/attendee/staff pickers are the type-ahead picker (static/js/picker.js).
        "typeahead_forms": [
            "/partners/new/",
            f"/partners/{government.pk}/edit/",
            "/engagements/new/",
            f"/engagements/{meeting.pk}/edit/",
        ],
    }


def _check_pages(web, officer, staff_user, group: str, *, with_login_page: bool = False) -> dict:
    world = some_world(officer, staff_user)
    found = {}
    if with_login_page:
        web.visit("/accounts/login/")
        found["/accounts/login/"] = serious_violations(web.page)
    web.login("omar_officer")
    for path in _pages(world)[group]:
        web.visit(path)
        found[path] = serious_violations(web.page)
    return found


@pytest.mark.parametrize("group", ["ours", "lists_and_details"])
def test_pages_have_no_script_errors_broken_assets_or_serious_accessibility_violations(
    web, officer, staff_user, group
):
    found = _check_pages(web, officer, staff_user, group, with_login_page=group == "ours")
    assert len(found) >= 4
    assert {path: v for path, v in found.items() if v} == {}
    assert web.problems == []


def test_typeahead_forms_have_no_serious_accessibility_violations(web, officer, staff_user):
    found = _check_pages(web, officer, staff_user, "typeahead_forms")
    assert {path: v for path, v in found.items() if v} == {}


def test_typeahead_forms_have_no_script_errors_or_broken_assets(web, officer, staff_user):
    _check_pages(web, officer, staff_user, "typeahead_forms")
    assert web.problems == []


def test_script_payloads_in_names_and_titles_never_run(web, officer):
    partner = PartnerFactory(name=f"Evil partner {XSS}", priority=1, country="VN")
    quiet = PartnerFactory(name=f"Quiet {XSS}", priority=1, country="VN")
    EngagementFactory(title=f"Evil meeting {XSS}", partners=[partner], summary=XSS,
                      starts_at=timezone.now() + dt.timedelta(days=1), status="planned")
    CommitmentFactory(description=f"Evil promise {XSS}", partner=partner, owner=officer)
    ContactFactory(partner=partner, full_name=f"Evil {XSS}", protocol_notes=XSS)
    web.login("omar_officer")
    for path in ("/", f"/partners/{partner.pk}/", f"/partners/{quiet.pk}/", "/countries/VN/", "/partners/",
                 "/engagements/", "/commitments/"):
        web.visit(path)
        # The payload is on the page as text, never as markup.
        assert 'alert("xss")' in web.page.inner_text("main"), path
    assert web.dialogs == []
    assert web.csp_violations == []
    assert web.problems == []

