"""S4 in a real browser: pages holding XSS payloads run none of them and break no CSP rule.

Debian's Chromium through Playwright (never a downloaded browser). Every
payload of the bad-input corpus is stored in the records' text fields; then
an officer (who sees everything) opens every page that shows them. A
`securitypolicyviolation` listener, installed before any page script, reports
CSP violations; `dialog` catches alert/confirm/prompt.
"""

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.test import Client

from tests.world import make_user
from tests.factories import AgreementFactory, CommitmentFactory, ContactFactory, EngagementFactory, PartnerFactory, TradeMissionFactory

from .test_bad_input import XSS

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CSP_LISTENER = """
document.addEventListener("securitypolicyviolation", function (e) {
  window.__cspReport && window.__cspReport(e.violatedDirective + " " + e.blockedURI + " " + (e.sample || ""));
});
"""


def store_payloads(user):
    """Records whose every text field holds payloads (packed three to a field)."""
    chunks = [" | ".join(XSS[i:i + 3]) for i in range(0, len(XSS), 3)]

    def pick(i):
        return chunks[i % len(chunks)]

    records = []
    partner = PartnerFactory(name=pick(0)[:300], city=pick(1)[:200], description=" ".join(chunks), country="JP")
    contact = ContactFactory(partner=partner, full_name=pick(2)[:200], title=pick(3)[:200], protocol_notes=" ".join(chunks))
    mission = TradeMissionFactory(name=pick(4)[:300], lead=pick(5)[:300], objectives=" ".join(chunks), outcomes=pick(6))
    mission.partners.set([partner])
    for i, chunk in enumerate(chunks):
        engagement = EngagementFactory(
            title=chunk[:300], summary=" ".join(chunks), outcomes=chunk, location=pick(i + 1)[:300],
            city_officials=pick(i + 2), partners=[partner], contacts=[contact], trade_mission=mission,
            confidentiality="restricted" if i % 2 else "internal", staff=[user],
        )
        records.append(engagement)
        CommitmentFactory(description=chunk, engagement=engagement, partner=partner, owner=user)
    agreement = AgreementFactory(title=pick(7)[:300], summary=" ".join(chunks), partners=[partner])
    return partner, contact, mission, records, agreement


def test_pages_with_payloads_run_no_script_and_break_no_csp_rule(live_server, crm_browser):
    from accounts.roles import sync_role_groups
    sync_role_groups()  # a transactional test starts from an emptied database
    officer = make_user(get_user_model(), "omar_officer", "officer")
    partner, contact, mission, engagements, agreement = store_payloads(officer)
    commitment = engagements[0].commitments.first()
    client = Client()
    client.force_login(officer)
    session = client.cookies[settings.SESSION_COOKIE_NAME].value
    paths = [
        "/", "/partners/", f"/partners/{partner.pk}/", f"/partners/{partner.pk}/edit/", "/contacts/",
        f"/contacts/{contact.pk}/", "/engagements/", f"/engagements/{engagements[0].pk}/",
        f"/engagements/{engagements[1].pk}/", f"/engagements/{engagements[0].pk}/edit/", "/commitments/",
        f"/commitments/{commitment.pk}/", "/missions/", f"/missions/{mission.pk}/", "/agreements/",
        f"/agreements/{agreement.pk}/", "/countries/JP/", f"/history/engagement/{engagements[0].pk}/",
        "/engagements/?q=script", "/partners/?q=%3Cscript%3E",
    ]
    dialogs, violations, errors, visited = [], [], [], 0
    context = crm_browser.new_context()  # the session's shared Chromium (tests/conftest.py)
    try:
        context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": session, "url": live_server.url}])
        page = context.new_page()
        page.on("dialog", lambda dialog: (dialogs.append(f"{page.url}: {dialog.message}"), dialog.dismiss()))
        page.on("pageerror", lambda error: errors.append(f"{page.url}: {error}"))
        page.expose_function("__cspReport", lambda text: violations.append(f"{page.url}: {text}"))
        page.add_init_script(CSP_LISTENER)
        for path in paths:
            response = page.goto(live_server.url + path, wait_until="load")
            assert response is not None and response.status == 200, (path, response and response.status)
            page.wait_for_load_state("networkidle")
            # Focus and hover everything once, for payloads that wait for an event.
            page.mouse.move(200, 300)
            page.keyboard.press("Tab")
            visited += 1
        # A page's own text shows the payload as text (escaped, not executed).
        page.goto(f"{live_server.url}/engagements/{engagements[0].pk}/")
        assert "<script>alert('XSS1')</script>" in page.inner_text("main")
    finally:
        context.close()
    print(f"\nbrowser XSS check: {visited} pages, {len(XSS)} payloads, dialogs={len(dialogs)}, csp violations={len(violations)}")
    assert dialogs == []
    assert violations == []
    assert visited == len(paths)
