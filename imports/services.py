"""Import jobs: upload, map, check (dry run), import. Views, the Celery task and tests call these.

A job holds the uploaded file, the column mapping and what the last pass
found. Small files (ASYNC_ROWS rows or fewer) are checked and imported in the
request; larger ones by the `run_import_job` Celery task, which the page
follows through `progress`.

Nothing is ever half-written: the import of a job is one transaction, and
the job is marked imported inside that same transaction. A worker that dies
mid-import leaves no rows and a job still "importing"; its lease runs out and
a retry (or the user) runs it again. Two workers cannot run one job at once:
each first claims it with a conditional UPDATE.
"""

import datetime as dt
import logging

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

# Above this many rows a pass runs in the worker, with a progress bar.
ASYNC_ROWS = 2000
# How long a claimed job is left alone before another worker may take it over.
LEASE = dt.timedelta(minutes=30)


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
    """Keep a new mapping (MappingError when it does not fit the file); the last check no longer applies."""
    mapping = {k: v for k, v in mapping.items() if v}
    defaults = {k: v for k, v in defaults.items() if v not in (None, "")}
    check_mapping(job.kind, job.headers, mapping, defaults)
    job.mapping, job.defaults = mapping, defaults
    job.status = ImportJob.Status.UPLOADED
    job.counts, job.errors, job.preview, job.progress = {}, [], [], 0
    job.save(update_fields=["mapping", "defaults", "status", "counts", "errors", "preview", "progress", "updated_at"])
    return job


def import_job_start(*, job: ImportJob, commit: bool) -> ImportJob:
    """Check or import now (small file) or hand it to the worker (large file). Returns the job, refreshed."""
    if commit and (job.status != ImportJob.Status.CHECKED or job.errors):
        raise ValueError("Only a checked job without errors can be imported.")
    if job.is_running:
        raise ValueError("This job is already running.")
    status = ImportJob.Status.IMPORTING if commit else ImportJob.Status.CHECKING
    ImportJob.objects.filter(pk=job.pk).update(
        status=status, progress=0, message="", claimed_at=None, finished_at=None, updated_at=timezone.now()
    )
    if job.total_rows > ASYNC_ROWS:
        from .tasks import run_import_job

        def enqueue():
            try:
                run_import_job.delay(job.pk, commit)
            except Exception:  # the broker is down: say so on the page instead of spinning forever
                logger.exception("Could not queue import job %s", job.pk)
                ImportJob.objects.filter(pk=job.pk).update(
                    status=ImportJob.Status.FAILED, message="The job could not be queued (the task broker is unreachable). Try again later."
                )

        transaction.on_commit(enqueue)
    else:
        import_job_run(job_id=job.pk, commit=commit)
    job.refresh_from_db()
    return job


def _claim(job_id: int, status: str) -> bool:
    """Take the job for this run: it waits in `status`, and nobody holds it or their lease ran out.

    Both the lease's test and its start are the database's clock (`Now()` in
    the UPDATE), so a worker whose own clock runs fast cannot take a job
    another worker still holds.
    """
    lease_start = ExpressionWrapper(Now() - LEASE, output_field=DateTimeField())
    unclaimed_or_stale = Q(claimed_at__isnull=True) | Q(claimed_at__lt=lease_start)
    return ImportJob.objects.filter(unclaimed_or_stale, pk=job_id, status=status).update(claimed_at=Now(), progress=0) == 1


class _ProgressWriter:
    """Writes the job's progress on a connection of its own, outside the import's transaction.

    On PostgreSQL the page then sees the count grow while the import is still
    uncommitted. SQLite allows one writer at a time, so there the bar shows
    activity without a count until the pass ends.
    """

    def __init__(self, job_id: int):
        self.job_id = job_id
        self.conn = connections.create_connection("default") if connection.vendor == "postgresql" else None

    def __call__(self, done: int):
        if self.conn is None:
            return
        try:
            with self.conn.cursor() as cursor:
                # Reviewed (bandit): a model's table name; values are parameters.
                cursor.execute(f"UPDATE {ImportJob._meta.db_table} SET progress = %s WHERE id = %s", [done, self.job_id])  # nosec B608
        except Exception:  # progress is a nicety: never let it break the import
            logger.warning("Could not write the progress of import job %s", self.job_id, exc_info=True)

    def close(self):
        if self.conn is not None:
            self.conn.close()


def import_job_run(*, job_id: int, commit: bool) -> ImportJob | None:
    """Run one pass of a job: the dry run (commit=False) or the import. Idempotent.

    Does nothing when the job is not waiting for this pass (already imported,
    or held by another worker whose lease is still running).
    """
    waiting = ImportJob.Status.IMPORTING if commit else ImportJob.Status.CHECKING
    if not _claim(job_id, waiting):
        logger.info("Import job %s is not waiting for a %s pass; nothing to do.", job_id, "commit" if commit else "check")
        return None
    job = ImportJob.objects.select_related("created_by").get(pk=job_id)
    progress = _ProgressWriter(job_id)

    def mark_imported(result: ImportResult):
        # Inside the import's transaction: the job says "imported" exactly when the rows are there.
        ImportJob.objects.filter(pk=job_id).update(
            status=ImportJob.Status.IMPORTED, progress=job.total_rows, finished_at=timezone.now(),
            **_result_fields(result),
        )

    try:
        table = read_table(bytes(job.content), job.filename)
        result = run_import(
            kind=job.kind, table=table, mapping=job.mapping, defaults=job.defaults, actor=job.created_by,
            commit=commit, progress=progress, on_commit_success=mark_imported,
        )
    except (ImportFileError, MappingError) as exc:
        ImportJob.objects.filter(pk=job_id).update(status=ImportJob.Status.FAILED, message=str(exc), finished_at=timezone.now())
    except Exception:
        logger.exception("Import job %s failed", job_id)
        ImportJob.objects.filter(pk=job_id).update(
            status=ImportJob.Status.FAILED, finished_at=timezone.now(),
            message="The import stopped on an unexpected error; nothing was written. The team has been told.",
        )
    else:
        if not result.committed:
            if commit:
                status, message = ImportJob.Status.FAILED, "Some rows have errors (the data changed since the check): nothing was imported."
            else:
                status, message = ImportJob.Status.CHECKED, ""
            ImportJob.objects.filter(pk=job_id).update(
                status=status, message=message, progress=len(table.rows), finished_at=timezone.now(), **_result_fields(result)
            )
    finally:
        progress.close()
    return ImportJob.objects.get(pk=job_id)


def _result_fields(result: ImportResult) -> dict:
    data = result.as_dict()
    return {"counts": data["counts"], "errors": data["errors"], "warnings": data["warnings"], "preview": data["preview"]}
