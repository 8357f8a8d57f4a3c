"""Attachments made through the upload service, their text read here and now (as the worker would)."""

from django.core.files.uploadedfile import SimpleUploadedFile

from attachments import services, textindex


def attach(record, filename: str, data: bytes, *, actor, extract: bool = True):
    """Attach `data` as `filename` to `record` (the upload service's checks apply); with `extract`, read its text
    at once, as the task queued on commit would. The attachment, fresh from the database."""
    (attachment,) = services.attach_files(record=record, uploads=[SimpleUploadedFile(filename, data)], actor=actor)
    if extract:
        textindex.extract_attachment(attachment.pk)
    attachment.refresh_from_db()
    return attachment
