"""One error format for the API: DRF's, extended to the errors our services raise.

- django ValidationError (services, model full_clean) -> 400 with field keys;
  Django's "__all__" becomes DRF's "non_field_errors".
- a delete refused because other records point here (diplomacy_crm.deletion's
  RecordInUse, or a PROTECT foreign key) -> 409, with the kinds of records in
  the way and how many of each the user may see ("other records" for the rest).
- a write that lost a race on a database constraint (a record it links was
  deleted a moment before, say) -> 409; the service's transaction has rolled
  it back, so nothing was written.
- a body over DATA_UPLOAD_MAX_MEMORY_SIZE read by Django itself -> 413.
- an update based on a version the record has left (If-Match, EditConflict) -> 412.
- a throttled request always says when to come back (`Retry-After`): DRF's
  throttles give no wait when a client's history holds more requests than
  the rate allows (the rate was lowered, or two processes raced), and DRF
  then sends a 429 without the header; the wait is then the throttle's
  whole window, after which every counted request has expired.
"""

import logging

from django.core.exceptions import NON_FIELD_ERRORS, RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError
from django.db.models import ProtectedError, RestrictedError
from rest_framework import status
from rest_framework.exceptions import Throttled, ValidationError
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import exception_handler as drf_exception_handler

from diplomacy_crm.deletion import RecordInUse

IN_USE = "Other records still refer to this one; remove or reassign them first, or archive it."
RACE = "A record this change names was changed or deleted at the same moment; nothing was written. Try again."
logger = logging.getLogger(__name__)

from diplomacy_crm.services import EditConflict

from .preconditions import PreconditionFailed


def _field_errors(exc: DjangoValidationError) -> dict:
    if not hasattr(exc, "error_dict"):
        return {api_settings.NON_FIELD_ERRORS_KEY: exc.messages}
    return {
        (api_settings.NON_FIELD_ERRORS_KEY if field == NON_FIELD_ERRORS else field): messages
        for field, messages in exc.message_dict.items()
    }


def exception_handler(exc, context):
    """DRF's handler, after translating Django's own exceptions."""
    if isinstance(exc, DjangoValidationError):
        exc = ValidationError(detail=_field_errors(exc))
    elif isinstance(exc, RecordInUse):
        return Response(
            {
                "detail": IN_USE,
                "blocking": [ref.kind for ref in exc.references],
                "references": [ref.as_dict() for ref in exc.references],
            },
            status=status.HTTP_409_CONFLICT,
        )
    elif isinstance(exc, (ProtectedError, RestrictedError)):
        objs = getattr(exc, "protected_objects", None) or getattr(exc, "restricted_objects", ())
        blocking = sorted({str(obj._meta.verbose_name_plural) for obj in list(objs)[:100]})
        return Response(
            {"detail": IN_USE, "blocking": blocking},
            status=status.HTTP_409_CONFLICT,
        )
    elif isinstance(exc, IntegrityError):
        # Validation ran first (model full_clean, services), so this is a concurrent change, not bad input.
        logger.warning("write refused by a database constraint: %s", exc)
        return Response({"detail": RACE}, status=status.HTTP_409_CONFLICT)
    elif isinstance(exc, EditConflict):
        exc = PreconditionFailed()
    elif isinstance(exc, Throttled) and exc.wait is None:
        view = context.get("view")
        windows = [getattr(t, "duration", None) for t in (view.get_throttles() if view is not None else [])]
        exc = Throttled(wait=max((w for w in windows if w), default=60))
    elif isinstance(exc, RequestDataTooBig):
        return Response({"detail": str(exc)}, status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE)
    return drf_exception_handler(exc, context)
