"""Writes: attach, replace, delete. Each in one transaction; history (django-simple-history) keeps every version.

The bytes are written to the "attachments" storage before the row; if the
row cannot be written, the bytes just written are removed again. Replaced
and deleted files stay in the storage: their history rows name them.
"""

import uuid
from collections.abc import Sequence

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.storage import storages
from django.db import transaction
from django.utils import timezone

from accounts.access import may_attach, may_delete_attachment, may_replace_attachment
from diplomacy_crm.deletion import delete_record

from .checks import Inspected, inspect
from .models import KINDS, Attachment
from .textindex import schedule_extraction


def storage():
    return storages["attachments"]


def _store(upload, inspected: Inspected) -> str:
    now = timezone.now()
    return storage().save(f"{now:%Y/%m}/{uuid.uuid4().hex}", upload)


def _kind_of(record) -> str:
    label = record._meta.label
    for kind, (model_label, _) in KINDS.items():
        if model_label == label:
            return kind
    raise ValueError(f"{label} records take no attachments")


def attach_files(*, record, uploads: Sequence, actor) -> list[Attachment]:
    """Attach every file of `uploads` to `record`, or none: a refused file refuses the upload (ValidationError
    with one message per refused file). The caller has checked that `actor` may read `record`."""
    kind = _kind_of(record)
    if not may_attach(actor, KINDS[kind][0]):
        raise PermissionDenied("You may not attach files to this record.")
    if not uploads:
        raise ValidationError({"files": "Choose at least one file."})
    errors, checked = [], []
    for upload in uploads:
        try:
            checked.append((upload, inspect(upload)))
        except ValidationError as exc:
            errors.extend(exc.messages)
    if errors:
        raise ValidationError({"files": errors})
    stored: list[str] = []
    try:
        with transaction.atomic():
            created = []
            for upload, inspected in checked:
                blob = _store(upload, inspected)
                stored.append(blob)
                attachment = Attachment(
                    **{KINDS[kind][1]: record},
                    blob=blob,
                    filename=inspected.filename,
                    content_type=inspected.content_type,
                    size=inspected.size,
                    sha256=inspected.sha256,
                    uploaded_by=actor,
                )
                attachment._history_user = actor
                attachment.save()
                created.append(attachment)
            schedule_extraction(created)  # text for search, read by a worker after the commit
            return created
    except Exception:
        for blob in stored:
            storage().delete(blob)
        raise


def replace_file(*, attachment: Attachment, upload, actor) -> Attachment:
    """Put a new file in place of `attachment`'s; the old one stays in history (and in the storage)."""
    if not may_replace_attachment(actor):
        raise PermissionDenied("Only officers replace attachments.")
    try:
        inspected = inspect(upload)
    except ValidationError as exc:
        raise ValidationError({"file": exc.messages}) from None
    blob = _store(upload, inspected)
    try:
        with transaction.atomic():
            locked = Attachment.objects.select_for_update().filter(pk=attachment.pk).first()
            if locked is None:
                raise ValidationError("This attachment was deleted in the meantime.")
            locked.blob = blob
            locked.filename = inspected.filename
            locked.content_type = inspected.content_type
            locked.size = inspected.size
            locked.sha256 = inspected.sha256
            locked.uploaded_by = actor
            locked.uploaded_at = timezone.now()
            locked._history_user = actor
            locked._change_reason = "replaced"
            locked.save()
            schedule_extraction([locked], reset=True)  # old text out of search; the new file read after commit
            return locked
    except Exception:
        storage().delete(blob)
        raise


def delete_attachment(*, attachment: Attachment, actor) -> None:
    """Delete `attachment` (officers); its "-" history row keeps what it was, its bytes stay in the storage."""
    if not may_delete_attachment(actor):
        raise PermissionDenied("Only officers delete attachments.")
    delete_record(attachment, actor=actor)
