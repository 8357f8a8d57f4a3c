"""Attachments (issue 20): upload, list, download, replace and delete on the pages and the API, by every role,
under the confidentiality rule; content-type and size checks; history. PostgreSQL, real files on disk."""

import hashlib
import re

import pytest
from django.urls import reverse

from attachments.models import Attachment
from engagements.models import Engagement
from tests.api.conftest import token_client
from tests.factories import AgreementFactory, CommitmentFactory, EngagementFactory, GiftFactory, PartnerFactory

from .files import EXE, PDF, png, upload, xlsx

pytestmark = pytest.mark.django_db


def body(response) -> str:
    return response.content.decode()


def attach(client, kind, record, *files):
    return client.post(reverse("attachments:record", args=[kind, record.pk]), {"files": list(files)})


# --- Upload and download, by role --------------------------------------------------------


@pytest.mark.parametrize("role", ["staff_user", "officer", "superuser"])
def test_writers_upload_several_files_and_download_them(request, client_for, meeting, role):
    user = request.getfixturevalue(role)
    client = client_for(user)
    response = attach(client, "engagement", meeting, upload("MOU signed.pdf", PDF), upload("photo.png", png()),
                      upload("programme.xlsx", xlsx()), upload("notes.txt", b"Agenda: trade, climate.\n"))
    assert response.status_code == 302 and response["Location"] == meeting.get_absolute_url() + "#attachments"
    rows = {a.filename: a for a in Attachment.objects.filter(engagement=meeting)}
    assert set(rows) == {"MOU signed.pdf", "photo.png", "programme.xlsx", "notes.txt"}
    assert rows["MOU signed.pdf"].content_type == "application/pdf"
    assert rows["photo.png"].content_type == "image/png"
    assert rows["programme.xlsx"].content_type == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert rows["notes.txt"].content_type == "text/plain"
    pdf = rows["MOU signed.pdf"]
    assert pdf.size == len(PDF) and pdf.sha256 == hashlib.sha256(PDF).hexdigest() and pdf.uploaded_by == user
    # The panel lists them with who and when.
    panel = body(client.get(reverse("attachments:panel", args=["engagement", meeting.pk])))
    for name in rows:
        assert name in panel
    assert (user.get_full_name() or user.get_username()) in panel
    # Download: the bytes, as an attachment, nosniff.
    response = client.get(reverse("attachments:download", args=[pdf.pk]))
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PDF
    assert response["Content-Disposition"] == 'attachment; filename="MOU signed.pdf"'
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Type"] == "application/pdf"
    assert "sandbox" in response["Content-Security-Policy"] and "no-store" in response["Cache-Control"]


def test_a_viewer_reads_and_downloads_but_does_not_upload(client_for, officer, viewer, meeting):
    attach(client_for(officer), "engagement", meeting, upload("letter.pdf", PDF))
    pdf = Attachment.objects.get()
    client = client_for(viewer)
    panel = body(client.get(reverse("attachments:panel", args=["engagement", meeting.pk])))
    assert "letter.pdf" in panel and 'type="file"' not in panel and "Replace" not in panel and "Delete" not in panel
    assert b"".join(client.get(reverse("attachments:download", args=[pdf.pk])).streaming_content) == PDF
    response = attach(client, "engagement", meeting, upload("mine.pdf", PDF))
    assert response.status_code == 403
    assert Attachment.objects.count() == 1


def test_a_user_without_a_role_gets_nothing(client_for, officer, no_role, meeting):
    attach(client_for(officer), "engagement", meeting, upload("letter.pdf", PDF))
    pdf = Attachment.objects.get()
    client = client_for(no_role)
    for url in (
        reverse("attachments:download", args=[pdf.pk]),
        reverse("attachments:panel", args=["engagement", meeting.pk]),
        reverse("attachments:record", args=["engagement", meeting.pk]),
    ):
        response = client.get(url)
        assert response.status_code == 403 and b"%PDF" not in response.content and "letter.pdf" not in body(response)
    assert attach(client, "engagement", meeting, upload("x.pdf", PDF)).status_code == 403
    api = token_client(no_role).get("/api/v1/attachments/")
    assert api.status_code == 403
    assert Attachment.objects.count() == 1


def test_anonymous_is_sent_to_sign_in(client, officer, meeting):
    client.force_login(officer)
    attach(client, "engagement", meeting, upload("letter.pdf", PDF))
    client.logout()
    response = client.get(reverse("attachments:download", args=[Attachment.objects.get().pk]))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert token_client().get("/api/v1/attachments/").status_code == 401


def test_staff_attach_where_they_edit_and_only_officers_attach_to_partners(client_for, staff_user, officer):
    partner, agreement = PartnerFactory(name="Port of Rotterdam"), AgreementFactory(title="Sister city MOU")
    commitment, gift = CommitmentFactory(), GiftFactory()
    staff = client_for(staff_user)
    assert attach(staff, "commitment", commitment, upload("c.pdf", PDF)).status_code == 302
    assert attach(staff, "gift", gift, upload("gift.png", png())).status_code == 302
    assert attach(staff, "partner", partner, upload("p.pdf", PDF)).status_code == 403
    assert attach(staff, "agreement", agreement, upload("a.pdf", PDF)).status_code == 403
    officer_client = client_for(officer)
    assert attach(officer_client, "partner", partner, upload("p.pdf", PDF)).status_code == 302
    assert attach(officer_client, "agreement", agreement, upload("MOU.pdf", PDF)).status_code == 302
    assert set(Attachment.objects.values_list("filename", flat=True)) == {"c.pdf", "gift.png", "p.pdf", "MOU.pdf"}
    # Each record page carries the panel, which lists its files.
    for url, kind, record, name in [
        (partner.get_absolute_url(), "partner", partner, "p.pdf"),
        (agreement.get_absolute_url(), "agreement", agreement, "MOU.pdf"),
        (commitment.get_absolute_url(), "commitment", commitment, "c.pdf"),
        (reverse("gifts:edit", args=[gift.pk]), "gift", gift, "gift.png"),
    ]:
        page = body(officer_client.get(url))
        assert reverse("attachments:panel", args=[kind, record.pk]) in page, url
        assert name in body(officer_client.get(reverse("attachments:panel", args=[kind, record.pk])))


# --- Confidentiality ------------------------------------------------------------------------


def test_a_restricted_engagements_file_is_a_404_for_outsiders_everywhere(client_for, officer, staff_user, other_staff, viewer, secret):
    attach(client_for(officer), "engagement", secret, upload("secret letter.pdf", PDF))
    commitment = CommitmentFactory(engagement=secret, description="Secret promise")
    attach(client_for(officer), "commitment", commitment, upload("secret promise.pdf", PDF))
    gift = GiftFactory(engagement=secret)
    attach(client_for(officer), "gift", gift, upload("secret gift.png", png()))
    files = list(Attachment.objects.order_by("pk"))
    assert len(files) == 3
    for outsider in (other_staff, viewer):
        client = client_for(outsider)
        for a in files:
            response = client.get(reverse("attachments:download", args=[a.pk]))
            assert response.status_code == 404 and b"%PDF" not in response.content
            for url in (reverse("attachments:replace", args=[a.pk]), reverse("attachments:delete", args=[a.pk])):
                assert client.get(url).status_code in (403, 404)
        for kind, record in (("engagement", secret), ("commitment", commitment), ("gift", gift)):
            assert client.get(reverse("attachments:panel", args=[kind, record.pk])).status_code == 404
            assert client.get(reverse("attachments:record", args=[kind, record.pk])).status_code == 404
            assert attach(client, kind, record, upload("x.pdf", PDF)).status_code in (403, 404)
        api = token_client(outsider)
        listed = api.get("/api/v1/attachments/").json()
        assert listed["count"] == 0 and "secret" not in str(listed)
        assert api.get(f"/api/v1/attachments/?engagement={secret.pk}").json()["results"] == []
        for a in files:
            assert api.get(f"/api/v1/attachments/{a.pk}/").status_code == 404
            refused = api.get(f"/api/v1/attachments/{a.pk}/download/", HTTP_ACCEPT="application/octet-stream")
            assert refused.status_code == 404 and refused.json() == {"detail": "No Attachment matches the given query."}
    assert Attachment.objects.count() == 3
    # Who took part sees them, on the pages and in the API.
    client = client_for(staff_user)
    assert b"".join(client.get(reverse("attachments:download", args=[files[0].pk])).streaming_content) == PDF
    listed = token_client(staff_user).get(f"/api/v1/attachments/?engagement={secret.pk}").json()
    assert [r["filename"] for r in listed["results"]] == ["secret letter.pdf"]
    download = token_client(staff_user).get(listed["results"][0]["download_url"])
    assert download.status_code == 200 and b"".join(download.streaming_content) == PDF
    assert download["X-Content-Type-Options"] == "nosniff"


def test_the_api_lists_a_records_files(officer, viewer, meeting, client_for):
    attach(client_for(officer), "engagement", meeting, upload("one.pdf", PDF), upload("two.txt", b"two\n"))
    other = EngagementFactory()
    attach(client_for(officer), "engagement", other, upload("elsewhere.pdf", PDF))
    data = token_client(viewer).get(f"/api/v1/attachments/?engagement={meeting.pk}").json()
    assert sorted(r["filename"] for r in data["results"]) == ["one.pdf", "two.txt"]
    row = next(r for r in data["results"] if r["filename"] == "one.pdf")
    assert row["record_type"] == "engagement" and row["record_id"] == meeting.pk
    assert row["uploaded_by"] == officer.username and row["size"] == len(PDF) and row["content_type"] == "application/pdf"
    bad = token_client(viewer).get("/api/v1/attachments/?engagement=abc")
    assert bad.status_code == 400 and "engagement" in bad.json()


# --- Checks on the content ---------------------------------------------------------------------


def test_a_renamed_executable_is_refused_and_nothing_is_written(client_for, staff_user, meeting, attachment_storage):
    client = client_for(staff_user)
    response = attach(client, "engagement", meeting, upload("fine.pdf", PDF), upload("report.pdf", EXE))
    assert response.status_code == 200
    assert "report.pdf is a Windows executable, not a PDF." in body(response)
    assert Attachment.objects.count() == 0  # all or nothing
    assert not any(p.is_file() for p in attachment_storage.rglob("*"))


def test_other_refused_types_name_what_is_allowed(client_for, staff_user, meeting):
    response = attach(client_for(staff_user), "engagement", meeting, upload("page.html", b"<!DOCTYPE html><html><body>hi</body></html>"))
    assert response.status_code == 200
    assert "page.html is a web page (HTML), which may not be attached (allowed: PDF, DOCX" in body(response)


def test_an_oversize_file_is_refused_with_its_size_and_the_limit(client_for, staff_user, meeting, settings):
    settings.ATTACHMENT_MAX_BYTES = 1024 * 1024
    response = attach(client_for(staff_user), "engagement", meeting, upload("scan.pdf", PDF + b"0" * (3 * 1024 * 1024)))
    assert response.status_code == 200
    assert "scan.pdf is 3 MB; the limit is 1 MB." in body(response)
    assert Attachment.objects.count() == 0


def test_the_size_message_at_the_default_limit(settings):
    from attachments.checks import inspect

    class Big:
        name = "minutes.pdf"
        size = 40 * 1024 * 1024

    assert settings.ATTACHMENT_MAX_BYTES == 25 * 1024 * 1024
    with pytest.raises(Exception) as refused:
        inspect(Big())
    assert refused.value.messages == ["minutes.pdf is 40 MB; the limit is 25 MB."]


def test_no_file_and_an_empty_file_are_form_errors(client_for, staff_user, meeting):
    client = client_for(staff_user)
    response = client.post(reverse("attachments:record", args=["engagement", meeting.pk]), {})
    assert response.status_code == 200 and "Choose at least one file." in body(response)
    response = attach(client, "engagement", meeting, upload("empty.txt", b""))
    assert response.status_code == 200
    assert Attachment.objects.count() == 0


def test_a_path_in_the_name_is_dropped_and_the_download_name_is_safe(client_for, officer, meeting):
    client = client_for(officer)
    attach(client, "engagement", meeting, upload('..\\..\\evil"\r\nX-Header: 1.txt', b"plain words\n"))
    a = Attachment.objects.get()
    assert "/" not in a.filename and "\\" not in a.filename and '"' not in a.filename and "\n" not in a.filename
    assert ".." not in a.blob and a.filename not in a.blob
    response = client.get(reverse("attachments:download", args=[a.pk]))
    assert "\n" not in response["Content-Disposition"] and response["Content-Disposition"].startswith("attachment;")


# --- Replace and delete, kept in history ----------------------------------------------------------


def test_an_officer_replaces_a_file_and_the_old_one_stays_in_history(client_for, officer, staff_user, meeting):
    attach(client_for(staff_user), "engagement", meeting, upload("draft MOU.pdf", PDF))
    a = Attachment.objects.get()
    old_blob = a.blob
    assert client_for(staff_user).get(reverse("attachments:replace", args=[a.pk])).status_code == 403
    client = client_for(officer)
    signed = PDF.replace(b"%%EOF", b"% signed\n%%EOF")
    response = client.post(reverse("attachments:replace", args=[a.pk]), {"file": upload("signed MOU.pdf", signed)})
    assert response.status_code == 302
    a.refresh_from_db()
    assert a.filename == "signed MOU.pdf" and a.uploaded_by == officer and a.sha256 == hashlib.sha256(signed).hexdigest()
    assert b"".join(client.get(reverse("attachments:download", args=[a.pk])).streaming_content) == signed
    versions = list(a.history.order_by("history_date").values_list("filename", "blob", "history_user_id", "history_type"))
    assert versions == [
        ("draft MOU.pdf", old_blob, staff_user.pk, "+"),
        ("signed MOU.pdf", a.blob, officer.pk, "~"),
    ]
    from attachments.services import storage

    assert storage().open(old_blob).read() == PDF  # the old bytes are kept
    # A replacement is checked like an upload.
    response = client.post(reverse("attachments:replace", args=[a.pk]), {"file": upload("final.pdf", EXE)})
    assert response.status_code == 200 and "final.pdf is a Windows executable, not a PDF." in body(response)
    a.refresh_from_db()
    assert a.filename == "signed MOU.pdf"


def test_only_officers_delete_and_the_delete_is_kept_in_history(client_for, officer, staff_user, viewer, meeting):
    attach(client_for(staff_user), "engagement", meeting, upload("letter.pdf", PDF))
    a = Attachment.objects.get()
    for user in (staff_user, viewer):
        client = client_for(user)
        assert client.get(reverse("attachments:delete", args=[a.pk])).status_code == 403
        assert client.post(reverse("attachments:delete", args=[a.pk])).status_code == 403
    assert Attachment.objects.filter(pk=a.pk).exists()
    client = client_for(officer)
    assert "Delete letter.pdf?" in body(client.get(reverse("attachments:delete", args=[a.pk])))
    response = client.post(reverse("attachments:delete", args=[a.pk]))
    assert response.status_code == 302
    assert not Attachment.objects.filter(pk=a.pk).exists()
    last = Attachment.history.filter(id=a.pk).order_by("-history_date").first()
    assert last.history_type == "-" and last.history_user == officer and last.filename == "letter.pdf"
    assert client.get(reverse("attachments:download", args=[a.pk])).status_code == 404


def test_a_record_with_files_is_not_deleted_from_under_them(client_for, officer, meeting):
    client = client_for(officer)
    attach(client, "engagement", meeting, upload("letter.pdf", PDF))
    response = client.post(reverse("engagements:delete", args=[meeting.pk]))
    assert Engagement.objects.filter(pk=meeting.pk).exists()
    assert "attachment" in body(response)


def test_engagement_page_carries_the_panel_and_a_link_without_javascript(client_for, viewer, meeting):
    page = body(client_for(viewer).get(meeting.get_absolute_url()))
    assert re.search(r'hx-get="/attachments/engagement/%d/panel/"' % meeting.pk, page)
    assert 'href="/attachments/engagement/%d/"' % meeting.pk in page
