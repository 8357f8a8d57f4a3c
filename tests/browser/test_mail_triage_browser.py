"""The mail triage inbox in real Chromium: a staff member finds a waiting message from the navigation,
reads it, picks its partner with the type-ahead and assigns it; no script errors, CSP violations or
serious accessibility violations."""

import re

import pytest

from engagements.models import Engagement
from mailcapture.models import CapturedMessage
from mailcapture.services import process_pending, store_message
from tests.browser.helpers import serious_violations
from tests.factories import ContactFactory, PartnerFactory
from tests.mailcapture import messages as m

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_staff_assign_a_waiting_message_to_its_partner(web, staff_user, settings):
    settings.MAIL_CAPTURE_URL = ""  # the page says the feature is off, and still lists what was captured
    osaka = PartnerFactory(name="City of Osaka", country="JP")
    ContactFactory(partner=osaka, full_name="Hana Sato", email="hana.sato@osaka.example.jp")
    PartnerFactory(name="City of Kyoto", country="JP")
    store_message(m.from_stranger())
    process_pending()
    page = web.page
    web.login("sam_staff")
    page.get_by_role("link", name="Mail").first.click()
    page.wait_for_load_state("networkidle")
    found = {"list": serious_violations(page)}
    assert "Email capture is off: set MAIL_CAPTURE_URL" in page.content()

    page.get_by_role("link", name="Invitation to the Hanoi forum").click()
    page.wait_for_load_state("networkidle")
    assert "The Consulate invites the Mayor to the forum on 3 February." in page.content()
    found["detail"] = serious_violations(page)
    page.locator("#id_partner-picker").click()
    page.keyboard.type("Osaka")
    page.get_by_role("option", name=re.compile("City of Osaka")).click()
    page.get_by_label("Confidentiality").select_option("internal")
    page.get_by_role("button", name="Assign").click()
    page.wait_for_load_state("networkidle")

    assert "Logged as “Invitation to the Hanoi forum” on City of Osaka" in page.content()
    engagement = Engagement.objects.get()
    assert list(engagement.partners.all()) == [osaka] and engagement.confidentiality == "internal"
    assert CapturedMessage.objects.get().status == "logged"
    assert "No message waits here." in page.content()
    assert {name: v for name, v in found.items() if v} == {}
    assert web.problems == []
