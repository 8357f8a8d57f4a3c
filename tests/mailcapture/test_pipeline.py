"""The capture pipeline without a mailbox: a message kept once, logged on its partners, or left in triage."""

import pytest

from engagements.models import Engagement
from mailcapture import parsing
from mailcapture.models import CapturedMessage
from mailcapture.services import process_pending, store_message

from . import messages as m

pytestmark = pytest.mark.django_db


def capture(raw: bytes) -> CapturedMessage:
    message, _ = store_message(raw)
    process_pending()
    message.refresh_from_db()
    return message


def test_a_forwarded_letter_is_logged_on_the_partner_of_its_original_sender_with_its_pdf(staff_user, osaka):
    message = capture(m.forwarded_letter(staff_user.email))
    assert message.status == "logged", message.reason
    engagement = message.engagement
    assert engagement.title == "Letter on the sister-city MOU"
    assert engagement.kind == "correspondence" and engagement.status == "held"
    assert engagement.starts_at == m.WHEN
    assert list(engagement.partners.all()) == [osaka]
    assert [c.full_name for c in engagement.contacts.all()] == ["Hana Sato"]
    assert "Please find the signed memorandum attached." in engagement.summary
    assert "For the file" in engagement.summary
    assert "Forwarded message" not in engagement.summary and "Subject:" not in engagement.summary
    assert engagement.confidentiality == "restricted"  # the default without a keyword
    assert list(engagement.staff.all()) == [staff_user] and engagement.owner == staff_user
    files = list(engagement.attachments.all())
    assert [(f.filename, f.content_type) for f in files] == [("signed-mou.pdf", "application/pdf")]
    assert files[0].uploaded_by == staff_user
    assert engagement.history.count() == 1


def test_a_bccd_reply_is_logged_without_its_quoted_history_and_with_its_keyword(staff_user, osaka):
    message = capture(m.bcc_reply(staff_user.email))
    engagement = message.engagement
    assert engagement.title == "Delegation programme"  # "Re:" and "[internal]" removed
    assert engagement.confidentiality == "internal"
    assert "the Mayor confirms the dinner on 12 March" in engagement.summary
    assert "OLD-QUOTED-HISTORY" not in engagement.summary and "wrote:" not in engagement.summary
    assert list(engagement.partners.all()) == [osaka]


def test_an_outlook_reply_loses_the_original_message_block(staff_user, osaka):
    engagement = capture(m.outlook_reply(staff_user.email)).engagement
    assert engagement.summary == "Agreed, we will send the draft on Monday."


def test_an_address_of_a_partners_web_domain_names_that_partner(staff_user, vietnam_mofa):
    engagement = capture(m.to_domain(staff_user.email)).engagement
    assert list(engagement.partners.all()) == [vietnam_mofa] and not engagement.contacts.exists()


def test_a_domain_two_partners_share_is_no_evidence(staff_user, vietnam_mofa):
    from tests.factories import PartnerFactory

    PartnerFactory(name="Viet Nam (government)", website="https://mofa.gov.vn/en")
    message = capture(m.to_domain(staff_user.email))
    assert message.status == "triage" and "No partner matched" in message.reason


def test_an_unknown_sender_waits_in_triage(osaka):
    message = capture(m.from_stranger())
    assert message.status == "triage" and "Unknown sender: consul@embassy.example.net" in message.reason
    assert not Engagement.objects.exists()


def test_a_viewer_cannot_log_by_mail(viewer, osaka):
    message = capture(m.forwarded_letter(viewer.email))
    assert message.status == "triage" and "may not log engagements" in message.reason
    assert message.sender == viewer


def test_mail_that_names_no_partner_waits_in_triage(staff_user, osaka):
    message = capture(m.about_no_partner(staff_user.email))
    assert message.status == "triage" and message.reason.startswith("No partner matched")
    assert message.sender == staff_user


def test_triage_shows_a_colleagues_unmarked_mail_as_restricted_by_default(staff_user, other_staff, officer, osaka, settings):
    from mailcapture.selectors import messages_for

    colleague = capture(m.about_no_partner(staff_user.email))
    stranger = capture(m.from_stranger())
    assert set(messages_for(staff_user)) == {colleague, stranger}
    assert set(messages_for(officer)) == {colleague, stranger}
    assert set(messages_for(other_staff)) == {stranger}  # restricted by default: the sender's and officers'
    settings.MAIL_CAPTURE_DEFAULT_CONFIDENTIALITY = "internal"
    assert set(messages_for(other_staff)) == {colleague, stranger}


def test_the_same_message_twice_is_kept_once_and_logged_once(staff_user, osaka):
    raw = m.forwarded_letter(staff_user.email)
    first, created = store_message(raw)
    again, created_again = store_message(raw)
    assert created and not created_again and first.pk == again.pk
    process_pending()
    process_pending()
    assert CapturedMessage.objects.count() == 1 and Engagement.objects.count() == 1


def test_a_refused_attachment_is_noted_and_the_rest_kept(staff_user, osaka):
    engagement = capture(m.with_executable(staff_user.email)).engagement
    assert [f.filename for f in engagement.attachments.all()] == ["signed-mou.pdf"]
    assert "Attachments not kept:" in engagement.summary and "programme.pdf" in engagement.summary


@pytest.mark.parametrize(
    ("subject", "title", "confidentiality"),
    [
        ("Fwd: RE: [Restricted] Letter", "Letter", "restricted"),
        ("[public] Fw: Press release", "Press release", "public"),
        ("AW: WG: Termin", "Termin", ""),
        ("Re:", "(no subject)", ""),
        ("Budget [internal] review", "Budget review", "internal"),
    ],
)
def test_subject_prefixes_and_keywords(subject, title, confidentiality):
    assert parsing.clean_subject(subject)[:2] == (title, confidentiality)


def test_a_message_without_message_id_is_kept_by_its_digest():
    raw = b"From: a@example.org\r\nSubject: x\r\n\r\nbody\r\n"
    assert parsing.parse(raw).message_id == parsing.parse(raw).message_id.strip()
    assert parsing.parse(raw).message_id.startswith("<sha256-")


def test_html_only_mail_is_read_as_text_without_its_quoted_block():
    raw = (b"From: a@example.org\r\nSubject: x\r\nContent-Type: text/html; charset=utf-8\r\n\r\n"
           b"<p>Hello <b>there</b></p><blockquote>OLD</blockquote><style>p{}</style>")
    assert parsing.parse(raw).body == "Hello there"


def test_an_engagement_logged_from_mail_can_still_be_deleted(staff_user, officer, osaka):
    from diplomacy_crm.deletion import delete_record

    message = capture(m.bcc_reply(staff_user.email))
    delete_record(message.engagement, actor=officer)
    message.refresh_from_db()
    assert not Engagement.objects.exists() and message.engagement is None and message.status == "logged"


def test_a_message_the_email_package_cannot_read_waits_in_triage(monkeypatch, staff_user):
    from mailcapture import parsing as module

    def broken(raw):
        raise IndexError("malformed header")

    monkeypatch.setattr(module, "_parse", broken)
    message = capture(b"From: \x00\r\nSubject: =?broken\r\n\r\nthe text\r\n")
    assert message.status == "triage" and message.message_id.startswith("<sha256-")
    assert "the text" in module.parse(bytes(message.raw)).body
