"""Bad input to the mail triage pages (email capture, issue 20): the assign form, odd addresses, hostile mail."""

import pytest
from django.urls import reverse

from .bad_input import STATS, XSS, unescaped
from .conftest import captured_message, row_counts

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("bad_input_figures")]

BAD_ASSIGNS = [
    {},
    {"partner": "abc", "confidentiality": "internal"},
    {"partner": str(2**63), "confidentiality": "internal"},
    {"partner": "-1", "confidentiality": "internal"},
    {"partner": "999999999", "confidentiality": "internal"},
    {"partner": "\x00", "confidentiality": "internal"},
    {"partner": "<PARTNER>", "confidentiality": "top-secret"},
    {"partner": "<PARTNER>", "confidentiality": ""},
    {"partner": "<PARTNER>", "confidentiality": "restricted\x00"},
    {"partner": "1" * 5000, "confidentiality": "internal"},
]


@pytest.mark.parametrize("data", BAD_ASSIGNS, ids=[str(i) for i in range(len(BAD_ASSIGNS))])
def test_a_bad_assignment_is_a_form_error_and_writes_nothing(matrix_world, data):
    client = matrix_world.client("staff")
    message = captured_message(matrix_world)
    url = reverse("mailcapture:triage-detail", args=[message.pk])
    pk = str(matrix_world.partner.pk)
    data = {k: ([pk if x == "<PARTNER>" else x for x in v] if isinstance(v, list) else (pk if v == "<PARTNER>" else v))
            for k, v in data.items()}
    before = row_counts()
    response = client.post(url, data)
    STATS["tried"] += 1
    STATS["rejections"] += 1
    assert response.status_code == 200, (data, response.status_code)
    body = response.content.decode()
    assert "usa-error-message" in body, data
    assert row_counts() == before
    message.refresh_from_db()
    assert message.status == "triage"


@pytest.mark.parametrize("path", ["/mail/triage/99999999999999999999/", "/mail/triage/0/", "/mail/triage/-1/",
                                  "/mail/triage/abc/", "/mail/triage/99999999999999999999/discard/",
                                  "/mail/triage/99999999999999999999/files/1/", "/mail/triage/1/files/-1/",
                                  "/mail/triage/1/files/abc/", "/mail/triage/0/files/0/"])
def test_odd_triage_addresses_are_404(matrix_world, path):
    client = matrix_world.client("officer")
    response = client.post(path) if path.endswith("discard/") else client.get(path)
    STATS["tried"] += 1
    assert response.status_code == 404, (path, response.status_code)


@pytest.mark.parametrize("number", ["0", "2", "99999999999999999999", "1.0", "%00", "1%2F..%2F..", "-0"])
def test_odd_file_numbers_of_a_real_message_are_404(matrix_world, number):
    message = captured_message(matrix_world, with_file=True)
    client = matrix_world.client("officer")
    assert client.get(f"/mail/triage/{message.pk}/files/1/").status_code == 200  # the one file there is
    response = client.get(f"/mail/triage/{message.pk}/files/{number}/")
    STATS["tried"] += 1
    assert response.status_code == 404, (number, response.status_code)
    assert b"%PDF" not in response.content


def test_a_hostile_file_name_downloads_under_a_safe_name(matrix_world):
    """A file name with path parts, quotes, CR LF and markup (RFC 2231-encoded, as mail may carry it)."""
    import base64

    from mailcapture.services import process_pending, store_message
    from tests.attachments.files import PDF

    hostile = "..%5C..%5Cx%22%0D%0AX-Evil%3A%201%0D%0A%3Cscript%3Ealert(1)%3C%2Fscript%3E.pdf"
    raw = ("From: evil@example.net\r\nTo: capture@example.org\r\nSubject: Files\r\nMessage-ID: <files@example.net>\r\n"
           "MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n"
           "Content-Type: text/plain\r\n\r\nSee attached.\r\n--b\r\n"
           f"Content-Type: application/pdf\r\nContent-Disposition: attachment; filename*=UTF-8''{hostile}\r\n"
           f"Content-Transfer-Encoding: base64\r\n\r\n{base64.b64encode(PDF).decode()}\r\n--b--\r\n")
    message, _ = store_message(raw.encode())
    process_pending()
    client = matrix_world.client("officer")
    page = client.get(reverse("mailcapture:triage-detail", args=[message.pk])).content.decode()
    assert unescaped(page) == [] and reverse("mailcapture:triage-file", args=[message.pk, 1]) in page
    response = client.get(reverse("mailcapture:triage-file", args=[message.pk, 1]))
    STATS["tried"] += 1
    assert response.status_code == 200 and response.content == PDF
    disposition = response["Content-Disposition"]
    assert disposition.startswith("attachment; ") and "\\" not in disposition and "\r" not in disposition
    assert "X-Evil" not in response and "\n" not in disposition
    assert response["Content-Type"] == "application/pdf"


def test_hostile_mail_comes_back_escaped(matrix_world):
    from mailcapture.services import process_pending, store_message

    payload = " | ".join(XSS[:12])
    raw = (f"From: \"{XSS[0]}\" <evil@example.net>\r\nTo: capture@example.org\r\nSubject: {payload[:400]}\r\n"
           f"Message-ID: <xss@example.net>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{' | '.join(XSS)}\r\n")
    message, _ = store_message(raw.encode())
    process_pending()
    message.refresh_from_db()
    assert message.status == "triage"
    client = matrix_world.client("officer")
    for url in (reverse("mailcapture:triage"), reverse("mailcapture:triage-detail", args=[message.pk]),
                reverse("mailcapture:triage") + "?format=csv"):
        response = client.get(url)
        STATS["tried"] += 1
        body = b"".join(response.streaming_content).decode() if response.streaming else response.content.decode()
        assert response.status_code == 200, url
        if "format=csv" not in url:
            assert unescaped(body) == [], (url, unescaped(body)[:3])


def test_a_message_already_decided_cannot_be_assigned_or_discarded_again(matrix_world):
    client = matrix_world.client("staff")
    message = captured_message(matrix_world)
    assert client.post(reverse("mailcapture:triage-discard", args=[message.pk])).status_code == 302
    before = row_counts()
    again = client.post(reverse("mailcapture:triage-discard", args=[message.pk]), follow=True)
    assert "already discarded" in again.content.decode()
    assigned = client.post(reverse("mailcapture:triage-detail", args=[message.pk]),
                           {"partner": matrix_world.partner.pk, "confidentiality": "internal"})
    assert assigned.status_code == 200 and "already discarded" in assigned.content.decode()
    assert row_counts() == before
