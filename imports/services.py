"""Import jobs: upload, map, check (dry run), import. Views, the Celery task and tests call these.

A job holds the uploaded file, the column mapping and what the last pass
found. Every pass (the check and the import) runs in the `run_import_job`
Celery task, never in the request; the page follows it through `progress`.

Exactly one request moves a job to each step: `import_job_start` is a
conditional UPDATE (uploaded → checking, checked → importing), so a
double-click on "Import" or four commits posted at once queue one task.

Nothing is ever half-written: the import of a job is one transaction, and
the job is marked imported inside that same transaction (all the rows, or
with `skip_invalid` all the good rows, or nothing). A worker that dies
mid-import leaves no rows and a job still "checking"/"importing". Two workers
cannot run one job at once: each first claims it with a conditional UPDATE
(a fresh `claim_token`, `claimed_at = now()` on the database's clock).

A running job with no sign of life for a lease (its claim or last renewal,
or its queuing when no worker took it) is "stalled": the page says so and
offers Resume (queue it again) and Cancel (nothing is written; a run still
going loses its token and rolls back).

Recovery: the running pass renews its lease (IMPORT_LEASE_SECONDS, 90 s) with
its progress writes, from a thread, every third of the lease; a dead worker's job
is stale one lease after its last renewal, and the `resume_import_jobs` scan
(beat, every IMPORT_RESUME_INTERVAL_SECONDS, 60 s) queues it again: it runs
again within lease + interval (150 s), not after the broker's visibility
timeout. The result is written only while the run still holds its token (the
"imported" mark inside the import's transaction), so a run that lost its
lease (a frozen process) rolls back instead of importing twice.
"""

import datetime as dt
import logging
import threading
import uuid

from django.conf import settings
from django.db import connection, connections, transaction
from django.db.models import DateTimeField, ExpressionWrapper, Q
from django.db.models.functions import Now
from django.utils import timezone

from .importer import ImportResult, MappingError, check_mapping, default_mapping
from .models import ImportJob
from .reader import ImportFileError, read_table
from .run import run_import

logger = logging.getLogger(__name__)

# Without a second connection (SQLite) the lease cannot be renewed while the
# import's transaction runs: there it is the task's hard time limit, plus a minute.
UNRENEWED_LEASE_SECONDS = 1920


class LeaseLost(Exception):
    """This run no longer holds its job (its lease ran out and another run took it): it stops and writes nothing."""


def lease_seconds() -> float:
    """How long a claimed job is left alone after its last renewal before another worker may take it over."""
    if connection.vendor != "postgresql":
        return UNRENEWED_LEASE_SECONDS
    return settings.CRM.get("IMPORT_LEASE_SECONDS", 90)


def _stale_before():
    """The database's now minus the lease: a claim (or renewal) older than this has run out."""
    return ExpressionWrapper(Now() - dt.timedelta(seconds=lease_seconds()), output_field=DateTimeField())


def max_upload_bytes() -> int:
    """Uploads are capped by the project's request-size settings (10 MB)."""
    return min(settings.FILE_UPLOAD_MAX_MEMORY_SIZE, settings.DATA_UPLOAD_MAX_MEMORY_SIZE)


def import_job_create(*, user, kind: str, filename: str, data: bytes) -> ImportJob:
    """Read the upload (ImportFileError when it cannot be read) and keep it with a first guess at the mapping."""
    limit = max_upload_bytes()
    if len(data) > limit:
        raise ImportFileError(f"The file is {len(data) / 1_048_576:.1f} MB; at most {limit // 1_048_576} MB can be imported. Split it.")
    table = read_table(data, filename)
    return ImportJob.objects.create(
        kind=kind,
        created_by=user,
        filename=filename[:255],
        content=data,
        size=len(data),
        headers=table.headers,
        total_rows=len(table.rows),
        mapping=default_mapping(kind, table.headers),
        warnings=table.warnings,
    )


def import_job_set_mapping(*, job: ImportJob, mapping: dict, defaults: dict) -> ImportJob:
    """Keep a new mapping (MappingError when it does not fit the file); the last check no longer applies.

    ValueError when the job is running or imported (a conditional UPDATE: a
    mapping never changes under a running pass).
    """
    mapping = {k: v for k, v in mapping.items() if v}
    defaults = {k: v for k, v in defaults.items() if v not in (None, "")}
    check_mapping(job.kind, job.headers, mapping, defaults)
    changed = ImportJob.objects.filter(pk=job.pk).exclude(status__in=[*ImportJob.RUNNING, ImportJob.Status.IMPORTED]).update(
        mapping=mapping, defaults=defaults, status=ImportJob.Status.UPLOADED, counts={}, errors=[], preview=[],
        progress=0, message="", skip_invalid=False, updated_at=Now(),
    )
    if not changed:
        raise ValueError("This job is running or already imported: its mapping can no longer change.")
    job.refresh_from_db()
    return job


# What each pass starts from, and the state it puts the job in.
_STEPS = {
    False: ((ImportJob.Status.UPLOADED, ImportJob.Status.CHECKED, ImportJob.Status.FAILED, ImportJob.Status.CANCELLED),
            ImportJob.Status.CHECKING),
    True: ((ImportJob.Status.CHECKED,), ImportJob.Status.IMPORTING),
}


def import_job_start(*, job: ImportJob, commit: bool, skip_invalid: bool = False) -> ImportJob:
    """Hand the check (commit=False) or the import to the worker. Returns the job, refreshed.

    ValueError when the job is not there to start (already running, imported,
    or — for the import — not checked, or with bad rows and not `skip_invalid`).
    One conditional UPDATE decides: of several requests at once, one starts
    the step and queues one task; the others get the ValueError.
    """
    sources, status = _STEPS[commit]
    fields = {"status": status, "progress": 0, "message": "", "claimed_at": None, "claim_token": "",  # nosec B105
              "finished_at": None, "updated_at": Now()}
    ready = ImportJob.objects.filter(pk=job.pk, status__in=sources)
    if commit:
        fields["skip_invalid"] = skip_invalid
        if not skip_invalid:
            ready = ready.filter(errors=[])
    if ready.update(**fields) != 1:
        job.refresh_from_db()
        if job.is_running:
            raise ValueError("This job is already running.")
        if commit and job.status == ImportJob.Status.CHECKED and job.errors:
            raise ValueError("Some rows have errors: choose “Import the good rows”, or fix the file.")
        if job.status == ImportJob.Status.IMPORTED:
            raise ValueError("This job is already imported.")
        raise ValueError("Only a checked job can be imported.")
    _enqueue_on_commit(job.pk, commit)
    job.refresh_from_db()
    return job


def _enqueue_on_commit(job_id: int, commit: bool) -> None:
    from .tasks import run_import_job

    def enqueue():
        try:
            run_import_job.delay(job_id, commit)
        except Exception:  # the broker is down: say so on the page instead of spinning forever
            logger.exception("Could not queue import job %s", job_id)
            ImportJob.objects.filter(pk=job_id, status__in=ImportJob.RUNNING, claimed_at__isnull=True).update(
                status=ImportJob.Status.FAILED, finished_at=Now(),
                message="The job could not be queued (the task broker is unreachable). Try again later.",
            )

    transaction.on_commit(enqueue)


def job_is_stalled(job: ImportJob, now: dt.datetime | None = None) -> bool:
    """Running, and no sign of life (claim, renewal, or queuing) for a whole lease: its worker died or none took it."""
    if not job.is_running:
        return False
    now = now or timezone.now()
    last = max(t for t in (job.claimed_at, job.updated_at) if t is not None)
    return (now - last).total_seconds() > lease_seconds()


def _stalled(queryset):
    stale = _stale_before()
    return queryset.filter(status__in=ImportJob.RUNNING, updated_at__lt=stale).filter(
        Q(claimed_at__isnull=True) | Q(claimed_at__lt=stale)
    )


def import_job_resume(*, job: ImportJob) -> bool:
    """Queue a stalled job again (the page's Resume). False when it is not stalled (still alive, or finished).

    The same conditional UPDATE as the beat scan: of a scan and clicks at
    once, one queues it; the task's own claim keeps the run single.
    """
    if _stalled(ImportJob.objects.filter(pk=job.pk)).update(updated_at=Now()) != 1:
        return False
    job.refresh_from_db()
    _enqueue_on_commit(job.pk, job.status == ImportJob.Status.IMPORTING)
    return True


def import_job_cancel(*, job: ImportJob) -> bool:
    """Stop a running job (the page's Cancel): it is marked cancelled and nothing is written.

    A run still going loses its token, so its "imported" mark (inside the
    import's transaction) finds nothing and everything rolls back. False when
    the job had already finished (an import that committed first stays imported).
    """
    cancelled = ImportJob.objects.filter(pk=job.pk, status__in=ImportJob.RUNNING).update(
        status=ImportJob.Status.CANCELLED, claim_token="", claimed_at=None, finished_at=Now(), updated_at=Now(),  # nosec B106
        message="Cancelled: nothing was imported.",
    )
    job.refresh_from_db()
    return cancelled == 1


def _claim(job_id: int, status: str) -> str | None:
    """Take the job for this run: it waits in `status`, and nobody holds it or their lease ran out.

    Returns the run's claim token (None when the job is not there to take).
    Both the lease's test and its start are the database's clock (`Now()` in
    the UPDATE), so a worker whose own clock runs fast cannot take a job
    another worker still holds.
    """
    token = uuid.uuid4().hex
    unclaimed_or_stale = Q(claimed_at__isnull=True) | Q(claimed_at__lt=_stale_before())
    taken = ImportJob.objects.filter(unclaimed_or_stale, pk=job_id, status=status).update(
        claimed_at=Now(), claim_token=token, progress=0
    )
    return token if taken == 1 else None


class _ProgressWriter:
    """Writes the job's progress and renews the run's lease from a thread and connection of its own, outside the import's transaction.

    The import calls it after every row; it wakes its thread every 100 rows
    and at the last row, and the thread also writes every third of the
    lease whatever the rows do, so even one row slower than the whole lease
    (a lock wait) keeps it. Each write is `progress = n, claimed_at = now()`
    where the run still holds its token. Whether the run still holds the job
    is decided at the end, on the import's own connection (the "imported"
    mark carries the token): this connection may not see a job written in a
    caller's open transaction. A hung run keeps its lease until the task's
    time limit kills the process.

    On PostgreSQL the page then sees the count grow while the import is still
    uncommitted. SQLite allows one writer at a time, so there the bar shows
    activity without a count until the pass ends (and the lease is not renewed:
    see UNRENEWED_LEASE_SECONDS).
    """

    # Reviewed (bandit): a model's table name; values are parameters.
    RENEW = f"UPDATE {ImportJob._meta.db_table} SET progress = %s, claimed_at = now() WHERE id = %s AND claim_token = %s AND status = %s"  # nosec B608

    def __init__(self, job_id: int, token: str, status: str, total: int):
        self.job_id, self.token, self.status, self.total = job_id, token, status, total
        self.renew_every = lease_seconds() / 3
        self.done, self.wake, self.stopping = 0, threading.Event(), False
        self.thread = None
        if connection.vendor == "postgresql":
            self.thread = threading.Thread(target=self._run, name=f"import-{job_id}-lease", daemon=True)
            self.thread.start()

    def __call__(self, done: int):
        self.done = done
        if done == self.total or done % 100 == 0:
            self.wake.set()

    def _run(self):
        conn = connections.create_connection("default")
        try:
            while True:
                self.wake.wait(self.renew_every)
                self.wake.clear()
                if self.stopping:
                    return
                self._write(conn)
        finally:
            conn.close()

    def _write(self, conn):
        try:
            with conn.cursor() as cursor:
                cursor.execute(self.RENEW, [self.done, self.job_id, self.token, self.status])
        except Exception:  # never let it break the import: the next write tries again, the token is checked at the end
            logger.warning("Could not write the progress of import job %s", self.job_id, exc_info=True)

    def close(self):
        if self.thread is not None:
            self.stopping = True
            self.wake.set()
            self.thread.join(10)


def import_job_run(*, job_id: int, commit: bool) -> ImportJob | None:
    """Run one pass of a job: the dry run (commit=False) or the import. Idempotent.

    Does nothing when the job is not waiting for this pass (already imported,
    or held by another worker whose lease is still running). Every outcome is
    written only while this run holds the job (its claim token), so a run that
    lost its lease to another changes nothing.
    """
    waiting = ImportJob.Status.IMPORTING if commit else ImportJob.Status.CHECKING
    token = _claim(job_id, waiting)
    if token is None:
        logger.info("Import job %s is not waiting for a %s pass; nothing to do.", job_id, "commit" if commit else "check")
        return None
    job = ImportJob.objects.select_related("created_by").get(pk=job_id)
    held = ImportJob.objects.filter(pk=job_id, claim_token=token, status=waiting)

    def mark_imported(result: ImportResult):
        # Inside the import's transaction: the job says "imported" exactly when the rows are there,
        # and only the run that holds the job may say so (otherwise everything rolls back).
        if not held.update(status=ImportJob.Status.IMPORTED, progress=job.total_rows, finished_at=Now(),
                           **_result_fields(result)):
            raise LeaseLost(f"import job {job_id}: lease lost before the commit")

    try:
        table = read_table(bytes(job.content), job.filename)
        progress = _ProgressWriter(job_id, token, waiting, len(table.rows))
        try:
            result = run_import(
                kind=job.kind, table=table, mapping=job.mapping, defaults=job.defaults, actor=job.created_by,
                commit=commit, skip_invalid=commit and job.skip_invalid, progress=progress,
                on_commit_success=mark_imported,
            )
        finally:
            progress.close()
    except LeaseLost:
        logger.warning("Import job %s: this run lost its lease to another; it wrote nothing.", job_id)
    except (ImportFileError, MappingError) as exc:
        held.update(status=ImportJob.Status.FAILED, message=str(exc), finished_at=Now())
    except Exception:
        logger.exception("Import job %s failed", job_id)
        held.update(
            status=ImportJob.Status.FAILED, finished_at=Now(),
            message=("The import stopped on an unexpected error; nothing was written. The team has been told."
                     if commit else "The check stopped on an unexpected error. The team has been told."),
        )
    else:
        if not result.committed:
            if commit:
                status, message = ImportJob.Status.FAILED, "Some rows have errors (the data changed since the check): nothing was imported."
            else:
                status, message = ImportJob.Status.CHECKED, ""
            held.update(status=status, message=message, progress=len(table.rows), finished_at=Now(), **_result_fields(result))
    return ImportJob.objects.get(pk=job_id)


def resume_import_jobs() -> list[int]:
    """Queue again every running job whose worker died: its lease ran out (or it was never claimed). Idempotent.

    A job is taken at most once per lease: the scan marks the jobs it queues
    (`updated_at = now()`) in one conditional UPDATE, so two scans at once
    queue a job once, and the next scan waits a lease before queuing it
    again. The queued task's own claim keeps the run single whatever else
    (a late redelivery by the broker) runs it. Returns the ids queued.
    """
    from .tasks import run_import_job

    waiting = _stalled(ImportJob.objects.all())
    resumed = []
    for job_id, status in waiting.values_list("pk", "status"):
        # Re-tested in the UPDATE: a concurrent scan (or a live claim) since the read wins.
        if waiting.filter(pk=job_id, status=status).update(updated_at=Now()) != 1:
            continue
        try:
            run_import_job.delay(job_id, status == ImportJob.Status.IMPORTING)
        except Exception:  # the broker is down: the next scan tries again after a lease
            logger.exception("Could not queue import job %s again", job_id)
            continue
        logger.info("Import job %s (%s) was abandoned by its worker; queued again.", job_id, status)
        resumed.append(job_id)
    return resumed


def _result_fields(result: ImportResult) -> dict:
    data = result.as_dict()
    return {"counts": data["counts"], "errors": data["errors"], "warnings": data["warnings"], "preview": data["preview"]}
