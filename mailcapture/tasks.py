"""Celery task: a thin wrapper around the poll (mailcapture/poll.py says why a rerun is harmless)."""

from celery import shared_task

from .poll import poll_mailbox


@shared_task(name="poll_mail_capture", soft_time_limit=240, time_limit=300)
def poll_mail_capture() -> dict:
    """Beat, every MAIL_CAPTURE_POLL_SECONDS (60): read the capture mailbox once; off without MAIL_CAPTURE_URL."""
    report = poll_mailbox()
    return {"enabled": report.enabled, "fetched": report.fetched, "processed": report.processed,
            "removed": report.removed, "error": report.error}
