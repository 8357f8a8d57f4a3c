"""Search inside documents, end to end (issue 20): a PDF uploaded through the record's page is read by a real
Celery worker (pdftotext in the worker's process tree) and its words are found by the search page, under the
engagement's confidentiality; a replace is read again; the beat sweep picks up a file from before text search.

The page's requests run in this process (Django's test client); the task queued on commit goes to the worker
through Redis (`send_task`, as the project's app would with REDIS_URL set). PostgreSQL, real files on disk.
"""

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from attachments import tasks
from attachments.models import Attachment
from engagements.models import Engagement
from tests.attachments import documents
from tests.factories import EngagementFactory, PartnerFactory
from tests.integration.notification_helpers import celery_client, wait_until

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("postgres_required")]
DONE = Attachment.TextStatus.DONE


@pytest.fixture
def storage_root(settings, tmp_path):
    """One attachments directory for this process and the worker."""
    root = tmp_path / "attachments"
    settings.STORAGES = {
        **settings.STORAGES,
        "attachments": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(root)}},
    }
    return root


@pytest.fixture
def queued(monkeypatch, redis_url):
    """Send each extraction queued on commit to the worker's broker; the ids sent, in order."""
    client = celery_client(redis_url)
    sent = []

    def delay(attachment_id):
        sent.append(attachment_id)
        client.send_task("extract_attachment_text", args=[attachment_id])

    monkeypatch.setattr(tasks.extract_attachment_text, "delay", delay)
    return sent


@pytest.fixture
def worker(celery_workers, storage_root, queued):
    return celery_workers("text", ATTACHMENT_ROOT=str(storage_root))


def read_by_worker(attachment_id, worker, status=DONE):
    assert wait_until(lambda: Attachment.objects.get(pk=attachment_id).text_status == status, timeout=60, interval=0.2), (
        Attachment.objects.get(pk=attachment_id).text_status, worker.log_tail())
    return Attachment.objects.get(pk=attachment_id)


def search_page(client, q, **params) -> str:
    response = client.get("/search/", {"q": q, **params})
    assert response.status_code == 200
    return response.content.decode()


def test_an_uploaded_pdf_is_read_by_the_worker_and_found_with_a_snippet(
    worker, queued, client_for, staff_user, other_staff, viewer, officer
):
    secret = EngagementFactory(
        title="Closed talks on the ferry concession",
        confidentiality=Engagement.Confidentiality.RESTRICTED,
        staff=[staff_user],
    )
    data = documents.pdf(
        "The parties agree on the Gullwing ferry concession between the two harbours of São Tomé.",
        "Signed in duplicate.",
        title="Memorandum of Understanding",
    )
    staff = client_for(staff_user)
    response = staff.post(
        reverse("attachments:record", args=["engagement", secret.pk]),
        {"files": [SimpleUploadedFile("Ferry MOU signed.pdf", data, content_type="application/pdf")]},
    )
    assert response.status_code == 302
    mou = Attachment.objects.get(engagement=secret)
    assert queued == [mou.pk]  # queued once, after the commit
    mou = read_by_worker(mou.pk, worker)
    assert "Gullwing ferry concession" in mou.text and mou.text_note == ""
    assert "extract_attachment_text[" in worker.log_tail(20000)

    body = search_page(staff, "gullwing")
    assert '<h2 id="search-document">Documents</h2>' in body
    assert f'href="{secret.get_absolute_url()}">Ferry MOU signed.pdf</a>' in body
    assert "<mark>Gullwing</mark> ferry concession" in body
    assert "<mark>São</mark> <mark>Tomé</mark>" in search_page(staff, "Sao Tome")  # accents folded inside the PDF
    assert "<mark>Gullwing</mark>" in search_page(client_for(officer), "gullwing", type="document")
    for outsider in (viewer, other_staff):
        client = client_for(outsider)
        for q in ("gullwing", "ferry concession", "Sao Tome"):
            body = search_page(client, q)
            assert "Gullwing" not in body and "Ferry MOU" not in body and 'id="search-document"' not in body
        assert client.get(reverse("attachments:download", args=[mou.pk])).status_code == 404


def test_a_replaced_file_is_read_again_and_the_sweep_reads_files_from_before(worker, queued, client_for, officer):
    partner = PartnerFactory(name="Port authority")
    officer_client = client_for(officer)
    officer_client.post(
        reverse("attachments:record", args=["partner", partner.pk]),
        {"files": [SimpleUploadedFile("brief.docx", documents.docx("Puffinry harbour brief."))]},
    )
    brief = read_by_worker(Attachment.objects.get(partner=partner).pk, worker)
    assert "<mark>Puffinry</mark>" in search_page(officer_client, "puffinry")

    response = officer_client.post(
        reverse("attachments:replace", args=[brief.pk]),
        {"file": SimpleUploadedFile("brief-v2.xlsx", documents.xlsx([["Guillemot", "quay"]]))},
    )
    assert response.status_code == 302
    assert queued == [brief.pk, brief.pk]
    brief = read_by_worker(brief.pk, worker)
    assert "<mark>Guillemot</mark>" in search_page(officer_client, "guillemot")
    assert "Nothing matches" in search_page(officer_client, "puffinry", type="document")

    # A file from before text search (pending, never queued): the beat sweep queues it, the worker reads it.
    old = Attachment.objects.create(
        partner=partner, blob=brief.blob, filename="old.xlsx", content_type=brief.content_type, size=brief.size,
        sha256=brief.sha256, uploaded_at=timezone.now() - dt.timedelta(days=400),
    )
    assert Attachment.objects.get(pk=old.pk).text_status == Attachment.TextStatus.PENDING
    celery_client(worker.env["REDIS_URL"]).send_task("queue_pending_attachment_texts")
    assert "Guillemot" in read_by_worker(old.pk, worker).text


def test_a_read_that_times_out_in_the_worker_fails_clearly_and_the_upload_stands(
    celery_workers, storage_root, queued, client_for, officer
):
    worker = celery_workers("slow", ATTACHMENT_ROOT=str(storage_root), ATTACHMENT_EXTRACT_TIMEOUT_SECONDS="0")
    meeting = EngagementFactory(title="Dock talks")
    client = client_for(officer)
    pdf = documents.pdf("Shearwater quay lease terms.")
    response = client.post(
        reverse("attachments:record", args=["engagement", meeting.pk]),
        {"files": [SimpleUploadedFile("lease.pdf", pdf), SimpleUploadedFile("memo.txt", b"Shearwater memo.")]},
    )
    assert response.status_code == 302
    lease = read_by_worker(Attachment.objects.get(filename="lease.pdf").pk, worker, Attachment.TextStatus.FAILED)
    assert lease.text_note == "Reading the PDF's text took longer than 0 s." and lease.text == ""
    memo = read_by_worker(Attachment.objects.get(filename="memo.txt").pk, worker)  # a plain read has nothing to wait for
    assert memo.text == "Shearwater memo."
    # The upload stands: the file downloads, its page says why it is not searchable, its name is found.
    download = client.get(reverse("attachments:download", args=[lease.pk]))
    assert download.status_code == 200 and b"".join(download.streaming_content) == pdf
    panel = client.get(reverse("attachments:panel", args=["engagement", meeting.pk])).content.decode()
    assert "Not searchable: Reading the PDF&#x27;s text took longer than 0 s." in panel
    body = search_page(client, "shearwater", type="document")
    assert '">memo.txt</a>' in body and '">lease.pdf</a>' not in body  # (the upload's message names both)
    assert "<mark>lease</mark>.pdf" in search_page(client, "lease", type="document")
