"""Mail triage: staff open a captured message's files (to see whose letter it is) under the message's own access,
served as attachments are (download only, the type from the content, nosniff, sandbox); refused files stay closed."""

import uuid
from email import message_from_bytes, policy

import pytest
from django.urls import reverse

from mailcapture.models import CapturedMessage
from tests.attachments.files import EXE, PDF, png

from . import messages as m

pytestmark = pytest.mark.django_db

PHOTO = png()


def captured(raw: bytes, *, sender=None, confidentiality="") -> CapturedMessage:
    return CapturedMessage.objects.create(
        message_id=f"<{uuid.uuid4().hex}@files>", raw=raw, subject="Fwd: Letter on the sister-city MOU",
        from_address="sam_staff@city.example.org", status="triage", reason="No partner found", sender=sender,
        confidentiality=confidentiality,
    )


def letter(sender="sam_staff@city.example.org") -> bytes:
    """The signed MOU (a PDF), a photo sent as "octet-stream" named .jpg, and an executable named .pdf."""
    return m.forwarded_letter(sender, extra_files=[("visit photo.jpg", PHOTO, ("application", "octet-stream")),
                                                   ("programme.pdf", EXE, ("application", "pdf"))])


def parts_of(raw: bytes) -> list[bytes]:
    """The files as the stdlib reads the message (independently of the CRM's parser)."""
    return [part.get_content() for part in message_from_bytes(raw, policy=policy.default).iter_attachments()]


def file_url(message, number: int) -> str:
    return reverse("mailcapture:triage-file", args=[message.pk, number])


def test_staff_download_each_accepted_file_with_its_bytes_and_safe_headers(client_for):
    raw = letter()
    message = captured(raw)
    client = client_for("staff")
    pdf, photo, exe = parts_of(raw)
    assert (pdf, photo, exe) == (PDF, PHOTO, EXE)

    first = client.get(file_url(message, 1))
    assert first.status_code == 200
    assert first.content == PDF
    assert first["Content-Type"] == "application/pdf"
    assert first["Content-Disposition"] == 'attachment; filename="signed-mou.pdf"'
    assert first["X-Content-Type-Options"] == "nosniff"
    assert first["Content-Security-Policy"] == "default-src 'none'; sandbox"
    assert first["Cache-Control"] == "private, no-store"

    second = client.get(file_url(message, 2))
    assert second.content == PHOTO
    assert second["Content-Type"] == "image/png"  # what the bytes are, not what the mail declared
    assert second["Content-Disposition"] == 'attachment; filename="visit photo.jpg"'


def test_the_page_links_accepted_files_and_lists_refused_ones_without_a_link(client_for):
    message = captured(letter())
    body = client_for("staff").get(reverse("mailcapture:triage-detail", args=[message.pk])).content.decode()
    assert f'href="{file_url(message, 1)}"' in body and ">signed-mou.pdf</a>" in body
    assert f'href="{file_url(message, 2)}"' in body and ">visit photo.jpg</a>" in body
    assert f'href="{file_url(message, 3)}"' not in body
    assert "programme.pdf is a Windows executable, not a PDF." in body and "Refused" in body


def test_a_refused_file_and_a_file_beyond_the_message_are_404(client_for):
    message = captured(letter())
    client = client_for("officer")
    for number in (3, 4, 0, 99999999999999999999):
        response = client.get(file_url(message, number))
        assert response.status_code == 404, number
        assert EXE not in response.content
    plain = captured(m.from_stranger().replace(b"\n", b"\r\n"))
    assert client.get(file_url(plain, 1)).status_code == 404  # a message with no files


@pytest.mark.parametrize(("role", "status"), [("anonymous", 302), ("viewer", 403), ("staff", 200),
                                              ("other_staff", 404), ("officer", 200), ("superuser", 200)])
def test_a_colleagues_restricted_message_files_are_as_hidden_as_the_message(client_for, staff_user, role, status):
    message = captured(letter(staff_user.email), sender=staff_user, confidentiality="restricted")
    client = client_for(role)
    page = client.get(reverse("mailcapture:triage-detail", args=[message.pk]))
    response = client.get(file_url(message, 1))
    assert response.status_code == status == page.status_code, (role, response.status_code, page.status_code)
    assert (response.content == PDF) == (status == 200)
    if status == 302:
        assert "/accounts/login/" in response["Location"] or "login" in response["Location"]


def test_an_unknown_senders_files_are_open_to_all_staff_but_not_viewers(client_for):
    message = captured(m.forwarded_letter("consul@embassy.example.net"))
    assert client_for("other_staff").get(file_url(message, 1)).content == PDF
    assert client_for("viewer").get(file_url(message, 1)).status_code == 403


def test_the_download_is_get_only(client_for):
    message = captured(letter())
    client = client_for("officer")
    assert client.head(file_url(message, 1)).status_code == 200
    assert client.post(file_url(message, 1)).status_code == 405
