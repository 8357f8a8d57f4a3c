"""Attachments through the API (issue 20): upload, download, replace and delete by each role of the cast, with
the bytes and the history checked; restricted records' files 404 to outsiders; refused writes change nothing
(rows, history and the storage's files); the one download response shared with the pages."""

import datetime as dt
import hashlib

import pytest
from django.urls import reverse
from django.utils import timezone

from attachments.models import Attachment
from tests.api.conftest import token_client
from tests.factories import CommitmentFactory, PartnerFactory

from .files import EXE, PDF, png, stored_files, upload

pytestmark = pytest.mark.django_db

API = "/api/v1/attachments/"
SIGNED = PDF.replace(b"%%EOF", b"% signed by both mayors\n%%EOF")


def post_files(api, kind, record_id, *files, **extra):
    return api.post(API, {"record_type": kind, "record_id": record_id, "file": list(files), **extra}, format="multipart")


def put_file(api, pk, file):
    return api.put(f"{API}{pk}/", {"file": file}, format="multipart")


def downloaded(response) -> bytes:
    assert response.status_code == 200, response.status_code
    return b"".join(response.streaming_content)


def state(root) -> tuple:
    """What a refused write must leave alone: the rows, their history and the storage's files."""
    return Attachment.objects.count(), Attachment.history.count(), stored_files(root)


@pytest.fixture
def people(viewer, staff_user, other_staff, officer, superuser, no_role):
    return {"anonymous": None, "viewer": viewer, "staff_user": staff_user, "other_staff": other_staff,
            "officer": officer, "superuser": superuser, "no_role": no_role}  # fmt: skip


@pytest.fixture
def letter(officer, meeting):
    """A PDF an officer attached to the open meeting."""
    created = post_files(token_client(officer), "engagement", meeting.pk, upload("letter.pdf", PDF))
    assert created.status_code == 201, created.content
    return Attachment.objects.get(pk=created.json()[0]["id"])


# --- Upload and download, by role ------------------------------------------------------------------

UPLOAD = {"anonymous": 401, "no_role": 403, "viewer": 403, "staff_user": 201, "other_staff": 201, "officer": 201,
          "superuser": 201}  # fmt: skip


@pytest.mark.parametrize("role", list(UPLOAD))
def test_upload_by_role_and_the_download_gives_back_the_same_bytes(people, role, meeting, attachment_storage):
    user = people[role]
    api = token_client(user)
    before = state(attachment_storage)
    response = post_files(api, "engagement", meeting.pk, upload("MOU signed.pdf", PDF), upload("photo.png", png()))
    assert response.status_code == UPLOAD[role], response.content
    if UPLOAD[role] != 201:
        assert "detail" in response.json() and state(attachment_storage) == before
        return
    rows = {row["filename"]: row for row in response.json()}
    assert set(rows) == {"MOU signed.pdf", "photo.png"}
    pdf = rows["MOU signed.pdf"]
    assert pdf["record_type"] == "engagement" and pdf["record_id"] == meeting.pk
    assert pdf["content_type"] == "application/pdf" and rows["photo.png"]["content_type"] == "image/png"
    assert pdf["size"] == len(PDF) and pdf["sha256"] == hashlib.sha256(PDF).hexdigest()
    assert pdf["uploaded_by"] == user.username
    assert abs(dt.datetime.fromisoformat(pdf["uploaded_at"]) - timezone.now()) < dt.timedelta(minutes=1)
    assert len(stored_files(attachment_storage)) == 2
    # The download, through the API and through the page: the uploaded bytes, as an attachment.
    for url in (pdf["download_url"], reverse("attachments:download", args=[pdf["id"]])):
        client = api if url.startswith("http") else _page_client(user)
        response = client.get(url)
        assert downloaded(response) == PDF
        assert response["Content-Disposition"] == 'attachment; filename="MOU signed.pdf"'
        assert response["Content-Type"] == "application/pdf" and response["Content-Length"] == str(len(PDF))
        assert response["X-Content-Type-Options"] == "nosniff" and "no-store" in response["Cache-Control"]
        assert "sandbox" in response["Content-Security-Policy"]
    assert downloaded(api.get(rows["photo.png"]["download_url"])) == png()


def _page_client(user):
    from django.test import Client

    client = Client()
    client.force_login(user)
    return client


DOWNLOAD = {"anonymous": 401, "no_role": 403, "viewer": 200, "staff_user": 200, "other_staff": 200, "officer": 200,
            "superuser": 200}  # fmt: skip


@pytest.mark.parametrize("role", list(DOWNLOAD))
def test_download_by_role(people, role, letter):
    api = token_client(people[role])
    response = api.get(f"{API}{letter.pk}/download/")
    assert response.status_code == DOWNLOAD[role]
    if DOWNLOAD[role] == 200:
        assert downloaded(response) == PDF
        assert api.get(f"{API}{letter.pk}/").json()["filename"] == "letter.pdf"
    else:
        assert b"%PDF" not in response.content and "letter.pdf" not in response.content.decode()


def test_staff_attach_to_engagements_but_not_to_partners(staff_user, officer, attachment_storage):
    partner = PartnerFactory(name="Port of Rotterdam")
    commitment = CommitmentFactory()
    staff = token_client(staff_user)
    assert post_files(staff, "commitment", commitment.pk, upload("c.pdf", PDF)).status_code == 201
    before = state(attachment_storage)
    refused = post_files(staff, "partner", partner.pk, upload("p.pdf", PDF))
    assert refused.status_code == 403 and refused.json() == {"detail": "You may not attach files to this record."}
    assert state(attachment_storage) == before
    assert post_files(token_client(officer), "partner", partner.pk, upload("p.pdf", PDF)).status_code == 201
    listed = token_client(staff_user).get(f"{API}?partner={partner.pk}").json()["results"]
    assert [row["filename"] for row in listed] == ["p.pdf"]


def test_a_non_ascii_name_downloads_under_rfc_6266(officer, meeting):
    api = token_client(officer)
    created = post_files(api, "engagement", meeting.pk, upload("Protocole d’accord – signé.pdf", PDF)).json()[0]
    response = api.get(created["download_url"])
    assert downloaded(response) == PDF
    assert response["Content-Disposition"] == (
        "attachment; filename=\"Protocole daccord  signe.pdf\"; "
        "filename*=UTF-8''Protocole%20d%E2%80%99accord%20%E2%80%93%20sign%C3%A9.pdf"
    )


def test_a_file_missing_from_the_storage_is_a_404_not_a_500(officer, letter, attachment_storage):
    for path in attachment_storage.rglob("*"):
        if path.is_file():
            path.unlink()
    assert token_client(officer).get(f"{API}{letter.pk}/download/").status_code == 404
    assert _page_client(officer).get(reverse("attachments:download", args=[letter.pk])).status_code == 404


# --- Replace and delete: officers, kept in history ---------------------------------------------------

WRITE = {"anonymous": 401, "no_role": 403, "viewer": 403, "staff_user": 403, "other_staff": 403}


@pytest.mark.parametrize("role", [*WRITE, "officer", "superuser"])
def test_replace_by_role_keeps_the_old_version_in_history(people, role, letter, attachment_storage):
    user = people[role]
    api = token_client(user)
    old_blob = letter.blob
    before = state(attachment_storage)
    response = put_file(api, letter.pk, upload("signed MOU.pdf", SIGNED))
    if role in WRITE:
        assert response.status_code == WRITE[role]
        assert state(attachment_storage) == before
        assert downloaded(token_client(people["viewer"]).get(f"{API}{letter.pk}/download/")) == PDF
        return
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["filename"] == "signed MOU.pdf" and body["uploaded_by"] == user.username
    assert body["sha256"] == hashlib.sha256(SIGNED).hexdigest() and body["size"] == len(SIGNED)
    assert downloaded(api.get(body["download_url"])) == SIGNED
    letter.refresh_from_db()
    versions = list(letter.history.order_by("history_date", "history_id"))
    assert [(v.history_type, v.filename, v.history_user) for v in versions] == [
        ("+", "letter.pdf", people["officer"]),
        ("~", "signed MOU.pdf", user),
    ]
    assert abs(versions[-1].history_date - timezone.now()) < dt.timedelta(minutes=1)
    assert versions[0].blob == old_blob != letter.blob
    from attachments.services import storage

    assert storage().open(old_blob).read() == PDF  # the earlier file stays, named by its history row


@pytest.mark.parametrize("role", [*WRITE, "officer", "superuser"])
def test_delete_by_role_is_kept_in_history(people, role, letter, attachment_storage):
    user = people[role]
    api = token_client(user)
    before = state(attachment_storage)
    response = api.delete(f"{API}{letter.pk}/")
    if role in WRITE:
        assert response.status_code == WRITE[role]
        assert state(attachment_storage) == before
        return
    assert response.status_code == 204
    assert not Attachment.objects.filter(pk=letter.pk).exists()
    last = Attachment.history.filter(id=letter.pk).latest("history_date")
    assert (last.history_type, last.history_user, last.filename) == ("-", user, "letter.pdf")
    assert abs(last.history_date - timezone.now()) < dt.timedelta(minutes=1)
    assert api.get(f"{API}{letter.pk}/download/").status_code == 404
    assert stored_files(attachment_storage) == before[2]  # the bytes stay: the history row names them


# --- Confidentiality: 404 for outsiders, everywhere in the API ---------------------------------------


def test_a_restricted_engagements_attachment_is_a_404_for_outsiders(officer, staff_user, other_staff, viewer, superuser,
                                                                      secret, attachment_storage):
    created = post_files(token_client(staff_user), "engagement", secret.pk, upload("secret letter.pdf", PDF))
    assert created.status_code == 201  # staff who took part
    pk = created.json()[0]["id"]
    before = state(attachment_storage)
    unknown = post_files(token_client(other_staff), "engagement", 987654321, upload("x.pdf", PDF))
    for outsider in (other_staff, viewer):
        api = token_client(outsider)
        listed = api.get(API).json()
        assert listed["count"] == 0 and "secret" not in str(listed)
        assert api.get(f"{API}?engagement={secret.pk}").json()["results"] == []
        assert api.get(f"{API}{pk}/").status_code == 404
        refused = api.get(f"{API}{pk}/download/", HTTP_ACCEPT="application/pdf")
        assert refused.status_code == 404 and b"%PDF" not in refused.content
    # Uploading to it: the same 404 as for a record that does not exist (nothing said about it).
    outsider_upload = post_files(token_client(other_staff), "engagement", secret.pk, upload("x.pdf", PDF))
    assert outsider_upload.status_code == unknown.status_code == 404
    assert outsider_upload.content == unknown.content
    # Replace and delete are officers' (403 before any lookup, whatever the id); officers see everything.
    assert put_file(token_client(other_staff), pk, upload("x.pdf", PDF)).status_code == 403
    assert token_client(other_staff).delete(f"{API}{pk}/").status_code == 403
    assert state(attachment_storage) == before
    for insider in (staff_user, officer, superuser):
        api = token_client(insider)
        assert [row["id"] for row in api.get(f"{API}?engagement={secret.pk}").json()["results"]] == [pk]
        assert downloaded(api.get(f"{API}{pk}/download/")) == PDF
    assert put_file(token_client(officer), pk, upload("signed.pdf", SIGNED)).status_code == 200
    assert downloaded(token_client(staff_user).get(f"{API}{pk}/download/")) == SIGNED


def test_a_commitment_of_a_restricted_engagement_keeps_its_files_hidden(officer, other_staff, secret):
    commitment = CommitmentFactory(engagement=secret)
    created = post_files(token_client(officer), "commitment", commitment.pk, upload("promise.pdf", PDF))
    pk = created.json()[0]["id"]
    api = token_client(other_staff)
    assert api.get(f"{API}{pk}/").status_code == 404 and api.get(f"{API}{pk}/download/").status_code == 404
    assert post_files(api, "commitment", commitment.pk, upload("x.pdf", PDF)).status_code == 404


# --- Refused writes change nothing ---------------------------------------------------------------------


def _refusals(meeting, letter):
    big = PDF + b"0" * 3000
    return [
        # (label, method, data, status, field, message)
        ("no file", "post", {"record_type": "engagement", "record_id": meeting.pk}, 400, "file",
         "Choose at least one file."),
        ("unknown kind", "post", {"record_type": "spaceship", "record_id": meeting.pk, "file": [upload("a.pdf", PDF)]},
         400, "record_type", '"spaceship" is not a valid choice.'),
        ("bad id", "post", {"record_type": "engagement", "record_id": "abc", "file": [upload("a.pdf", PDF)]}, 400,
         "record_id", "A valid integer is required."),
        ("id 0", "post", {"record_type": "engagement", "record_id": "0", "file": [upload("a.pdf", PDF)]}, 400,
         "record_id", "Ensure this value is greater than or equal to 1."),
        ("renamed executable", "post", {"record_type": "engagement", "record_id": meeting.pk,
                                        "file": [upload("report.pdf", EXE)]}, 400, "file",
         "report.pdf is a Windows executable, not a PDF."),
        ("one good, one bad", "post", {"record_type": "engagement", "record_id": meeting.pk,
                                       "file": [upload("fine.pdf", PDF), upload("minutes.pdf", EXE)]}, 400, "file",
         "minutes.pdf is a Windows executable, not a PDF."),
        ("oversize", "post", {"record_type": "engagement", "record_id": meeting.pk, "file": [upload("scan.pdf", big)]},
         400, "file", "scan.pdf is 3 KB; the limit is 2 KB."),
        ("empty", "post", {"record_type": "engagement", "record_id": meeting.pk, "file": [upload("e.pdf", b"")]},
         400, "file", "e.pdf is empty."),
        ("text, not a file", "post", {"record_type": "engagement", "record_id": meeting.pk, "file": "not a file"},
         400, "file", None),
        ("too many", "post", {"record_type": "engagement", "record_id": meeting.pk,
                              "file": [upload(f"n{i}.txt", b"words\n") for i in range(4)]}, 400, "file",
         "At most 3 files at once."),
        ("unknown record", "post", {"record_type": "engagement", "record_id": 987654321,
                                    "file": [upload("a.pdf", PDF)]}, 404, "detail", None),
        ("replace: no file", "put", {}, 400, "file", "Choose a file."),
        ("replace: executable", "put", {"file": upload("signed.pdf", EXE)}, 400, "file",
         "signed.pdf is a Windows executable, not a PDF."),
        ("replace: oversize", "put", {"file": upload("scan.pdf", big)}, 400, "file", "scan.pdf is 3 KB; the limit is 2 KB."),
        ("replace: unknown", "put-unknown", {"file": upload("a.pdf", PDF)}, 404, "detail", None),
        ("delete: unknown", "delete-unknown", None, 404, "detail", None),
    ]


def test_refused_writes_change_nothing_and_say_why(officer, meeting, letter, attachment_storage, settings):
    settings.ATTACHMENT_MAX_BYTES = 2048
    settings.ATTACHMENT_MAX_FILES = 3
    api = token_client(officer)
    for label, method, data, status, field, message in _refusals(meeting, letter):
        before = state(attachment_storage)
        if method == "post":
            response = api.post(API, data, format="multipart")
        elif method == "put":
            response = api.put(f"{API}{letter.pk}/", data, format="multipart")
        elif method == "put-unknown":
            response = api.put(f"{API}987654321/", data, format="multipart")
        else:
            response = api.delete(f"{API}987654321/")
        assert response.status_code == status, (label, response.content)
        errors = response.json()
        assert field in errors, (label, errors)
        if message:
            assert message in str(errors[field]), (label, errors)
        assert state(attachment_storage) == before, label
    # A body that is not multipart: 415, nothing written.
    before = state(attachment_storage)
    response = api.post(API, {"record_type": "engagement", "record_id": meeting.pk}, format="json")
    assert response.status_code == 415 and "detail" in response.json()
    assert state(attachment_storage) == before
    # PATCH is no operation of attachments (a replace is a PUT of the whole file).
    assert api.patch(f"{API}{letter.pk}/", {"file": upload("a.pdf", PDF)}, format="multipart").status_code == 405
    assert state(attachment_storage) == before
    letter.refresh_from_db()
    assert letter.filename == "letter.pdf"


def test_an_upload_that_fails_midway_leaves_no_row_and_no_file(officer, meeting, attachment_storage, monkeypatch):
    # The second row's insert fails as if the meeting had been deleted at that moment: the first file's row is
    # rolled back and both files already stored are removed again (409, as any write that lost a race).
    from django.db import IntegrityError

    saved = Attachment.save
    calls = []

    def save(self, *args, **kwargs):
        calls.append(self.filename)
        if len(calls) == 2:
            raise IntegrityError("insert or update on table violates foreign key constraint")
        return saved(self, *args, **kwargs)

    monkeypatch.setattr(Attachment, "save", save)
    before = state(attachment_storage)
    response = post_files(token_client(officer), "engagement", meeting.pk, upload("one.pdf", PDF), upload("two.pdf", PDF))
    assert response.status_code == 409 and "nothing was written" in response.json()["detail"]
    assert calls == ["one.pdf", "two.pdf"]
    assert state(attachment_storage) == before


def test_the_schema_describes_the_writes(client):
    schema = client.get("/api/v1/schema/?format=json").json()
    upload_op = schema["paths"][API]["post"]
    body = upload_op["requestBody"]["content"]["multipart/form-data"]["schema"]["$ref"].rsplit("/", 1)[1]
    fields = schema["components"]["schemas"][body]["properties"]
    assert fields["file"]["items"] == {"type": "string", "format": "binary"} and fields["file"]["minItems"] == 1
    assert set(schema["components"]["schemas"][body]["required"]) == {"record_type", "record_id", "file"}
    assert upload_op["responses"]["201"]["content"]["application/json"]["schema"]["type"] == "array"
    assert "404" in upload_op["responses"]
    detail = schema["paths"][f"{API}{{id}}/"]
    assert set(detail) == {"get", "put", "delete", "parameters"} or set(detail) == {"get", "put", "delete"}
    assert detail["put"]["description"].endswith("Who may: officers and superusers.")
