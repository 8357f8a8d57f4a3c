"""Email capture against a real IMAP server (Dovecot on loopback), with real messages delivered by APPEND."""

import pytest
from django.urls import reverse

from engagements.models import Engagement
from mailcapture.models import CapturedMessage, MailboxPoll
from mailcapture.poll import poll_mailbox
from mailcapture.tasks import poll_mail_capture

from . import messages as m

pytestmark = pytest.mark.django_db


def message_id(raw: bytes) -> str:
    from mailcapture.parsing import parse

    return parse(raw).message_id


def test_a_forwarded_letter_with_a_pdf_is_logged_on_the_right_partner_and_leaves_the_mailbox(mailbox, staff_user, osaka):
    from tests.factories import PartnerFactory

    PartnerFactory(name="City of Kyoto", website="https://www.city.kyoto.lg.jp")  # another partner: not this one
    raw = m.forwarded_letter(staff_user.email)
    mailbox.deliver(raw)
    assert mailbox.message_ids() == [message_id(raw)]

    report = poll_mailbox()

    assert report.ok and (report.fetched, report.stored, report.processed, report.removed) == (1, 1, 1, 1)
    engagement = Engagement.objects.get()
    assert engagement.title == "Letter on the sister-city MOU" and engagement.kind == "correspondence"
    assert [p.name for p in engagement.partners.all()] == ["City of Osaka"]
    attachment = engagement.attachments.get()
    assert attachment.filename == "signed-mou.pdf" and attachment.content_type == "application/pdf"
    with attachment_file(attachment) as handle:
        assert handle.read() == m.PDF
    assert CapturedMessage.objects.get().engagement == engagement
    assert mailbox.message_ids() == []  # removed once the engagement was committed
    # The staff member who forwarded it finds it, attachment included.
    page = client_page(staff_user, reverse("engagements:detail", args=[engagement.pk]))
    assert "Letter on the sister-city MOU" in page and "Please find the signed memorandum attached." in page


def attachment_file(attachment):
    from attachments.services import storage

    return storage().open(attachment.blob, "rb")


def client_page(user, url) -> str:
    from django.test import Client

    client = Client()
    client.force_login(user)
    response = client.get(url)
    assert response.status_code == 200, url
    return response.content.decode()


def test_a_bccd_reply_is_logged_with_its_quoted_history_trimmed(mailbox, staff_user, osaka):
    mailbox.deliver(m.bcc_reply(staff_user.email))
    assert poll_mail_capture.apply().get()["processed"] == 1  # the beat task, run in process
    engagement = Engagement.objects.get()
    assert engagement.title == "Delegation programme" and engagement.confidentiality == "internal"
    assert "the Mayor confirms the dinner on 12 March" in engagement.summary
    assert "OLD-QUOTED-HISTORY" not in engagement.summary and "> " not in engagement.summary
    assert [c.full_name for c in engagement.contacts.all()] == ["Hana Sato"]


def test_an_unknown_sender_waits_in_triage_and_is_assigned_from_the_page(mailbox, staff_user, osaka, client_for):
    raw = m.from_stranger()
    mailbox.deliver(raw)
    poll_mailbox()
    message = CapturedMessage.objects.get()
    assert message.status == "triage" and not Engagement.objects.exists()
    assert mailbox.message_ids() == []  # kept whole in the database: the mailbox copy is no longer needed

    client = client_for("staff")
    listing = client.get(reverse("mailcapture:triage")).content.decode()
    assert "Invitation to the Hanoi forum" in listing and "Unknown sender: consul@embassy.example.net" in listing
    detail = client.get(reverse("mailcapture:triage-detail", args=[message.pk])).content.decode()
    assert "The Consulate invites the Mayor to the forum on 3 February." in detail

    response = client.post(reverse("mailcapture:triage-detail", args=[message.pk]),
                           {"partner": osaka.pk, "confidentiality": "internal"}, follow=True)
    assert "Logged as “Invitation to the Hanoi forum” on City of Osaka" in response.content.decode()
    engagement = Engagement.objects.get()
    assert list(engagement.partners.all()) == [osaka] and engagement.confidentiality == "internal"
    assert engagement.summary == "The Consulate invites the Mayor to the forum on 3 February."
    message.refresh_from_db()
    assert message.status == "logged" and message.engagement == engagement and message.processed_by == staff_user
    # Assigned twice (a second tab): refused, nothing more written.
    again = client.post(reverse("mailcapture:triage-detail", args=[message.pk]),
                        {"partner": osaka.pk, "confidentiality": "internal"})
    assert Engagement.objects.count() == 1 and again.status_code == 200
    assert "already logged" in again.content.decode() or "Assign" not in again.content.decode()


def test_a_message_that_matches_no_partner_waits_in_triage_and_can_be_discarded(mailbox, staff_user, osaka, client_for):
    mailbox.deliver(m.about_no_partner(staff_user.email))
    poll_mailbox()
    message = CapturedMessage.objects.get()
    assert message.status == "triage" and message.reason.startswith("No partner matched")
    client = client_for("officer")
    response = client.post(reverse("mailcapture:triage-discard", args=[message.pk]), follow=True)
    assert "Discarded “Fwd: Hello”" in response.content.decode()
    message.refresh_from_db()
    assert message.status == "discarded" and not Engagement.objects.exists()
    assert message.history.first().history_user.username == "omar_officer"
    assert "Fwd: Hello" not in client.get(reverse("mailcapture:triage")).content.decode()  # the default: waiting ones
    assert "Fwd: Hello" in client.get(reverse("mailcapture:triage") + "?status=discarded").content.decode()


def test_the_same_message_delivered_twice_becomes_one_engagement(mailbox, staff_user, osaka):
    raw = m.forwarded_letter(staff_user.email)
    mailbox.deliver(raw, raw)
    report = poll_mailbox()
    assert (report.fetched, report.stored, report.removed) == (2, 1, 2)
    assert Engagement.objects.count() == 1 and CapturedMessage.objects.count() == 1
    mailbox.deliver(raw)  # delivered again later
    poll_mailbox()
    assert Engagement.objects.count() == 1 and mailbox.message_ids() == []


def test_processed_messages_can_be_moved_to_a_folder_instead(mailbox, staff_user, osaka, settings):
    settings.MAIL_CAPTURE_DONE_FOLDER = "Logged"
    raw = m.bcc_reply(staff_user.email)
    mailbox.deliver(raw)
    poll_mailbox()
    assert mailbox.message_ids() == [] and mailbox.message_ids("Logged") == [message_id(raw)]


def test_the_server_down_during_a_poll_loses_nothing(mailbox, staff_user, osaka, client_for):
    raw = m.forwarded_letter(staff_user.email)
    mailbox.deliver(raw)
    mailbox.stop()

    report = poll_mailbox()

    assert not report.ok and "ConnectionRefusedError" in report.error
    assert not CapturedMessage.objects.exists() and not Engagement.objects.exists()
    assert MailboxPoll.objects.get().error == report.error
    page = client_for("staff").get(reverse("mailcapture:triage")).content.decode()
    assert "The last poll of the mailbox failed" in page and "Nothing is lost" in page

    mailbox.start()
    assert mailbox.message_ids() == [message_id(raw)]  # still there
    report = poll_mailbox()
    assert report.ok and Engagement.objects.count() == 1
    assert mailbox.message_ids() == []
    assert "The last poll of the mailbox failed" not in client_for("staff").get(reverse("mailcapture:triage")).content.decode()


def test_without_a_mailbox_the_feature_is_off_and_says_so(settings, client_for, db):
    settings.MAIL_CAPTURE_URL = ""
    assert poll_mailbox().enabled is False
    page = client_for("staff").get(reverse("mailcapture:triage")).content.decode()
    assert "Email capture is off: set MAIL_CAPTURE_URL" in page
