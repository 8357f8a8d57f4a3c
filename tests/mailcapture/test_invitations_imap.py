"""Forwarded calendar invitations through the capture mailbox (real Dovecot): an invitation becomes a planned
engagement, its update moves it, its cancellation cancels it; all three messages point at that one engagement.

engagements/invitations.py is a placeholder on the h3 branch (apply_calendar raises NotImplementedError):
these tests pass once the invitations module is merged.
"""

import datetime as dt

import pytest

from engagements.models import Engagement
from mailcapture.models import CapturedMessage
from mailcapture.poll import poll_mailbox

from . import messages as m

pytestmark = pytest.mark.django_db

TOKYO_10AM_UTC = dt.datetime(2027, 1, 15, 1, 0, tzinfo=dt.UTC)


def test_an_invitation_its_update_and_its_cancellation(mailbox, staff_user, osaka):
    mailbox.deliver(m.invitation(staff_user.email))
    report = poll_mailbox()
    assert report.ok and report.removed == 1

    message = CapturedMessage.objects.get()
    assert message.status == "logged", message.reason
    engagement = Engagement.objects.get()  # no separate correspondence engagement
    assert message.engagement == engagement
    assert engagement.status == "planned" and engagement.kind != "correspondence"
    assert engagement.title == "MOU signing with Osaka"
    assert engagement.starts_at == TOKYO_10AM_UTC and engagement.location == "Osaka City Hall"
    assert "Hana Sato" in [c.full_name for c in engagement.contacts.all()]
    # The message's other file (the agenda) is on the meeting; the .ics itself is not kept as a file.
    assert [a.filename for a in engagement.attachments.all()] == ["agenda.pdf"]

    mailbox.deliver(m.invitation(staff_user.email, sequence=1, start="20270116T140000"))
    poll_mailbox()
    engagement.refresh_from_db()
    assert Engagement.objects.count() == 1
    assert engagement.starts_at == dt.datetime(2027, 1, 16, 5, 0, tzinfo=dt.UTC) and engagement.status == "planned"

    mailbox.deliver(m.invitation(staff_user.email, method="CANCEL", sequence=2, start="20270116T140000"))
    poll_mailbox()
    engagement.refresh_from_db()
    assert Engagement.objects.count() == 1 and engagement.status == "cancelled"
    assert list(CapturedMessage.objects.values_list("status", "engagement")) == [("logged", engagement.pk)] * 3
    assert mailbox.message_ids() == []


def test_the_same_invitation_delivered_twice_is_applied_once(mailbox, staff_user, osaka):
    raw = m.invitation(staff_user.email)
    mailbox.deliver(raw, raw)
    poll_mailbox()
    assert Engagement.objects.count() == 1 and CapturedMessage.objects.count() == 1
    assert Engagement.objects.get().attachments.count() == 1


def test_an_invitation_from_an_unknown_sender_waits_in_triage(mailbox, osaka):
    mailbox.deliver(m.invitation("someone@embassy.example.net"))
    poll_mailbox()
    assert CapturedMessage.objects.get().status == "triage" and not Engagement.objects.exists()
