"""The searchable text of attachments: queued after each upload or replace, read by a Celery task, swept by beat.

`extract_attachment` is idempotent and safe to run twice or on two workers:
- it claims the attachment first (a short transaction that counts the run
  and stamps `text_started_at`), and does nothing for a file whose text is
  no longer pending, or whose run started less than a lease ago (another
  worker is on it);
- it writes the text only if the file is still the one it read (same
  `blob`): a replace in the meantime reset the text to pending and queued a
  run of its own;
- a file that stopped its worker MAX_ATTEMPTS times (killed, out of memory)
  is marked failed instead of being tried forever.

A failed or timed-out read leaves `text_status` "failed" with the reason in
`text_note`; the upload itself is never affected (the task runs after the
commit, and a broker that cannot be reached only delays the text: the beat
sweep `queue_pending_texts` queues what is still pending).
"""

import datetime as dt
import functools
import logging
import os
import tempfile

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.core.files.storage import storages
from django.db import DatabaseError, transaction
from django.db.models import Q
from django.utils import timezone

from . import extract
from .checks import type_label
from .models import Attachment

log = logging.getLogger(__name__)
Status = Attachment.TextStatus

MAX_ATTEMPTS = 3
SWEEP_BATCH = 500
SWEEP_GRACE = dt.timedelta(seconds=60)  # a fresh upload is queued on commit; the sweep is for the ones that were not


def lease() -> dt.timedelta:
    """How long a started run may still be under way (its task's hard time limit)."""
    return dt.timedelta(seconds=settings.ATTACHMENT_EXTRACT_TIMEOUT_SECONDS + 60)


def schedule_extraction(attachments, *, reset: bool = False) -> None:
    """Inside the upload's (or replace's) transaction: queue the files' text extraction once it commits.

    `reset` (a replace): the old file's text is dropped now, so search never
    shows it for the new file.
    """
    ids = [a.pk for a in attachments]
    if reset:
        fields = {"text": "", "text_status": Status.PENDING, "text_note": "", "text_attempts": 0, "text_started_at": None}
        Attachment.objects.filter(pk__in=ids).update(**fields)
        for attachment in attachments:
            for name, value in fields.items():
                setattr(attachment, name, value)
    transaction.on_commit(functools.partial(_enqueue, ids))


def _enqueue(ids) -> None:
    from .tasks import extract_attachment_text

    for pk in ids:
        try:
            extract_attachment_text.delay(pk)
        except Exception:  # the broker is down: the upload stands, the beat sweep queues the text later
            log.warning("could not queue text extraction of attachment %s; the sweep will", pk, exc_info=True)


def _claim(attachment_id: int, *, force: bool) -> Attachment | None:
    now = timezone.now()
    with transaction.atomic():
        attachment = (
            Attachment.objects.select_for_update()
            .filter(pk=attachment_id)
            .only("id", "blob", "filename", "content_type", "size", "text_status", "text_attempts", "text_started_at")
            .first()
        )
        if attachment is None:
            return None
        if not force:
            if attachment.text_status != Status.PENDING:
                return None
            if attachment.text_started_at and now - attachment.text_started_at < lease():
                return None  # a run started a moment ago is still under way
            if attachment.text_attempts >= MAX_ATTEMPTS:
                note = f"Reading the text stopped {attachment.text_attempts} times before finishing; the file was not read."
                Attachment.objects.filter(pk=attachment.pk).update(text_status=Status.FAILED, text_note=note)
                return None
        attachment.text_attempts += 1
        attachment.text_started_at = now
        Attachment.objects.filter(pk=attachment.pk).update(text_attempts=attachment.text_attempts, text_started_at=now)
        return attachment


def _read(attachment: Attachment, limits: extract.Limits) -> extract.Extracted:
    """Copy the file out of the storage (it may be S3) to a temporary file, and read its text."""
    with tempfile.TemporaryDirectory(prefix="crm-attachment-") as tmp:
        path = os.path.join(tmp, "file")
        try:
            with storages["attachments"].open(attachment.blob, "rb") as source, open(path, "wb") as target:
                copied = 0
                while chunk := source.read(1024 * 1024):
                    copied += len(chunk)
                    if copied > max(attachment.size, settings.ATTACHMENT_MAX_BYTES):
                        raise extract.ExtractionFailed("The stored file is larger than its upload was.")
                    target.write(chunk)
        except FileNotFoundError:
            raise extract.ExtractionFailed("The file is missing from the storage.") from None
        return extract.extract(path, attachment.content_type, limits)


def _outcome(attachment: Attachment, limits: extract.Limits) -> tuple[str, str, str]:
    """(status, text, note) of reading `attachment`'s file; never raises for a bad file."""
    if attachment.content_type not in extract.READERS:
        return Status.UNSUPPORTED, "", f"The text of {type_label(attachment.content_type)} files is not read for search."
    try:
        result = _read(attachment, limits)
    except extract.ExtractionFailed as exc:
        return Status.FAILED, "", str(exc)
    except SoftTimeLimitExceeded:
        return Status.FAILED, "", f"Reading the text took longer than {limits.timeout:g} s."
    except Exception as exc:  # a reader's bug must not leave the file pending forever
        log.exception("reading the text of attachment %s failed", attachment.pk)
        return Status.FAILED, "", f"The file's text could not be read ({type(exc).__name__})."
    note = ""
    if result.truncated:
        note = f"Only the first {len(result.text):,} characters of the text are searchable."
    elif not result.text:
        note = "The file holds no text (a scanned document has only images of text)."
    return Status.DONE, result.text, note


def _store(attachment: Attachment, status: str, text: str, note: str) -> bool:
    """Write the outcome if the file is still the one read. PostgreSQL's tsvector holds at most 1 MB: a text
    whose index would not fit is halved until it does (and says so)."""
    while True:
        try:
            with transaction.atomic():
                return bool(
                    Attachment.objects.filter(pk=attachment.pk, blob=attachment.blob).update(
                        text=text, text_status=status, text_note=note[:300]
                    )
                )
        except DatabaseError as exc:
            if "tsvector" not in str(exc) or len(text) < 1000:
                raise
            text = text[: len(text) // 2]
            note = f"Only the first {len(text):,} characters of the text are searchable (the search index holds no more)."


def extract_attachment(attachment_id: int, *, force: bool = False) -> str | None:
    """Read and store the text of attachment `attachment_id`; its new text status, or None when there was
    nothing to do (gone, already read, or being read). `force` reads it again whatever its status."""
    attachment = _claim(attachment_id, force=force)
    if attachment is None:
        return None
    limits = extract.Limits.current()
    status, text, note = _outcome(attachment, limits)
    if not _store(attachment, status, text, note):
        return None  # replaced or deleted meanwhile
    log.info("attachment %s text: %s (%s characters) %s", attachment.pk, status, len(text), note)
    return status


def pending_for_sweep(now: dt.datetime | None = None):
    """Pending attachments no run is on: never started (and older than a fresh upload's queueing), or started
    more than a lease ago (their worker died)."""
    now = now or timezone.now()
    return Attachment.objects.filter(text_status=Status.PENDING).filter(
        Q(text_started_at__isnull=True, uploaded_at__lt=now - SWEEP_GRACE) | Q(text_started_at__lt=now - lease())
    )


def queue_pending_texts(now: dt.datetime | None = None) -> list[int]:
    """Beat: queue the text extraction of pending attachments no run is on (at most SWEEP_BATCH a sweep)."""
    from .tasks import extract_attachment_text

    ids = list(pending_for_sweep(now).order_by("pk").values_list("pk", flat=True)[:SWEEP_BATCH])
    queued = []
    for pk in ids:
        try:
            extract_attachment_text.delay(pk)
        except Exception:
            log.warning("could not queue text extraction of attachment %s", pk, exc_info=True)
            break
        queued.append(pk)
    return queued
