"""The meeting form in real Chromium, used the way fast typists use it (issue 17: points 1, 2, 8, 9).

- The picker never picks before the search for the typed text has answered,
  clears its text after a pick and never moves the focus by itself.
- A failed save shows an error summary that takes the focus and links to each field.
- The common case (one partner, one commitment) is ≤ 30 Tab stops from the top to Save.
- A partner added inline is saved only with the meeting.
"""

import datetime as dt

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.utils import timezone

from engagements.models import Commitment, Engagement
from partners.models import Partner
from tests.factories import PartnerFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SERIOUS = {"serious", "critical"}
PICKER = "#id_partners-picker"  # the picker's typing box (the <select> stays, hidden, for the value)


def meeting_form_world():
    # Alphabetically first, so a picker that picks "whatever is highlighted" picks it.
    PartnerFactory(name="Armenian-American Community Council", country="US", city="Glendale")
    paris = [
        PartnerFactory(name="City of Paris", country="FR", city="Paris"),
        PartnerFactory(name="Paris Chamber of Commerce", country="FR", city="Paris"),
    ]
    seoul = PartnerFactory(name="Seoul Metropolitan Government", country="KR", city="Seoul")
    for n in range(40):
        PartnerFactory(name=f"Atlantic Partner {n:02d}", country="US", city="Boston")
    return {"paris": paris, "seoul": seoul}


def chosen(page, select: str = "#id_partners") -> list[int]:
    return [int(v) for v in page.eval_on_selector(select, "s => Array.from(s.selectedOptions).map(o => o.value).filter(Boolean)")]


def assert_saved(page) -> None:
    page.wait_for_load_state("networkidle")
    problems = page.locator("#error-summary")
    assert problems.count() == 0, problems.inner_text()
    assert "/engagements/new/" not in page.url


def focus_picker(page) -> None:
    # The typing box of the partners field (picker.js).
    page.locator(PICKER).first.click()


@pytest.mark.parametrize("then", ["Tab", "nothing"])
def test_enter_right_after_typing_picks_what_was_typed_or_nothing(web, staff_user, then):
    ids = meeting_form_world()
    paris = {p.pk for p in ids["paris"]}
    page = web.page
    web.login("sam_staff")
    web.visit("/engagements/new/")
    focus_picker(page)
    page.keyboard.type("Paris")  # no delay between keys
    page.keyboard.press("Enter")
    if then == "Tab":
        page.keyboard.press("Tab")
    page.wait_for_timeout(1200)  # every search has answered by now
    picked = set(chosen(page))
    assert picked <= paris, f"picked {[Partner.objects.get(pk=i).name for i in picked - paris]} for 'Paris'"
    assert len(picked) <= 1
    assert page.eval_on_selector(PICKER, "el => el.value") == ("" if picked else "Paris")
    if then == "Tab":
        # The focus went on, and stayed there.
        assert page.evaluate(f"document.activeElement !== document.querySelector('{PICKER}')")
        assert page.evaluate("document.activeElement !== document.body")
    assert web.problems == []


def test_after_two_quick_picks_the_next_field_keeps_everything_typed(web, staff_user):
    ids = meeting_form_world()
    page = web.page
    web.login("sam_staff")
    web.visit("/engagements/new/")
    page.locator("#id_title").fill("Sister-city talks")
    page.locator("#id_kind").select_option("call")
    focus_picker(page)
    page.keyboard.type("Paris")
    page.keyboard.press("Enter")
    page.keyboard.type("Seoul")  # the first pick cleared the text: this is "Seoul", not "ParisSeoul"
    page.keyboard.press("Enter")
    summary = page.locator("#id_summary")
    summary.click()
    text = "Discussed the exchange programme, a youth orchestra visit and direct flights"
    page.keyboard.type(text)
    page.wait_for_timeout(1200)
    assert summary.input_value() == text
    assert page.evaluate("document.activeElement.id") == "id_summary"
    assert set(chosen(page)) == {ids["paris"][0].pk, ids["seoul"].pk}
    with page.expect_navigation():
        page.get_by_role("button", name="Save meeting").click()
    assert_saved(page)
    engagement = Engagement.objects.get(title="Sister-city talks")
    assert engagement.summary == text
    assert set(engagement.partners.all()) == {ids["paris"][0], ids["seoul"]}
    assert web.problems == []


def test_a_failed_save_shows_a_summary_that_takes_the_focus_and_links_to_each_field(web, staff_user):
    ids = meeting_form_world()
    page = web.page
    web.login("sam_staff")
    web.visit(f"/engagements/new/?partner={ids['seoul'].pk}&commitments=1")
    page.locator("#id_title").fill("")
    page.locator("#id_summary").fill("What we said, to keep")
    page.locator("#id_commitments-0-description").fill("Send the orchestra's dates")  # no due date, no "no date"
    with page.expect_navigation():
        page.get_by_role("button", name="Save meeting").click()
    page.wait_for_load_state("networkidle")
    assert Engagement.objects.count() == 0
    summary = page.locator("#error-summary")
    assert page.evaluate("document.activeElement && document.activeElement.id") == "error-summary"
    links = summary.locator("a")
    targets = links.evaluate_all("els => els.map(a => a.getAttribute('href'))")
    assert "#id_title" in targets and "#id_commitments-0-due_date" in targets
    # Inline errors too, next to the fields.
    assert page.locator("#id_title-error").is_visible()
    assert page.locator("#id_commitments-0-due_date-error").is_visible()
    # Nothing typed is lost.
    assert page.locator("#id_summary").input_value() == "What we said, to keep"
    assert page.locator("#id_commitments-0-description").input_value() == "Send the orchestra's dates"
    for href in ("#id_title", "#id_commitments-0-due_date"):
        summary.locator(f'a[href="{href}"]').click()
        assert page.evaluate("document.activeElement.id") == href[1:]
    assert [v for v in Axe().run(page).response["violations"] if v["impact"] in SERIOUS] == []
    assert web.problems == []


def test_one_partner_and_one_commitment_are_at_most_30_tab_stops_from_the_top_to_save(web, staff_user):
    ids = meeting_form_world()
    page = web.page
    web.login("sam_staff")
    web.visit(f"/engagements/new/?partner={ids['seoul'].pk}")
    page.get_by_role("button", name="Add a commitment").click()
    assert page.locator("[data-commitment-row]").count() == 1
    # Back to the top: a click on the page's top edge (nothing focusable there) moves the Tab starting point.
    page.evaluate("window.scrollTo(0, 0)")
    page.mouse.click(700, 2)
    assert page.evaluate("document.activeElement === document.body")
    presses, stops = 0, []
    while presses < 120:
        page.keyboard.press("Tab")
        presses += 1
        stops.append(page.evaluate("(e => e.id || e.name || e.textContent.trim().slice(0, 30))(document.activeElement)"))
        if page.evaluate("document.activeElement && document.activeElement.matches('button[type=submit].usa-button--big')"):
            break
    print(f"Tab presses from the top of the page to Save: {presses}: {stops}")
    assert presses <= 30, f"{presses} Tab presses to reach Save: {stops}"
    assert [v for v in Axe().run(page).response["violations"] if v["impact"] in SERIOUS] == []
    assert web.problems == []


def test_ctrl_enter_saves_and_slash_goes_to_search(web, staff_user):
    ids = meeting_form_world()
    page = web.page
    web.login("sam_staff")
    web.visit(f"/engagements/new/?partner={ids['seoul'].pk}")
    page.locator("main").click(position={"x": 5, "y": 5})
    page.keyboard.press("/")
    assert page.evaluate("document.activeElement.id") == "site-search"
    assert page.locator("#site-search").input_value() == ""
    page.locator("#id_title").fill("Saved from the keyboard")
    page.locator("#id_kind").select_option("call")
    page.locator("#id_summary").click()
    page.keyboard.type("a/b")  # "/" typed in a field is just a character
    assert page.locator("#id_summary").input_value() == "a/b"
    with page.expect_navigation():
        page.keyboard.press("Control+Enter")
    assert_saved(page)
    engagement = Engagement.objects.get(title="Saved from the keyboard")
    assert engagement.summary == "a/b"
    assert web.problems == []


def test_a_partner_added_inline_is_saved_only_with_the_meeting(web, staff_user):
    meeting_form_world()
    page = web.page
    web.login("sam_staff")
    web.visit("/engagements/new/")
    page.get_by_text("Partner not in the list? Add it here").click()
    page.locator("#id_newpartner-name").fill("Lyon Metropolis")
    page.locator("#id_newpartner-kind").select_option("city")
    page.locator("#id_newpartner-country").select_option("FR")
    with page.expect_response("**/partners/quick/"):
        page.get_by_role("button", name="Add this partner").click()
    page.locator("#quick-partner [role=status]").wait_for()
    assert web.problems == []
    assert "Lyon Metropolis (FR) will be added when you save this meeting" in page.locator("#quick-partner").inner_text()
    # Abandoned: the user leaves the page.
    web.visit("/engagements/")
    assert not Partner.objects.filter(name="Lyon Metropolis").exists()

    # Again, and this time the meeting is saved: the partner comes with it.
    web.visit("/engagements/new/")
    page.get_by_text("Partner not in the list? Add it here").click()
    page.locator("#id_newpartner-name").fill("Lyon Metropolis")
    page.locator("#id_newpartner-kind").select_option("city")
    page.locator("#id_newpartner-country").select_option("FR")
    with page.expect_response("**/partners/quick/"):
        page.get_by_role("button", name="Add this partner").click()
    page.locator("#quick-partner [role=status]").wait_for()
    page.locator("#id_title").fill("First call with Lyon")
    page.locator("#id_kind").select_option("call")
    with page.expect_navigation():
        page.get_by_role("button", name="Save meeting").click()
    engagement = Engagement.objects.get(title="First call with Lyon")
    assert [p.name for p in engagement.partners.all()] == ["Lyon Metropolis"]
    assert Partner.objects.filter(name="Lyon Metropolis").count() == 1
    assert web.problems == []


def test_a_commitment_needs_a_due_date_or_no_date_ticked(web, staff_user):
    ids = meeting_form_world()
    page = web.page
    web.login("sam_staff")
    web.visit(f"/engagements/new/?partner={ids['seoul'].pk}")
    page.locator("#id_title").fill("Promises")
    page.locator("#id_kind").select_option("call")
    page.get_by_role("button", name="Add a commitment").click()
    page.locator("#id_commitments-0-description").fill("Open-ended promise")
    page.locator("label[for=id_commitments-0-no_due_date]").click()  # USWDS draws the box on the label
    page.get_by_role("button", name="Add a commitment").click()
    page.locator("#id_commitments-1-description").fill("Dated promise")
    due = timezone.localdate() + dt.timedelta(days=9)
    page.locator("#id_commitments-1-due_date").fill(due.isoformat())
    with page.expect_navigation():
        page.get_by_role("button", name="Save meeting").click()
    engagement = Engagement.objects.get(title="Promises")
    got = {c.description: c.due_date for c in Commitment.objects.filter(engagement=engagement)}
    assert got == {"Open-ended promise": None, "Dated promise": due}
    assert web.problems == []
