"""Celery task: a thin wrapper around the import service (see imports/services.py for why reruns are harmless)."""

from celery import shared_task

from .services import import_job_run


@shared_task(name="run_import_job", soft_time_limit=1800, time_limit=1860)
def run_import_job(job_id: int, commit: bool) -> None:
    """Check (commit=False) or import one job; a rerun of a finished job does nothing."""
    import_job_run(job_id=job_id, commit=commit)
