"""Celery tasks: thin wrappers around the import service (see imports/services.py for why reruns are harmless)."""

from celery import shared_task

from .services import import_job_run
from .services import resume_import_jobs as resume_abandoned_jobs


@shared_task(name="run_import_job", soft_time_limit=1800, time_limit=1860)
def run_import_job(job_id: int, commit: bool) -> None:
    """Check (commit=False) or import one job; a rerun of a finished job does nothing."""
    import_job_run(job_id=job_id, commit=commit)


@shared_task(name="resume_import_jobs", soft_time_limit=60, time_limit=90)
def resume_import_jobs() -> int:
    """Beat, every IMPORT_RESUME_INTERVAL_SECONDS: queue again the jobs whose worker died (lease run out)."""
    return len(resume_abandoned_jobs())
