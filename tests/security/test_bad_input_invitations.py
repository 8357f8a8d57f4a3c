"""Bad input to the "Import an invitation" page (issue 20): hostile .ics files are form errors that write nothing;
hostile text inside a readable invitation is stored as data and comes back escaped."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from engagements.models import Engagement

from .bad_input import STATS, XSS, assert_rejected, post_form, unescaped
from .conftest import row_counts

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("bad_input_figures")]


def calendar(event_lines: str, method: str = "REQUEST") -> bytes:
    return (
        f"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nMETHOD:{method}\r\nBEGIN:VEVENT\r\n{event_lines}END:VEVENT\r\nEND:VCALENDAR\r\n"
    ).encode("utf-8", "surrogatepass")


GOOD = "UID:bad-input-1@example\r\nDTSTAMP:20270101T000000Z\r\nDTSTART:20270301T100000Z\r\n"
BAD_FILES = {
    "not_a_file": "not a file",
    "binary": b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4,
    "invalid_utf8": calendar(GOOD + "SUMMARY:\xff\xfe\r\n").replace(b"\xc3\xbf\xc3\xbe", b"\xff\xfe") + b"\xff",
    "no_uid": calendar("DTSTART:20270301T100000Z\r\nSUMMARY:x\r\n"),
    "year_0000": calendar("UID:y@example\r\nDTSTART:00000101T100000Z\r\n"),
    "year_9999": calendar("UID:y@example\r\nDTSTART:99991231T100000Z\r\n"),
    "feb_30": calendar("UID:y@example\r\nDTSTART:20270230T100000Z\r\n"),
    "bigint_sequence": calendar(GOOD + f"SEQUENCE:{2**63}\r\n"),
    "nan_sequence": calendar(GOOD + "SEQUENCE:NaN\r\n"),
    "unknown_zone": calendar("UID:y@example\r\nDTSTART;TZID=../../etc/passwd:20270301T100000\r\n"),
    "reply": calendar(GOOD, method="REPLY"),
    "deep_nesting": ("BEGIN:VCALENDAR\r\n" + "BEGIN:X\r\n" * 2000 + "END:X\r\n" * 2000 + "END:VCALENDAR\r\n").encode(),
    "too_many_events": ("BEGIN:VCALENDAR\r\nVERSION:2.0\r\n" + "".join(
        f"BEGIN:VEVENT\r\nUID:{i}@example\r\nDTSTART:20270301T100000Z\r\nEND:VEVENT\r\n" for i in range(60)
    ) + "END:VCALENDAR\r\n").encode(),
    "oversize": calendar(GOOD + "DESCRIPTION:" + "x" * (1024 * 1024) + "\r\n"),
}


@pytest.mark.parametrize("case", list(BAD_FILES))
def test_bad_invitation_files_are_form_errors_and_write_nothing(matrix_world, case):
    client = matrix_world.client("staff")
    content = BAD_FILES[case]
    upload = content if isinstance(content, str) else SimpleUploadedFile("invite.ics", content, content_type="text/calendar")
    before = row_counts()
    response = post_form(client, reverse("engagements:invitation"), {"file": upload, "confidentiality": "internal"})
    assert_rejected(response, before)
    assert response.status_code == 200, response.status_code


def test_nul_bytes_and_hostile_text_are_data_and_come_back_escaped(matrix_world):
    client = matrix_world.client("officer")
    text = " | ".join(XSS[:8]).replace("\\", "\\\\").replace(",", "\\,").replace(";", "\\;")
    data = calendar(
        "UID:xss-1@example\r\nDTSTAMP:20270101T000000Z\r\nDTSTART:20270301T100000Z\r\n"
        f"SUMMARY:Tea\x00 {XSS[0]}\r\nLOCATION:{XSS[1]}\r\nDESCRIPTION:{text}\r\n"
    )
    response = post_form(client, reverse("engagements:invitation"),
                         {"file": SimpleUploadedFile("x.ics", data), "confidentiality": "internal"}, follow=True)
    assert response.status_code == 200
    engagement = Engagement.objects.get(ical_uid="xss-1@example")
    assert "\x00" not in engagement.title and engagement.title.endswith(XSS[0])
    for page in (engagement.get_absolute_url(), reverse("engagements:list"), response.request["PATH_INFO"]):
        found = unescaped(client.get(page).content.decode())
        STATS["unescaped_renders"] += len(found)
        assert not found, (page, found)
    assert not unescaped(response.content.decode())


@pytest.mark.parametrize("method", ["PUT", "DELETE", "PATCH"])
def test_other_methods_are_405(matrix_world, method):
    response = matrix_world.client("officer").generic(method, reverse("engagements:invitation"))
    STATS["tried"] += 1
    assert response.status_code == 405
