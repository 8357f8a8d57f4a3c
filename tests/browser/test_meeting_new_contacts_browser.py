"""A person not in the CRM yet, added on the meeting form in real Chromium: created only with the meeting.

The attendee picker offers "Add “<typed name>” …"; picking it fills a new-person
row (their partner preset when the meeting has one), which travels with the
meeting's POST. Leaving the page writes nothing; saving the meeting creates the
person, shown on the meeting's page.
"""

import pytest
from axe_playwright_python.sync_playwright import Axe

from engagements.models import Engagement
from partners.models import Contact
from tests.factories import ContactFactory, PartnerFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SERIOUS = {"serious", "critical"}
ATTENDEES = "#id_contacts-picker"  # the attendee picker's typing box


def start_meeting(web, partner) -> None:
    page = web.page
    web.visit(f"/engagements/new/?partner={partner.pk}")
    page.locator("#id_title").fill("Port cooperation talks")
    page.locator("#id_kind").select_option("bilateral_meeting")
    page.get_by_text("More details: status, end, place").click()


def add_through_the_picker(page, name: str) -> None:
    page.locator(ATTENDEES).click()
    page.keyboard.type(name)
    page.get_by_role("option", name=f"Add “{name}” …").click()


def test_a_person_typed_in_the_attendee_picker_is_created_with_the_meeting(web, staff_user):
    busan = PartnerFactory(name="Port of Busan", country="KR", kind="company")
    ContactFactory(partner=busan, full_name="Ji-ho Choi")
    page = web.page
    web.login("sam_staff")
    start_meeting(web, busan)
    add_through_the_picker(page, "Min-jun Park")
    row = page.locator("[data-new-contact-row]").first
    assert row.locator("input[name$='-full_name']").input_value() == "Min-jun Park"
    assert row.locator("select[name$='-partner']").input_value() == str(busan.pk)  # the meeting's only partner
    assert page.eval_on_selector(ATTENDEES, "el => el.value") == ""  # the box is free for the next name
    row.locator("input[name$='-title']").fill("Harbour master")
    serious = [v for v in Axe().run(page).response["violations"] if v["impact"] in SERIOUS]
    assert serious == [], [(v["id"], [n["html"][:200] for n in v["nodes"]]) for v in serious]
    # Abandoned: the user leaves the page, nobody was written.
    web.visit("/engagements/")
    assert not Contact.objects.filter(full_name="Min-jun Park").exists()

    start_meeting(web, busan)
    add_through_the_picker(page, "Min-jun Park")
    with page.expect_navigation():
        page.get_by_role("button", name="Save meeting").click()
    engagement = Engagement.objects.get(title="Port cooperation talks")
    assert page.url.endswith(engagement.get_absolute_url())
    assert "Min-jun Park" in page.locator("main").inner_text()
    contact = Contact.objects.get(full_name="Min-jun Park")
    assert (contact.partner, list(engagement.contacts.all())) == (busan, [contact])
    assert contact.history.get().history_user == staff_user
    assert web.problems == []


def test_two_people_one_of_them_of_a_partner_added_inline(web, staff_user):
    busan = PartnerFactory(name="Port of Busan", country="KR", kind="company")
    page = web.page
    web.login("sam_staff")
    start_meeting(web, busan)
    page.get_by_text("Partner not in the list? Add it here").click()
    page.locator("#id_newpartner-name").fill("Busan Metropolitan City")
    page.locator("#id_newpartner-kind").select_option("city")
    page.locator("#id_newpartner-country").select_option("KR")
    add_through_the_picker(page, "Min-jun Park")
    add_through_the_picker(page, "Park Heong-joon")
    rows = page.locator("[data-new-contact-row]")
    assert rows.count() == 2
    rows.nth(0).locator("select[name$='-partner']").select_option(str(busan.pk))
    rows.nth(1).locator("select[name$='-partner']").select_option("new")
    with page.expect_navigation():
        page.get_by_role("button", name="Save meeting").click()
    engagement = Engagement.objects.get(title="Port cooperation talks")
    assert sorted((c.full_name, c.partner.name) for c in engagement.contacts.all()) == [
        ("Min-jun Park", "Port of Busan"), ("Park Heong-joon", "Busan Metropolitan City")
    ]
    main = page.locator("main").inner_text()
    assert "Min-jun Park" in main and "Park Heong-joon" in main
    assert web.problems == []
