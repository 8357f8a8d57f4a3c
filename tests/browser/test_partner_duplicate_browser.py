"""In Chromium: a second "City of Paris, FR" is not created silently (issue 17, point 8).

The partner form warns, links to the existing partner and adds the new one
only once "Add it anyway" is ticked; the meeting form's quick-add does the
same inside the meeting form, without leaving it.
"""

import pytest

from partners.models import Partner
from tests.browser.helpers import serious_violations
from tests.factories import PartnerFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WARNING = "A partner with a similar name is already in the CRM"


def test_the_partner_form_warns_links_and_adds_only_when_confirmed(web, officer):
    paris = PartnerFactory(name="City of Paris", country="FR", kind="city", city="Paris")
    page = web.page
    web.login("omar_officer")
    web.visit("/partners/new/")
    page.get_by_label("Name").fill("Paris")
    page.locator("#id_kind").select_option("city")
    page.locator("#id_country").select_option("FR")
    with page.expect_navigation():
        page.get_by_role("button", name="Add partner").click()
    page.wait_for_load_state("networkidle")

    assert WARNING in page.content()
    link = page.locator("#similar-partners").get_by_role("link", name="City of Paris")
    assert link.get_attribute("href") == paris.get_absolute_url()
    assert "same name but for “city”; same country (France); same kind (City or region)" in (
        page.locator("#similar-partners").inner_text())
    assert page.locator("#id_name").input_value() == "Paris"  # nothing typed is lost
    assert serious_violations(page) == []
    assert Partner.objects.filter(name="Paris").count() == 0

    page.locator("label", has_text="Add it anyway: it is a different partner").click()  # USWDS hides the box itself
    with page.expect_navigation():
        page.get_by_role("button", name="Add partner").click()
    page.wait_for_load_state("networkidle")
    created = Partner.objects.get(name="Paris")
    assert web.path() == created.get_absolute_url()
    assert web.problems == []


def test_the_quick_add_warns_inside_the_meeting_form(web, staff_user):
    PartnerFactory(name="City of Paris", country="FR", kind="city")
    page = web.page
    web.login("sam_staff")
    web.visit("/engagements/new/")
    page.get_by_text("Partner not in the list? Add it here").click()
    page.locator("#id_newpartner-name").fill("Ville de Paris")
    page.locator("#id_newpartner-kind").select_option("city")
    page.locator("#id_newpartner-country").select_option("FR")
    page.get_by_role("button", name="Add this partner").click()
    warning = page.locator("#quick-partner #similar-partners")
    warning.wait_for()
    assert WARNING in page.locator("#quick-partner").inner_text()
    assert warning.get_by_role("link", name="City of Paris").get_attribute("target") == "_blank"
    assert not Partner.objects.filter(name="Ville de Paris").exists()

    page.locator("label", has_text="Add it anyway: it is a different partner").click()  # USWDS hides the box itself
    page.get_by_role("button", name="Add this partner").click()
    # Confirmed: it travels with the meeting, and is created only when the meeting is saved.
    page.locator("#quick-partner").get_by_text("will be added when you save this meeting").wait_for()
    assert not Partner.objects.filter(name="Ville de Paris").exists()
    page.locator("#id_title").fill("Call with the Ville de Paris")
    page.locator("#id_kind").select_option("call")
    page.get_by_role("button", name="Save meeting").click()
    page.get_by_role("heading", name="Call with the Ville de Paris").wait_for()
    added = Partner.objects.get(name="Ville de Paris")
    assert list(added.engagements.values_list("title", flat=True)) == ["Call with the Ville de Paris"]
    assert web.problems == []
