"""Bad input to the attachments pages (issue 20): hostile file names, wrong content, wrong shapes, odd addresses."""

import pytest
from django.urls import reverse

from .bad_input import STATS, XSS, assert_rejected, post_form, unescaped
from .conftest import row_counts

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("bad_input_figures")]


# --- Attachments: hostile names, wrong content, wrong shapes (issue 20) ---
EXE_HEAD = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 300


@pytest.fixture
def attachment_storage(settings, tmp_path):
    settings.STORAGES = {
        **settings.STORAGES,
        "attachments": {"BACKEND": "django.core.files.storage.FileSystemStorage",
                        "OPTIONS": {"location": str(tmp_path / "attachments")}},
    }


def test_hostile_file_names_come_back_escaped(matrix_world, attachment_storage):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from attachments.models import Attachment

    client = matrix_world.client("officer")
    engagement = matrix_world.engagements["internal"]
    url = reverse("attachments:record", args=["engagement", engagement.pk])
    names = [f"{payload}.txt" for payload in XSS[:12]]
    response = post_form(client, url, {"files": [SimpleUploadedFile(n, b"plain words\n") for n in names]})
    assert response.status_code == 302, response.content[:500]
    stored = list(Attachment.objects.filter(engagement=engagement).values_list("pk", "filename"))
    assert len(stored) == len(names) and all("/" not in name and '"' not in name for _, name in stored)
    for page in (url, reverse("attachments:panel", args=["engagement", engagement.pk])):
        html = client.get(page).content.decode()
        found = unescaped(html)
        STATS["unescaped_renders"] += len(found)
        assert not found, (page, found)
    for pk, name in stored:
        response = client.get(reverse("attachments:download", args=[pk]))
        assert response.status_code == 200 and "\n" not in response["Content-Disposition"]
        assert response["X-Content-Type-Options"] == "nosniff"
    api = client.get(f"/api/v1/attachments/?engagement={engagement.pk}").json()
    assert sorted(r["filename"] for r in api["results"]) == sorted(name for _, name in stored)


@pytest.mark.parametrize("case", ["no_file", "text_not_file", "executable", "empty", "too_many", "one_bad_of_two"])
def test_bad_uploads_are_form_errors_and_write_nothing(matrix_world, attachment_storage, settings, case):
    from django.core.files.uploadedfile import SimpleUploadedFile

    settings.ATTACHMENT_MAX_FILES = 3
    client = matrix_world.client("staff")
    url = reverse("attachments:record", args=["engagement", matrix_world.engagements["internal"].pk])
    data = {
        "no_file": {},
        "text_not_file": {"files": "not a file"},
        "executable": {"files": [SimpleUploadedFile("minutes.docx", EXE_HEAD)]},
        "empty": {"files": [SimpleUploadedFile("empty.pdf", b"")]},
        "too_many": {"files": [SimpleUploadedFile(f"n{i}.txt", b"words\n") for i in range(4)]},
        "one_bad_of_two": {"files": [SimpleUploadedFile("ok.txt", b"words\n"), SimpleUploadedFile("bad.pdf", EXE_HEAD)]},
    }[case]
    before = row_counts()
    response = post_form(client, url, data)
    assert_rejected(response, before)
    assert response.status_code == 200
    html = response.content.decode()
    expected = {
        "no_file": "Choose at least one file.",
        "text_not_file": "Choose at least one file.",
        "executable": "minutes.docx is a Windows executable, not a DOCX.",
        "empty": "empty.pdf is empty.",
        "too_many": "4 files chosen; at most 3 at once.",
        "one_bad_of_two": "bad.pdf is a Windows executable, not a PDF.",
    }[case]
    assert expected in html


@pytest.mark.parametrize("path", ["/attachments/spaceship/1/", "/attachments/engagement/99999999999999999999/",
                                  "/attachments/99999999999999999999/download/", "/attachments/engagement/0/panel/",
                                  "/attachments/-1/download/", "/api/v1/attachments/99999999999999999999/download/"])
def test_odd_attachment_addresses_are_404(matrix_world, path):
    response = matrix_world.client("officer").get(path)
    STATS["tried"] += 1
    assert response.status_code == 404, (path, response.status_code)
