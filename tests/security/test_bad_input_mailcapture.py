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
                                  "/mail/triage/abc/", "/mail/triage/99999999999999999999/discard/"])
def test_odd_triage_addresses_are_404(matrix_world, path):
    client = matrix_world.client("officer")
    response = client.post(path) if path.endswith("discard/") else client.get(path)
    STATS["tried"] += 1
    assert response.status_code == 404, (path, response.status_code)


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
