"""The one way every layer writes a record: validate, save, set relations, attribute history."""

from collections.abc import Iterable, Mapping

from django.db import models


def save_record(
    instance: models.Model,
    *,
    actor=None,
    fields: Mapping | None = None,
    m2m: Mapping[str, Iterable] | None = None,
    exclude_from_validation: Iterable[str] = (),
) -> models.Model:
    """Apply `fields`, run full_clean(), save, then set many-to-many relations.

    Raises django.core.exceptions.ValidationError (a field dict) on a broken
    rule, before anything is written. Call inside transaction.atomic().
    The actor is recorded in the history row (django-simple-history).
    """
    for name, value in (fields or {}).items():
        setattr(instance, name, value)
    instance.full_clean(exclude=list(exclude_from_validation) or None)
    if actor is not None and getattr(actor, "is_authenticated", False):
        instance._history_user = actor
    instance.save()
    for name, values in (m2m or {}).items():
        if values is not None:
            getattr(instance, name).set(values)
    return instance
