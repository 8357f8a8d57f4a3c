"""Two officers replace one attachment at the same moment (PostgreSQL, real threads, each on its own connection).

The test holds the attachment's row lock while both API requests start, waits
until PostgreSQL shows both waiting for it, then lets go: the two replaces run
one after the other (attachments.services.replace_file locks the row), so the
row ends as exactly one of them, whole (name, type, size, hash and stored
bytes agree), and the history holds both versions, each with who made it.
"""

import hashlib
import threading
import time

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, transaction

from attachments.models import Attachment
from attachments.services import storage
from tests.api.conftest import token_client
from tests.factories import EngagementFactory
from tests.world import make_user

from .files import PDF

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

API = "/api/v1/attachments/"


def waiting_for_locks() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_clear_snapshot()")  # else a transaction sees the view as it first read it
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        return cursor.fetchone()[0]


def test_two_officers_replacing_one_file_at_once_leave_one_consistent_row_and_both_versions(
    postgres_required, officer, django_user_model
):
    second = make_user(django_user_model, "otto_officer", "officer")
    meeting = EngagementFactory(title="Port cooperation talks")
    created = token_client(officer).post(
        API, {"record_type": "engagement", "record_id": meeting.pk,
              "file": [SimpleUploadedFile("draft.pdf", PDF)]}, format="multipart",
    )  # fmt: skip
    assert created.status_code == 201, created.content
    pk = created.json()[0]["id"]
    versions = {
        officer.username: PDF.replace(b"%%EOF", b"% Omar's signed copy\n%%EOF"),
        second.username: PDF.replace(b"%%EOF", b"% Otto's signed copy, with the annex\n%%EOF"),
    }
    clients = {officer.username: token_client(officer), second.username: token_client(second)}  # tokens first
    answers, errors = {}, []

    def replace(username):
        try:
            upload = SimpleUploadedFile(f"{username}.pdf", versions[username])
            answers[username] = clients[username].put(f"{API}{pk}/", {"file": upload}, format="multipart")
        except BaseException as exc:  # noqa: BLE001 (reported below)
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=replace, args=(name,)) for name in versions]
    with transaction.atomic():
        Attachment.objects.select_for_update().get(pk=pk)  # both replaces will queue behind this lock
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + 30
        while waiting_for_locks() < 2:
            assert time.monotonic() < deadline, "the two replaces never both waited for the row"
            time.sleep(0.05)
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    assert {name: response.status_code for name, response in answers.items()} == dict.fromkeys(versions, 200)

    row = Attachment.objects.select_related("uploaded_by").get(pk=pk)
    winner = row.uploaded_by.username
    assert row.filename == f"{winner}.pdf"
    content = storage().open(row.blob).read()
    assert content == versions[winner]
    assert (row.size, row.sha256) == (len(content), hashlib.sha256(content).hexdigest())

    history = list(row.history.order_by("history_date", "history_id"))
    assert [h.history_type for h in history] == ["+", "~", "~"]
    replaced = history[1:]
    assert {h.history_user.username for h in replaced} == set(versions)
    assert replaced[-1].history_user.username == winner  # the last one written is the row
    for version in replaced:
        name = version.history_user.username
        assert version.filename == f"{name}.pdf"
        assert storage().open(version.blob).read() == versions[name]  # both files kept, each as its row says
    # The API answers with the row as it is now.
    assert token_client(officer).get(f"{API}{pk}/").json()["sha256"] == hashlib.sha256(versions[winner]).hexdigest()
