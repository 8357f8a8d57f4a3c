"""Issue 17, points 6 and 11, in real Chromium: filters applied as they change (no button), pickers,
chips, page size; a compact header whose tabs never overlap the tools, one-line table rows at
1366 px, and a mobile search that fits at 390 px. axe stays at 0 serious/critical.
"""

import datetime as dt
import re

import pytest
from django.utils import timezone

from tests.browser.helpers import serious_violations, some_world
from tests.factories import (
    CommitmentFactory,
    ContactFactory,
    GiftFactory,
    PartnerFactory,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

HEADER_MAX_PX = 110  # was 192 (three tiers)


def box(page, selector):
    return page.locator(selector).first.bounding_box()


def overlaps(a, b) -> bool:
    return not (a["x"] + a["width"] <= b["x"] or b["x"] + b["width"] <= a["x"]
                or a["y"] + a["height"] <= b["y"] or b["y"] + b["height"] <= a["y"])


def query(page) -> str:
    return page.url.split("?", 1)[1] if "?" in page.url else ""


def world_with_sao_paulo(officer, staff_user):
    world = some_world(officer, staff_user)
    sao = PartnerFactory(name="Prefeitura de São Paulo", city="São Paulo", country="BR", owner=staff_user)
    ContactFactory(partner=sao, full_name="Ana Souza")
    CommitmentFactory(description="Send the bus rapid transit study to São Paulo " * 3, partner=sao, owner=staff_user,
                      due_date=timezone.localdate() + dt.timedelta(days=5))
    GiftFactory(description="A very long description of a lacquered box with mother-of-pearl inlay " * 3,
                partner=sao)
    world["sao"] = sao
    return world


def test_filters_apply_as_they_change_with_chips_and_page_size(web, officer, staff_user):
    world = world_with_sao_paulo(officer, staff_user)
    page = web.page
    web.login("omar_officer")
    web.visit("/partners/")
    # No button to press: it is only in <noscript>.
    assert page.get_by_role("button", name="Apply filters").count() == 0

    # Typing in the search box applies it after a pause, accents folded: "Sao Paulo" finds "São Paulo".
    with page.expect_navigation():
        page.locator("#id_q").type("sao paulo")
    web.settle()
    assert query(page) == "q=sao+paulo"  # empty fields stay out of the URL
    results = page.locator("table tbody")
    assert results.get_by_text("Prefeitura de São Paulo").count() == 1
    assert results.get_by_text("Tokyo Metropolitan Government").count() == 0
    assert page.evaluate("document.activeElement.id") == "id_q"  # typing can go on

    # The country type-ahead: type, Enter, and the list is filtered at once.
    web.visit("/partners/")
    assert page.get_by_role("combobox", name="Country").count() == 1  # named by its label
    # The forms' picker (static/js/picker.js): the select's own options, accents and case folded.
    page.get_by_role("combobox", name="Country").click()
    page.keyboard.type("japa")
    page.get_by_role("option", name="Japan").first.wait_for()
    with page.expect_navigation():
        page.keyboard.press("Enter")
    web.settle()
    assert query(page) == "country=JP"
    # The picker shows its value as a chip of its own; the focus came back to its text box.
    assert page.locator("#id_country-picker").evaluate("el => el === document.activeElement")
    assert page.locator(".crm-picker__chip", has_text="Japan").count() == 1
    assert results.get_by_text("Tokyo Metropolitan Government").count() == 1
    assert results.get_by_text("Government of Viet Nam", exact=True).count() == 0

    # A select: applied on change; the chips show both filters, each removable in one click.
    with page.expect_navigation():
        page.get_by_label("Priority").select_option("1")
    web.settle()
    assert sorted(query(page).split("&")) == ["country=JP", "priority=1"]
    chips = page.get_by_role("list", name="Active filters")
    assert chips.get_by_role("link").count() == 2
    assert "Country: Japan" in " ".join(chips.text_content().split())
    with page.expect_navigation():
        chips.get_by_role("link", name=re.compile("Country")).click()
    assert query(page) == "priority=1"
    assert results.get_by_text("Government of Viet Nam", exact=True).count() == 1

    # Page size: applied on change and kept in the URL.
    with page.expect_navigation():
        page.get_by_label("Rows per page").select_option("50")
    assert sorted(query(page).split("&")) == ["per_page=50", "priority=1"]
    assert page.get_by_label("Rows per page").input_value() == "50"

    # The partner picker asks /partners/lookup/ as one types; picking applies the filter.
    web.visit("/contacts/")
    assert page.get_by_role("combobox", name="Partner", exact=True).count() == 1
    page.get_by_role("combobox", name="Partner", exact=True).click()
    page.keyboard.type("Prefeitura")
    page.get_by_role("option", name="Prefeitura de São Paulo").first.wait_for()
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert query(page) == f"partner={world['sao'].pk}"
    assert page.locator("table tbody").get_by_text("Ana Souza").count() == 1
    assert page.locator("table tbody").get_by_text("Pham Minh Chinh").count() == 0
    # Removing the picker's chip clears the filter at once.
    with page.expect_navigation():
        page.get_by_role("button", name="Remove Prefeitura de São Paulo").click()
    assert query(page) == ""

    # A date picker: a full date applies the filter.
    web.visit("/commitments/")
    with page.expect_navigation():
        page.get_by_label("Due before").fill((timezone.localdate() + dt.timedelta(days=30)).isoformat())
    assert query(page).startswith("due_before=")
    assert serious_violations(page) == []
    assert web.problems == []


def test_without_javascript_the_apply_button_filters(crm_browser, live_server, officer, staff_user):
    world_with_sao_paulo(officer, staff_user)
    context = crm_browser.new_context(viewport={"width": 1366, "height": 900}, java_script_enabled=False)
    page = context.new_page()
    try:
        page.goto(live_server.url + "/accounts/login/?next=/partners/")
        page.get_by_label("Username").fill("omar_officer")
        page.get_by_label("Password").fill("correct horse battery staple")
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url("**/partners/")
        page.locator("#id_q").fill("SAO PAULO")
        page.get_by_label("Country").select_option("BR")
        page.get_by_role("button", name="Apply filters").click()
        page.wait_for_load_state("load")
        assert "q=SAO+PAULO" in page.url and "country=BR" in page.url
        assert page.locator("table tbody tr").count() == 1
        assert page.locator("table tbody").get_by_text("Prefeitura de São Paulo").count() == 1
        # A chip removes its filter without JavaScript too: it is a link.
        page.get_by_role("list", name="Active filters").get_by_role("link", name=re.compile("Country")).click()
        page.wait_for_load_state("load")
        assert "country=" not in page.url and "q=SAO+PAULO" in page.url
    finally:
        context.close()


@pytest.mark.parametrize("path", ["/agreements/", "/gifts/", "/outbox/", "/partners/", "/commitments/"])
def test_compact_header_tabs_never_overlap_the_tools(web, officer, staff_user, path):
    world_with_sao_paulo(officer, staff_user)
    page = web.page
    web.login("omar_officer")
    web.visit(path)
    header = box(page, "header.crm-header")
    assert header["height"] <= HEADER_MAX_PX, header
    current = box(page, ".crm-tabs a.usa-current")
    # The current tab's underline is its own inset shadow: no pseudo-element that could run elsewhere.
    after = page.evaluate(
        "getComputedStyle(document.querySelector('.crm-tabs a.usa-current'), '::after').display")
    assert after == "none"
    tools = [".crm-site-search", ".crm-log-meeting", ".crm-user-menu", ".crm-logo"]
    tools += [f".crm-actions >> nth={i}" for i in range(page.locator(".crm-actions").count())]
    for selector in tools:
        other = box(page, selector)
        if other:
            assert not overlaps(current, other), (path, selector, current, other)
    # Every tab sits on one row, below the tools.
    tabs = page.locator(".crm-tabs > li > a")
    tops = {round(tabs.nth(i).bounding_box()["y"]) for i in range(tabs.count())}
    assert len(tops) == 1, tops
    assert min(tops) >= box(page, ".crm-site-search")["y"] + box(page, ".crm-site-search")["height"]
    assert web.problems == []


@pytest.mark.parametrize("path", ["/partners/", "/contacts/", "/engagements/", "/missions/", "/commitments/",
                                  "/agreements/", "/gifts/"])
def test_table_rows_stay_on_one_line_at_1366(web, officer, staff_user, path):
    world_with_sao_paulo(officer, staff_user)
    page = web.page
    web.login("omar_officer")
    web.visit(path)
    heights = page.evaluate("""() => Array.from(document.querySelectorAll('main table tbody tr'))
        .map(tr => tr.getBoundingClientRect().height)""")
    line = page.evaluate("parseFloat(getComputedStyle(document.querySelector('main table tbody td')).lineHeight)")
    assert heights, path
    # One line of text plus the cell padding and a badge's border: well under two lines.
    assert max(heights) < 2 * line + 4, (path, heights, line)
    # A cut cell keeps its whole text in its title.
    clipped = page.evaluate("""() => Array.from(document.querySelectorAll('main table tbody td'))
        .filter(td => td.scrollWidth > td.clientWidth + 1).map(td => td.title)""")
    assert all(clipped), (path, clipped)
    assert page.evaluate("document.documentElement.scrollWidth") <= 1366


def test_dashboard_has_one_primary_log_a_meeting(web, officer, staff_user):
    some_world(officer, staff_user)
    web.login("sam_staff")
    web.visit("/")
    assert web.page.get_by_role("link", name="Log a meeting").count() == 1
    assert box(web.page, "header.crm-header")["height"] <= HEADER_MAX_PX


def test_mobile_search_fits_at_390(web, officer, staff_user):
    world_with_sao_paulo(officer, staff_user)
    page = web.page
    page.set_viewport_size({"width": 390, "height": 844})
    web.login("omar_officer")
    web.visit("/partners/")
    assert box(page, "header.crm-header")["height"] <= 70
    page.get_by_role("button", name="Menu").click()
    page.locator("#site-search").wait_for(state="visible")
    page.wait_for_timeout(400)  # the panel slides in
    for selector in ("#site-search", ".crm-site-search button[type=submit]"):
        b = box(page, selector)
        assert b["x"] >= 0 and b["x"] + b["width"] <= 390, (selector, b)
        assert b["width"] >= 40, (selector, b)
    page.locator("#site-search").fill("sao paulo")
    with page.expect_navigation():
        page.locator(".crm-site-search button[type=submit]").click()
    assert "/search/" in page.url
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert web.problems == []


def test_list_pages_with_active_filters_have_no_serious_accessibility_violations(web, officer, staff_user):
    world = world_with_sao_paulo(officer, staff_user)
    web.login("omar_officer")
    found = {}
    for path in (f"/partners/?q=sao&country=BR&owner={staff_user.username}&per_page=50",
                 f"/contacts/?partner={world['sao'].pk}",
                 f"/engagements/?trade_mission={world['mission'].pk}&starts_after=2020-01-01",
                 f"/commitments/?engagement={world['meeting'].pk}&due_before=2030-01-01",
                 "/gifts/?q=box", "/missions/?q=asia", "/agreements/?q=memorandum", "/outbox/",
                 f"/commitments/{world['meeting'].commitments.first().pk}/"):
        web.visit(path)
        found[path] = serious_violations(web.page)
    assert {p: v for p, v in found.items() if v} == {}
    assert web.problems == []
