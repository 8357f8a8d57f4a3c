"""Celery tasks: thin wrappers around attachments/textindex.py (idempotent: see there why reruns are harmless)."""

from celery import shared_task
from django.conf import settings

from . import textindex

# The reader stops itself at ATTACHMENT_EXTRACT_TIMEOUT_SECONDS (pdftotext is killed, the Python readers check a
# deadline); Celery's limits are the backstop, and the hard one is the claim's lease (textindex.lease()).
_TIMEOUT = settings.ATTACHMENT_EXTRACT_TIMEOUT_SECONDS


@shared_task(name="extract_attachment_text", soft_time_limit=_TIMEOUT + 30, time_limit=_TIMEOUT + 60)
def extract_attachment_text(attachment_id: int) -> str | None:
    """Read one attachment's text for search (queued on commit after an upload or a replace)."""
    return textindex.extract_attachment(attachment_id)


@shared_task(name="queue_pending_attachment_texts", soft_time_limit=60, time_limit=90)
def queue_pending_attachment_texts() -> int:
    """Beat, every ATTACHMENT_EXTRACT_SWEEP_SECONDS: queue the attachments whose text is still pending
    (files from before the feature, a broker that was down at upload, a worker that died)."""
    return len(textindex.queue_pending_texts())
