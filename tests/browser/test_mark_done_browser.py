"""Issue 17, point 3 in Chromium: mark a commitment done from the list, and from the reminder email's link.

The email is a real one: `send_reminders` writes it to the outbox and sends
it over SMTP to an aiosmtpd sink; the test takes the link from the message
the sink received and opens it signed out, as someone reading their mail.
"""

import datetime as dt
import re

import pytest
from django.core.management import call_command
from django.utils import timezone

from engagements.models import Commitment
from tests.browser.helpers import serious_violations
from tests.factories import CommitmentFactory, PartnerFactory
from tests.integration.notification_helpers import SmtpSink


@pytest.fixture
def sink(settings, live_server):
    sink = SmtpSink().start()
    settings.MAILERS = sink.mailers_setting()
    settings.SITE_URL = live_server.url  # the email's links point at the server under test
    yield sink
    sink.stop()


def _overdue(owner, description):
    partner = PartnerFactory(name="Ville de Lyon", country="FR")
    return CommitmentFactory(
        description=description, partner=partner, owner=owner, due_date=timezone.localdate() - dt.timedelta(days=1)
    )


def test_mark_done_from_the_list_in_one_click(web, staff_user):
    promise = _overdue(staff_user, "Send the tramway study")
    CommitmentFactory(description="Host the delegation", owner=staff_user, due_date=timezone.localdate() + dt.timedelta(days=2))
    web.login("sam_staff", next_path="/commitments/")
    row = web.page.locator("tr", has_text="Send the tramway study")
    assert row.locator(".crm-badge--overdue").inner_text() == "Overdue"
    assert web.page.locator("tr", has_text="Host the delegation").locator(".crm-badge--due-soon").inner_text() == "Due soon"
    assert serious_violations(web.page) == []
    row.get_by_role("button", name="Mark done: Send the tramway study").click()
    # htmx swaps the button for the outcome, in place; the page stays where it was.
    assert row.get_by_role("status").inner_text() == "Marked done"
    assert web.path() == "/commitments/"
    promise.refresh_from_db()
    assert promise.status == Commitment.Status.DONE and promise.completed_on == timezone.localdate()
    assert promise.history.order_by("-history_id").first().history_change_reason == "Marked done"
    web.visit("/commitments/?status=done")
    assert web.page.locator("tr", has_text="Send the tramway study").locator(".crm-badge--done").inner_text() == "Done"
    assert web.problems == []


def test_mark_done_from_the_reminder_email(web, staff_user, sink):
    promise = _overdue(staff_user, "Send the tramway study")
    call_command("send_reminders", now=timezone.now().isoformat())
    [message] = [m for m in sink.handler.messages if m["To"] == staff_user.email]
    text = next(part for part in message.walk() if part.get_content_type() == "text/plain").get_payload(decode=True).decode()
    link = re.search(r"Mark it done: (\S+)", text).group(1)
    assert link.startswith(web.base_url + f"/commitments/{promise.pk}/done/?t=")
    html = next(part for part in message.walk() if part.get_content_type() == "text/html").get_payload(decode=True).decode()
    assert "Mark it done" in html

    # Signed out, as someone reading their mail: the link goes through the login page and comes back.
    web.page.goto(link)
    assert web.path() == "/accounts/login/"
    web.page.get_by_label("Username").fill("sam_staff")
    web.page.get_by_label("Password").fill("correct horse battery staple")
    with web.page.expect_navigation():
        web.page.get_by_role("button", name="Sign in").click()
    assert web.path() == f"/commitments/{promise.pk}/done/"
    assert web.page.get_by_role("heading", level=1).inner_text() == "Mark this commitment done?"
    assert serious_violations(web.page) == []
    promise.refresh_from_db()
    assert promise.status == Commitment.Status.OPEN  # opening the link changed nothing

    web.page.get_by_label("Note").fill("Sent by courier")
    with web.page.expect_navigation():
        web.page.get_by_role("button", name="Mark done").click()
    assert web.path() == f"/commitments/{promise.pk}/"
    assert "Marked done: “Send the tramway study”." in web.page.locator(".crm-messages").inner_text()
    assert "Marked done: Sent by courier" in web.page.locator("#history-heading + table").inner_text()
    promise.refresh_from_db()
    assert promise.status == Commitment.Status.DONE

    # The same link again: nothing left to do, said plainly.
    web.page.goto(link)
    assert "Already marked done" in web.page.locator("main").inner_text()
    assert web.problems == []


def test_an_altered_email_link_says_so(web, staff_user):
    promise = _overdue(staff_user, "Send the tramway study")
    web.login("sam_staff")
    web.page.goto(web.url(f"/commitments/{promise.pk}/done/?t=sam:{promise.pk}:forged"))
    assert "This link is not valid" in web.page.get_by_role("alert").inner_text()
    assert web.page.get_by_role("button", name="Mark done").count() == 0
    assert serious_violations(web.page) == []
