"""The one way a stored file leaves the CRM: `file_response`, used by the download page and the API alike
(and `bytes_response`, the same headers for a file held in memory: a captured message's part in mail triage).

The caller has checked access (attachments.selectors.access_attachment); this
only streams the bytes, as an attachment and never inline, under the type
detected at upload (libmagic), with nosniff, no caching and a sandboxing CSP,
so that a file that slipped through as one type is never run as another.
"""

import unicodedata
from urllib.parse import quote

from django.http import FileResponse, Http404, HttpResponse

from .checks import safe_filename
from .models import Attachment


def content_disposition(filename: str) -> str:
    """`attachment` with the file's name per RFC 6266: a plain quoted `filename` for ASCII names; for others an
    ASCII stand-in as `filename` (old clients) and the real name as `filename*=UTF-8''…` (RFC 8187)."""
    name = safe_filename(filename)  # no path, quotes, backslashes or control characters (again: old rows too)
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    ascii_name = "".join(c if 0x20 <= ord(c) < 0x7F else "_" for c in ascii_name).strip() or "file"
    if ascii_name == name:
        return f'attachment; filename="{name}"'
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name, safe='')}"


def file_response(attachment: Attachment, storage) -> FileResponse:
    """The attachment's bytes from `storage`, streamed; Http404 when the storage has lost them."""
    try:
        handle = storage.open(attachment.blob, "rb")
    except OSError:  # FileNotFoundError, or a store that cannot be reached
        raise Http404("This file is missing from the storage.") from None
    response = FileResponse(handle, content_type=attachment.content_type)
    # FileResponse counts the bytes it will send (Content-Length) when the file can seek: both storages' files can.
    return _safe(response, attachment.filename)


def bytes_response(content: bytes, *, filename: str, content_type: str) -> HttpResponse:
    """`content` under the same headers; `content_type` is the one detected from the bytes (checks.inspect)."""
    return _safe(HttpResponse(content, content_type=content_type), filename)


def _safe(response, filename: str):
    response["Content-Disposition"] = content_disposition(filename)
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response
