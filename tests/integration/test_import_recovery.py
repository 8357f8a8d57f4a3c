"""A dead worker's import job runs again within lease + one scan interval, exactly once (PostgreSQL, real threads).

- a job claimed by a worker that died is queued by `resume_import_jobs` after
  its lease and imported once (rows and history written once; a late
  redelivery of the dead worker's task does nothing);
- a live job whose rows are slow (one of them slower than the whole lease)
  renews its lease, so the scan never takes it;
- two scans at once queue the job once, and two runs at once import it once;
- a run that lost its lease (a frozen process) rolls back instead of
  importing a second time.
"""

import threading
import time

import pytest

from imports import rows as importer
from imports import services, tasks
from imports.models import ImportJob
from partners.models import Partner
from tests.integration.import_helpers import (
    PARTNER_HEADER,
    PARTNER_ROWS,
    csv_bytes,
    snapshot,
)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("postgres_required")]


@pytest.fixture
def lease(settings):
    """A 1.5 s lease (renewed every 0.5 s) instead of 90 s."""
    settings.CRM = {**settings.CRM, "IMPORT_LEASE_SECONDS": 1.5}
    return 1.5


@pytest.fixture
def queued(monkeypatch):
    """What the scan queues: (job id, commit) per `run_import_job.delay`, in order."""
    calls, lock = [], threading.Lock()

    def delay(job_id, commit):
        with lock:
            calls.append((job_id, commit))

    monkeypatch.setattr(tasks.run_import_job, "delay", delay)
    return calls


def importing_job(user, rows=PARTNER_ROWS) -> ImportJob:
    job = services.import_job_create(user=user, kind="partners", filename="p.csv", data=csv_bytes([PARTNER_HEADER, *rows]))
    ImportJob.objects.filter(pk=job.pk).update(status="importing")
    return job


def threads(*targets):
    """Run each target in a thread of its own (its own database connection), together; return their results."""
    from django.db import connection

    out, barrier = [None] * len(targets), threading.Barrier(len(targets))

    def run(i, target):
        try:
            barrier.wait()
            out[i] = target()
        except BaseException as exc:
            out[i] = exc
        finally:
            connection.close()

    started = [threading.Thread(target=run, args=(i, t)) for i, t in enumerate(targets)]
    for thread in started:
        thread.start()
    for thread in started:
        thread.join(30)
    for value in out:
        if isinstance(value, BaseException):
            raise value
    return out


def test_a_dead_workers_job_is_resumed_within_lease_plus_one_scan_and_imported_once(officer, topics, lease, queued):
    interval = 0.5
    job = importing_job(officer)
    before = snapshot()
    (token,) = threads(lambda: services._claim(job.pk, "importing"))  # the worker claimed it, then died
    claimed_at = time.monotonic()
    assert token

    resumed_at = None
    while time.monotonic() - claimed_at < lease + 4 * interval:  # what beat does: a scan every interval
        if threads(services.resume_import_jobs)[0]:
            resumed_at = time.monotonic()
            break
        time.sleep(interval)
    assert resumed_at is not None, "the abandoned job was never queued again"
    took = resumed_at - claimed_at
    print(f"recovery: abandoned import queued again {took:.2f} s after its claim (lease {lease} s, scan every {interval} s)")
    assert lease <= took <= lease + interval + 0.5
    assert queued == [(job.pk, True)]

    threads(lambda: tasks.run_import_job(*queued[0]))
    job.refresh_from_db()
    assert job.status == "imported" and job.claim_token != token
    assert sorted(Partner.objects.values_list("name", flat=True)) == sorted(r[0] for r in PARTNER_ROWS)
    after = snapshot()
    assert after["Partner"] - before["Partner"] == 3 and after["history:Partner"] - before["history:Partner"] == 3

    # The broker hands the dead worker's task out again much later, and the scan runs on: nothing more happens.
    tasks.run_import_job(job.pk, True)
    assert services.resume_import_jobs() == []
    assert snapshot() == after


def test_a_live_job_with_slow_rows_renews_its_lease_and_the_scan_leaves_it_alone(officer, topics, lease, queued, monkeypatch):
    rows = [[f"Slow City {i}", "city", "FR", f"Town {i}", "", "", ""] for i in range(8)]
    job = importing_job(officer, rows)
    original = importer.PartnerImporter.import_row

    def slow_row(self, number, cells):
        # Seven rows of 0.2 s and one of 3 s (twice the lease on its own, as a long lock wait would be).
        time.sleep(3.0 if number == 5 else 0.2)
        return original(self, number, cells)

    monkeypatch.setattr(importer.PartnerImporter, "import_row", slow_row)
    done = threading.Event()
    scans, taken = [], []

    def scan_while_it_runs():
        while not ImportJob.objects.filter(pk=job.pk, claimed_at__isnull=False).exists():  # the run has its claim
            time.sleep(0.02)
        while not done.is_set():
            scans.append(services.resume_import_jobs())
            taken.append(services._claim(job.pk, "importing"))  # another worker's redelivered task
            time.sleep(0.2)

    def run():
        try:
            return services.import_job_run(job_id=job.pk, commit=True)
        finally:
            done.set()

    result, _ = threads(run, scan_while_it_runs)
    assert result.status == "imported"
    assert len(scans) >= 10 and not any(scans) and not any(taken) and queued == []
    assert Partner.objects.filter(name__startswith="Slow City").count() == 8


def test_two_scans_at_once_queue_the_job_once_and_two_runs_import_it_once(officer, topics, lease, queued):
    job = importing_job(officer)
    threads(lambda: services._claim(job.pk, "importing"))  # the dead worker
    time.sleep(lease + 0.1)
    before = snapshot()

    first, second = threads(services.resume_import_jobs, services.resume_import_jobs)
    assert sorted(first + second) == [job.pk] and queued == [(job.pk, True)]

    # The scan's task and the broker's late redelivery of the dead worker's task, at once.
    threads(lambda: tasks.run_import_job(job.pk, True), lambda: tasks.run_import_job(job.pk, True))
    assert ImportJob.objects.get(pk=job.pk).status == "imported"
    after = snapshot()
    assert after["Partner"] - before["Partner"] == 3 and after["history:Partner"] - before["history:Partner"] == 3


def test_a_run_that_lost_its_lease_rolls_back_and_the_resumed_run_imports_once(officer, topics, lease, queued, monkeypatch):
    job = importing_job(officer, [[f"Lost City {i}", "city", "FR", f"Town {i}", "", "", ""] for i in range(3)])
    original = importer.PartnerImporter.import_row
    stalled, resumed = threading.Event(), threading.Event()

    def one_row_slower_than_the_lease(self, number, cells):
        if number == 3 and threading.current_thread().name == "stalled":
            stalled.set()
            resumed.wait(10)  # meanwhile the lease runs out and the job is resumed elsewhere
        return original(self, number, cells)

    monkeypatch.setattr(importer.PartnerImporter, "import_row", one_row_slower_than_the_lease)
    # A frozen process (or a lost network): its renewals no longer reach the database.
    monkeypatch.setattr(services._ProgressWriter, "_write", lambda self, conn: None)
    outcome = {}

    def stalled_run():
        from django.db import connection

        try:
            outcome["stalled"] = services.import_job_run(job_id=job.pk, commit=True)
        finally:
            connection.close()

    worker = threading.Thread(target=stalled_run, name="stalled")
    worker.start()
    assert stalled.wait(10)
    time.sleep(lease + 0.1)
    assert services.resume_import_jobs() == [job.pk]

    def resumed_run():
        from django.db import connection

        try:
            tasks.run_import_job(job.pk, True)
        finally:
            connection.close()

    # The resumed run waits for the stalled one's commit lock (imports commit one at a time),
    # which the frozen process gives up when it wakes and finds its lease gone (or when the
    # server ends its idle transaction).
    second = threading.Thread(target=resumed_run)
    second.start()
    time.sleep(0.5)
    resumed.set()
    worker.join(30)
    second.join(30)

    job.refresh_from_db()
    assert job.status == "imported" and outcome["stalled"].claim_token != ""
    assert sorted(Partner.objects.values_list("name", flat=True)) == ["Lost City 0", "Lost City 1", "Lost City 2"]
    assert Partner.history.count() == 3
