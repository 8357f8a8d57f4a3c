"""Real RFC 5322 messages for the email capture tests, built with the stdlib `email` package."""

import datetime as dt
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from tests.attachments.files import EXE, PDF

OSAKA = "hana.sato@city.osaka.lg.jp"  # a contact of the City of Osaka
OSAKA_SITE = "https://www.city.osaka.lg.jp/"
MOFA = "desk@mofa.gov.vn"  # nobody's address; the domain is Vietnam's foreign ministry's website
CAPTURE = "capture@city.example.org"
WHEN = dt.datetime(2026, 11, 30, 9, 15, tzinfo=dt.UTC)


def _message(*, sender, to, subject, body, when=WHEN, msgid=None, cc=None) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = to
    if cc:
        msg["Cc"] = cc
    msg["Subject"] = subject
    msg["Date"] = format_datetime(when)
    msg["Message-ID"] = msgid or make_msgid(domain="mail.example.org")
    msg.set_content(body)
    return msg


def forwarded_letter(sender: str, *, pdf: bytes = PDF, extra_files=(), subject="Fwd: Letter on the sister-city MOU") -> bytes:
    """A user forwards a partner's letter with its signed MOU (Gmail style): the forwarding noise goes,
    the letter stays; Hana Sato, the original sender, names the City of Osaka."""
    body = (
        "For the file: Osaka's answer on the MOU.\n\n"
        "---------- Forwarded message ---------\n"
        f"From: Hana Sato <{OSAKA}>\n"
        "Date: Fri, 27 Nov 2026 at 08:00\n"
        "Subject: Letter on the sister-city MOU\n"
        f"To: Sam Staff <sam_staff@city.example.org>\n\n"
        "Dear colleagues,\n\nPlease find the signed memorandum attached. We look forward to the visit in spring.\n\n"
        "Kind regards,\nHana Sato\n"
    )
    msg = _message(sender=f"Sam Staff <{sender}>", to=CAPTURE, subject=subject, body=body)
    msg.add_attachment(pdf, maintype="application", subtype="pdf", filename="signed-mou.pdf")
    for name, content, (maintype, subtype) in extra_files:
        msg.add_attachment(content, maintype=maintype, subtype=subtype, filename=name)
    return msg.as_bytes()


def bcc_reply(sender: str, *, to=OSAKA, subject="Re: Delegation programme [internal]") -> bytes:
    """A user answers a partner and BCCs the capture mailbox: the quoted history is trimmed."""
    body = (
        "Dear Ms Sato,\n\nThank you; the Mayor confirms the dinner on 12 March.\n\nBest,\nSam\n\n"
        f"On Thu, 26 Nov 2026 at 17:02, Hana Sato <{OSAKA}> wrote:\n"
        "> Dear Sam,\n> could the Mayor attend a dinner on 12 March?\n> OLD-QUOTED-HISTORY\n"
    )
    return _message(sender=f"Sam Staff <{sender}>", to=f"Hana Sato <{to}>", subject=subject, body=body).as_bytes()


def outlook_reply(sender: str, *, to=OSAKA) -> bytes:
    body = (
        "Agreed, we will send the draft on Monday.\n\n"
        "-----Original Message-----\n"
        f"From: Hana Sato <{to}>\nSent: Wednesday, November 25, 2026 10:00 AM\nTo: Sam Staff\nSubject: Draft\n\n"
        "OLD-OUTLOOK-HISTORY\n"
    )
    return _message(sender=sender, to=to, subject="RE: Draft", body=body).as_bytes()


def from_stranger(subject="Invitation to the Hanoi forum") -> bytes:
    """Nobody we know sent this (an embassy writing to the capture address directly)."""
    return _message(sender="Consular Section <consul@embassy.example.net>", to=CAPTURE, subject=subject,
                    body="The Consulate invites the Mayor to the forum on 3 February.").as_bytes()


def about_no_partner(sender: str) -> bytes:
    """A known user forwards mail from an address no partner has (a free-mail address)."""
    body = ("FYI\n\n---------- Forwarded message ---------\nFrom: Someone <someone.private@gmail.com>\n"
            "Subject: Hello\n\nA private note about the festival.\n")
    return _message(sender=sender, to=CAPTURE, subject="Fwd: Hello", body=body).as_bytes()


def to_domain(sender: str, *, to=MOFA, subject="Note verbale") -> bytes:
    """A known user writes to an address of a partner's web domain (no contact has it)."""
    return _message(sender=sender, to=to, subject=subject, body="The note verbale, as sent.").as_bytes()


def with_executable(sender: str) -> bytes:
    return forwarded_letter(sender, extra_files=[("programme.pdf", EXE, ("application", "pdf"))])


def invitation(sender: str, *, method="REQUEST", sequence=0, start="20270115T100000", uid="mou-signing-2027@osaka",
               summary="MOU signing with Osaka", msgid=None) -> bytes:
    """A forwarded calendar invitation: a text/calendar part (METHOD:REQUEST or CANCEL) and the agenda as a PDF."""
    status = "CANCELLED" if method == "CANCEL" else "CONFIRMED"
    ics = (
        "BEGIN:VCALENDAR\r\nPRODID:-//Test//EN\r\nVERSION:2.0\r\n"
        f"METHOD:{method}\r\nBEGIN:VEVENT\r\nUID:{uid}\r\nSEQUENCE:{sequence}\r\nDTSTAMP:20261201T080000Z\r\n"
        f"DTSTART;TZID=Asia/Tokyo:{start}\r\nDTEND;TZID=Asia/Tokyo:{start[:9]}113000\r\n"
        f"SUMMARY:{summary}\r\nLOCATION:Osaka City Hall\r\nSTATUS:{status}\r\n"
        f"ORGANIZER;CN=Hana Sato:mailto:{OSAKA}\r\nATTENDEE;CN=Hana Sato:mailto:{OSAKA}\r\n"
        f"ATTENDEE;CN=Sam Staff:mailto:{sender}\r\n"
        "END:VEVENT\r\nEND:VCALENDAR\r\n"
    )
    subject = ("Canceled: " if method == "CANCEL" else "Fwd: Invitation: ") + summary
    msg = _message(sender=sender, to=CAPTURE, subject=subject, body=f"Forwarding the invitation: {summary}.", msgid=msgid)
    msg.add_alternative(ics, subtype="calendar", params={"method": method})
    msg.add_attachment(PDF, maintype="application", subtype="pdf", filename="agenda.pdf")
    return msg.as_bytes()
