"""The webhook pages in real Chromium: an officer registers an endpoint with the keyboard and mouse,
sees its secret, reads the log; no script errors, CSP violations or serious accessibility violations."""

import pytest

from tests.browser.helpers import serious_violations
from webhooks import targets
from webhooks.models import Delivery, Endpoint

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_officer_registers_an_endpoint_and_reads_the_log(web, officer, settings, monkeypatch):
    from webhooks import tasks

    monkeypatch.setattr(tasks, "_queue", lambda: None)  # no task to the development filesystem broker
    settings.WEBHOOK_ALLOWED_HOSTS = ["hooks.example.org"]
    monkeypatch.setattr(targets, "_resolve", lambda host, port: ["93.184.215.14"])
    web.login("omar_officer")
    web.visit("/webhooks/")
    found = {"/webhooks/": serious_violations(web.page)}

    web.page.get_by_role("link", name="Register endpoint").click()
    web.page.wait_for_load_state("networkidle")
    found["/webhooks/new/"] = serious_violations(web.page)
    web.page.get_by_label("URL").fill("https://hooks.example.org/crm")
    web.page.get_by_label("partner.created").check()
    web.page.get_by_role("button", name="Register endpoint").click()
    web.page.wait_for_load_state("networkidle")

    endpoint = Endpoint.objects.get()
    assert endpoint.event_types == ["partner.created"]
    assert web.page.locator(".webhook-secret").inner_text() == endpoint.secret
    found["edit"] = serious_violations(web.page)

    from partners import services as partner_services

    partner_services.partner_create(actor=officer, name="Porto", kind="city", country="PT")
    web.visit("/webhooks/deliveries/")
    assert Delivery.objects.get().webhook_id in web.page.content()
    found["/webhooks/deliveries/"] = serious_violations(web.page)

    assert {page: v for page, v in found.items() if v} == {}
    assert web.problems == []
