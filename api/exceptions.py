"""One error format for the API: DRF's, extended to the errors our services raise.

- django ValidationError (services, model full_clean) -> 400 with field keys;
  Django's "__all__" becomes DRF's "non_field_errors".
- a delete refused because other records point here (PROTECT) -> 409, with the
  kinds of records in the way.
- a body over DATA_UPLOAD_MAX_MEMORY_SIZE read by Django itself -> 413.
- an update based on a version the record has left (If-Match, EditConflict) -> 412.
"""

from django.core.exceptions import NON_FIELD_ERRORS, RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import ProtectedError, RestrictedError
from rest_framework import status
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import exception_handler as drf_exception_handler

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
    elif isinstance(exc, (ProtectedError, RestrictedError)):
        objs = getattr(exc, "protected_objects", None) or getattr(exc, "restricted_objects", ())
        blocking = sorted({str(obj._meta.verbose_name_plural) for obj in list(objs)[:100]})
        return Response(
            {"detail": "Other records still refer to this one; remove or reassign them first.", "blocking": blocking},
            status=status.HTTP_409_CONFLICT,
        )
    elif isinstance(exc, EditConflict):
        exc = PreconditionFailed()
    elif isinstance(exc, RequestDataTooBig):
        return Response({"detail": str(exc)}, status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE)
    return drf_exception_handler(exc, context)
