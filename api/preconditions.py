"""ETag and If-Match for the API's records (RFC 9110 §8.8.3, §13.1.1).

A record's entity tag is its version (diplomacy_crm.models.VersionedModel),
sent as a weak tag, `W/"7"`: the version names the record's stored state,
while a response also carries values computed for the reader (counts,
latest meeting), so byte-for-byte identity is not promised. `If-Match`
compares versions, weak or strong alike (a deliberate relaxation of the
RFC's strong comparison, for clients that echo the tag they were given):
`W/"7"`, `"7"` and `*` match version 7; a list matches if any member does.
"""

from rest_framework import status
from rest_framework.exceptions import APIException


class PreconditionFailed(APIException):
    status_code = status.HTTP_412_PRECONDITION_FAILED
    default_detail = "The record has changed since that version (If-Match). Fetch it again, then retry."
    default_code = "precondition_failed"


def etag(record) -> dict:
    """Response headers naming the record's version (none for a record without one)."""
    version = getattr(record, "version", None)
    return {"ETag": f'W/"{version}"'} if isinstance(version, int) else {}


def _versions(header: str) -> set:
    tags = set()
    for part in header.split(","):
        tag = part.strip()
        if tag.startswith("W/"):
            tag = tag[2:]
        tags.add(tag.strip('"'))
    return tags


def check_if_match(request, record) -> int | None:
    """The version an `If-Match` header vouches for (None without one); 412 when it names another."""
    header = request.headers.get("If-Match")
    version = getattr(record, "version", None)
    if header is None or version is None:
        return None
    tags = _versions(header)
    if "*" in tags:
        return None  # any current version will do
    if str(version) not in tags:
        raise PreconditionFailed()
    return version
