"""Import jobs on a real Celery worker and PostgreSQL (issue 16): every pass runs in the worker, one request
claims each step, two jobs of one file create their rows once, a killed worker's job is seen as stalled and
resumed from the page, ending with every row exactly once.

The page's requests run in this process (Django's test client, real threads);
the task they queue goes to the worker through Redis (`send_task`, as the
project's app would with REDIS_URL set).
"""

import threading
import time

import pytest
from django.urls import reverse

from engagements.models import Engagement
from imports import services, tasks
from imports.models import ImportJob
from partners.models import Partner
from tests.integration.import_helpers import PARTNER_HEADER, PARTNER_ROWS, csv_bytes, snapshot
from tests.integration.notification_helpers import celery_client, table_held, wait_until

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("postgres_required")]
LEASE = 2


@pytest.fixture
def sent(monkeypatch, redis_url):
    """Queue each pass on the worker's broker; returns the (job id, commit) sent, in order."""
    client = celery_client(redis_url)
    calls, lock = [], threading.Lock()

    def delay(job_id, commit):
        with lock:
            calls.append((job_id, commit))
        client.send_task("run_import_job", args=[job_id, commit])

    monkeypatch.setattr(tasks.run_import_job, "delay", delay)
    return calls


@pytest.fixture
def short_lease(settings):
    settings.CRM = {**settings.CRM, "IMPORT_LEASE_SECONDS": LEASE}
    return LEASE


def wait_for(job, status, worker, timeout=120):
    assert wait_until(lambda: ImportJob.objects.get(pk=job.pk).status == status, timeout=timeout, interval=0.1), (
        ImportJob.objects.get(pk=job.pk).status, worker.log_tail())
    job.refresh_from_db()
    return job


def checked_job(user, data, worker, kind="partners", name="p.csv"):
    job = services.import_job_create(user=user, kind=kind, filename=name, data=data)
    services.import_job_start(job=job, commit=False)
    return wait_for(job, "checked", worker)


def together(*targets):
    """Run the targets at once, each in a thread of its own (its own connection); their results."""
    from django.db import connection

    out, barrier = [None] * len(targets), threading.Barrier(len(targets))

    def run(i, target):
        try:
            barrier.wait()
            out[i] = target()
        except BaseException as exc:  # noqa: BLE001 (re-raised below)
            out[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, t)) for i, t in enumerate(targets)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    for value in out:
        if isinstance(value, BaseException):
            raise value
    return out


def test_the_page_checks_and_imports_through_the_worker(celery_workers, sent, officer, topics, client_for):
    worker = celery_workers("w1")
    client = client_for(officer)
    bad = ["Atlantis City", "city", "Atlantis", "", "", "", ""]
    from django.core.files.uploadedfile import SimpleUploadedFile

    client.post(reverse("imports:start"), {"kind": "partners", "file": SimpleUploadedFile(
        "p.csv", csv_bytes([PARTNER_HEADER, *PARTNER_ROWS, bad]))})
    job = ImportJob.objects.get()
    mapping_page = client.get(reverse("imports:mapping", args=[job.pk])).content.decode()
    assert "What each column goes to now" in mapping_page  # the mapping, before anything is checked
    response = client.post(reverse("imports:mapping", args=[job.pk]), {f"col_{k}": v for k, v in job.mapping.items()})
    assert response.status_code == 302 and sent == [(job.pk, False)]
    job = wait_for(job, "checked", worker)
    assert job.bad_row_count == 1 and job.progress == 4 and not Partner.objects.exists()

    client.post(reverse("imports:commit", args=[job.pk]), {"mode": "good"})
    job = wait_for(job, "imported", worker)
    assert sent == [(job.pk, False), (job.pk, True)]
    assert Partner.objects.count() == 3 and Partner.history.count() == 3
    assert b"were imported in one go" in client.get(reverse("imports:preview", args=[job.pk])).content


def test_four_commits_posted_at_once_import_once(celery_workers, sent, officer, topics, client_for):
    worker = celery_workers("w1")
    job = checked_job(officer, csv_bytes([PARTNER_HEADER, *PARTNER_ROWS]), worker)
    clients = [client_for(officer) for _ in range(4)]
    before = snapshot()
    responses = together(*[
        (lambda c=c: c.post(reverse("imports:commit", args=[job.pk]), {"mode": "all"})) for c in clients
    ])
    assert [r.status_code for r in responses] == [302] * 4  # no 500, whoever lost
    assert sent.count((job.pk, True)) == 1  # one request moved the job to "importing" and queued one task
    wait_for(job, "imported", worker)
    after = snapshot()
    assert after["Partner"] - before["Partner"] == 3 and after["history:Partner"] - before["history:Partner"] == 3


def test_two_jobs_of_one_file_committed_at_once_create_their_rows_once(celery_workers, sent, officer, topics):
    worker = celery_workers("w1")  # two processes: both commits run at the same time
    partners = csv_bytes([PARTNER_HEADER, *PARTNER_ROWS])
    first, second = checked_job(officer, partners, worker), checked_job(officer, partners, worker)
    together(lambda: services.import_job_start(job=first, commit=True),
             lambda: services.import_job_start(job=second, commit=True))
    first, second = wait_for(first, "imported", worker), wait_for(second, "imported", worker)
    assert Partner.objects.count() == 3 and Partner.history.count() == 3
    # One of them created the three; the other found them there.
    assert sorted([first.counts["partner"]["created"], second.counts["partner"]["created"]]) == [0, 3]

    engagements = csv_bytes([
        ["title", "kind", "starts_at", "ends_at", "partners", "commitment_description"],
        ["Mayor of Seoul visits", "visit_received", "2025-03-14", "2025-03-14", "Seoul", "Send the MOU"],
        ["Mayor of Seoul visits", "", "2025-03-14", "", "", "Host a return visit"],
        ["Trade mission to Ho Chi Minh City", "visit_abroad", "2025-04-01", "2025-04-03", "Ho Chi Minh City", ""],
    ])
    first = checked_job(officer, engagements, worker, kind="engagements", name="e.csv")
    second = checked_job(officer, engagements, worker, kind="engagements", name="e.csv")
    assert first.errors == [] and second.errors == []
    together(lambda: services.import_job_start(job=first, commit=True),
             lambda: services.import_job_start(job=second, commit=True))
    wait_for(first, "imported", worker), wait_for(second, "imported", worker)
    assert sorted(Engagement.objects.values_list("title", flat=True)) == [
        "Mayor of Seoul visits", "Trade mission to Ho Chi Minh City"]
    assert Engagement.history.count() == 2
    visit = Engagement.objects.get(title="Mayor of Seoul visits")
    assert sorted(visit.commitments.values_list("description", flat=True)) == ["Host a return visit", "Send the MOU"]


def test_a_worker_killed_mid_import_is_seen_stalled_and_resumed_from_the_page_each_row_once(
    celery_workers, sent, short_lease, officer, topics, client_for
):
    rows = [[f"Killed City {i:04d}", "city", "FR", f"Town {i}", "", "", ""] for i in range(1000)]
    worker = celery_workers("w1", IMPORT_LEASE_SECONDS=str(LEASE))
    job = checked_job(officer, csv_bytes([PARTNER_HEADER, *rows]), worker)
    client = client_for(officer)
    with table_held(Partner):
        client.post(reverse("imports:commit", args=[job.pk]), {"mode": "all"})
        # Killed once the import is under way: every row read and checked, waiting to write, nothing committed.
        assert wait_until(lambda: ImportJob.objects.get(pk=job.pk).progress == len(rows), timeout=120, interval=0.05), \
            worker.log_tail()
        worker.kill_group()
    assert ImportJob.objects.get(pk=job.pk).status == "importing" and not Partner.objects.exists()

    # The page sees it: no renewal for a lease → stalled, with Resume and Cancel.
    assert wait_until(lambda: client.get(reverse("imports:status", args=[job.pk])).json()["stalled"],
                      timeout=LEASE * 5, interval=0.2)
    page = client.get(reverse("imports:preview", args=[job.pk])).content.decode()
    assert "Stalled" in page and reverse("imports:resume", args=[job.pk]) in page
    assert reverse("imports:cancel", args=[job.pk]) in page

    worker = celery_workers("w2", IMPORT_LEASE_SECONDS=str(LEASE))
    started = time.monotonic()
    response = client.post(reverse("imports:resume", args=[job.pk]), follow=True)
    if sent.count((job.pk, True)) == 1:
        # The broker handed the dead worker's task to w2 first (late ack): it took the stale job itself.
        assert b"not stalled" in response.content and ImportJob.objects.get(pk=job.pk).status != "failed"
    else:
        assert sent.count((job.pk, True)) == 2 and b"queued again" in response.content
    job = wait_for(job, "imported", worker, timeout=300)
    print(f"resumed import of {len(rows)} rows took {time.monotonic() - started:.1f} s")
    assert Partner.objects.count() == len(rows) and Partner.history.count() == len(rows)
    assert Partner.objects.filter(name=rows[-1][0]).count() == 1
    # A second Resume (or the broker's redelivery of the dead worker's task) changes nothing.
    client.post(reverse("imports:resume", args=[job.pk]))
    time.sleep(1)
    assert Partner.objects.count() == len(rows) and Partner.history.count() == len(rows)


def test_a_running_job_cancelled_from_the_page_writes_nothing(celery_workers, sent, short_lease, officer, topics, client_for):
    rows = [[f"Cancelled City {i:04d}", "city", "FR", f"Town {i}", "", "", ""] for i in range(400)]
    worker = celery_workers("w1", IMPORT_LEASE_SECONDS=str(LEASE))
    job = checked_job(officer, csv_bytes([PARTNER_HEADER, *rows]), worker)
    client = client_for(officer)
    with table_held(Partner):
        client.post(reverse("imports:commit", args=[job.pk]), {"mode": "all"})
        # Cancelled while the run is under way: every row checked, its writes waiting on the lock.
        assert wait_until(lambda: ImportJob.objects.get(pk=job.pk).progress == len(rows), timeout=120, interval=0.05), \
            worker.log_tail()
        client.post(reverse("imports:cancel", args=[job.pk]))
        assert ImportJob.objects.get(pk=job.pk).status == "cancelled"
    time.sleep(1)
    assert wait_until(lambda: "lost its lease" in worker.log_tail(20000) or "wrote nothing" in worker.log_tail(20000),
                      timeout=120), worker.log_tail()
    job.refresh_from_db()
    assert job.status == "cancelled" and not Partner.objects.filter(name__startswith="Cancelled City").exists()
    page = client.get(reverse("imports:preview", args=[job.pk])).content.decode()
    assert "Nothing was imported" in page and "Cancelled" in page
