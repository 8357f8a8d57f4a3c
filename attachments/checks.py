"""What an uploaded file is, read from its bytes: type (libmagic), size and sha256, with the errors a user reads.

The name a file arrives with is kept for display and download only; whether
it may be attached is decided by its content (`ATTACHMENT_ALLOWED_TYPES`)
and its size (`ATTACHMENT_MAX_BYTES`). "report.pdf is a Windows executable,
not a PDF", "minutes.docx is 40 MB; the limit is 25 MB".
"""

import hashlib
import unicodedata
from dataclasses import dataclass
from pathlib import PurePosixPath, PureWindowsPath

import magic
from django.conf import settings
from django.core.exceptions import ValidationError

SNIFF_BYTES = 2 * 1024 * 1024  # enough for libmagic to see inside Office (zip) containers

# How users know some types a file may turn out to be (libmagic's MIME type -> words).
KNOWN_AS = {
    "application/x-dosexec": "a Windows executable",
    "application/x-msdownload": "a Windows executable",
    "application/vnd.microsoft.portable-executable": "a Windows executable",
    "application/x-executable": "a Linux executable",
    "application/x-pie-executable": "a Linux executable",
    "application/x-sharedlib": "a Linux program library",
    "application/x-mach-binary": "a macOS executable",
    "application/x-shellscript": "a shell script",
    "text/x-shellscript": "a shell script",
    "text/html": "a web page (HTML)",
    "image/svg+xml": "an SVG image",
    "application/zip": "a ZIP archive",
    "application/x-rar": "a RAR archive",
    "application/x-7z-compressed": "a 7-Zip archive",
    "application/gzip": "a gzip archive",
    "application/octet-stream": "binary data of no known type",
    "inode/x-empty": "empty",
    "application/x-empty": "empty",
}
# The type a name promises, for "…, not a PDF".
EXTENSIONS = {
    ".pdf": "application/pdf",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    ".odt": "application/vnd.oasis.opendocument.text",
    ".ods": "application/vnd.oasis.opendocument.spreadsheet",
    ".doc": "application/msword",
    ".xls": "application/vnd.ms-excel",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".txt": "text/plain",
    ".csv": "text/csv",
    ".eml": "message/rfc822",
}
# libmagic names some allowed types differently: the spelling kept is the allow-list's.
ALIASES = {
    "application/csv": "text/csv",
    "text/x-mail": "message/rfc822",
}


@dataclass(frozen=True)
class Inspected:
    filename: str
    content_type: str
    size: int
    sha256: str


def safe_filename(name: str) -> str:
    """The last path part of `name`, normalised, without control characters or quotes, at most 255 characters."""
    name = unicodedata.normalize("NFC", str(name or ""))
    name = PureWindowsPath(PurePosixPath(name).name).name
    name = "".join(c for c in name if unicodedata.category(c)[0] != "C" and c not in '"\\/')
    name = name.strip().strip(".") or "file"
    if len(name) > 255:
        stem, dot, ext = name.rpartition(".")
        name = (stem[: 254 - len(ext)] + dot + ext) if dot and len(ext) < 16 else name[:255]
    return name


def human_size(size: int) -> str:
    if size < 1024:
        return f"{size} bytes"
    if size < 1024 * 1024:
        return f"{size / 1024:.0f} KB"
    mb = size / (1024 * 1024)
    return f"{mb:.0f} MB" if mb >= 10 else f"{mb:.1f} MB".replace(".0 MB", " MB")


def _label(content_type: str) -> str:
    allowed = settings.ATTACHMENT_ALLOWED_TYPES
    if content_type in allowed:
        label = allowed[content_type]
        if not label.isupper():
            return label  # "plain text"
        return f"an {label}" if label[0] in "AEFHILMNORSX" else f"a {label}"  # an XLSX, a PDF
    return KNOWN_AS.get(content_type, f"of type {content_type}")


def type_label(content_type: str) -> str:
    """The allow-list's short name of a stored type ("PDF"), for lists."""
    return settings.ATTACHMENT_ALLOWED_TYPES.get(content_type, content_type)


def detect(head: bytes) -> str:
    detected = magic.from_buffer(head, mime=True) if head else "inode/x-empty"
    return ALIASES.get(detected, detected)


def inspect(upload) -> Inspected:
    """Read `upload` (a Django UploadedFile or File) once: its type, size and hash; ValidationError when refused.

    The file is left at position 0 for the storage to read.
    """
    filename = safe_filename(getattr(upload, "name", "") or "file")
    limit = settings.ATTACHMENT_MAX_BYTES
    size = upload.size
    if size is not None and size > limit:
        raise ValidationError(
            f"{filename} is {human_size(size)}; the limit is {human_size(limit)}.", code="too_large"
        )
    upload.seek(0)
    digest = hashlib.sha256()
    head = b""
    total = 0
    for chunk in upload.chunks() if hasattr(upload, "chunks") else iter(lambda: upload.read(65536), b""):
        if len(head) < SNIFF_BYTES:
            head += chunk[: SNIFF_BYTES - len(head)]
        digest.update(chunk)
        total += len(chunk)
        if total > limit:
            raise ValidationError(
                f"{filename} is more than {human_size(limit)}; the limit is {human_size(limit)}.", code="too_large"
            )
    upload.seek(0)
    if total == 0:
        raise ValidationError(f"{filename} is empty.", code="empty")
    content_type = detect(head)
    if content_type not in settings.ATTACHMENT_ALLOWED_TYPES:
        promised = EXTENSIONS.get(PurePosixPath(filename.lower()).suffix)
        allowed = ", ".join(dict.fromkeys(settings.ATTACHMENT_ALLOWED_TYPES.values()))
        if promised and promised in settings.ATTACHMENT_ALLOWED_TYPES:
            message = f"{filename} is {_label(content_type)}, not {_label(promised)}."
        else:
            message = f"{filename} is {_label(content_type)}, which may not be attached (allowed: {allowed})."
        raise ValidationError(message, code="type")
    return Inspected(filename=filename, content_type=content_type, size=total, sha256=digest.hexdigest())
