"""The one way every layer writes a record: validate, save, set relations, attribute history."""

from collections.abc import Iterable, Mapping

from django.db import models
from simple_history.utils import get_m2m_field_name


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

    One call is one write, and leaves exactly one history row (S8): "+" when
    it created the record, "~" when it changed it, with the final field
    values, the final many-to-many snapshot, the actor (or the request's user)
    and the change reason (`instance._change_reason`) if any.
    """
    for name, value in (fields or {}).items():
        setattr(instance, name, value)
    instance.full_clean(exclude=list(exclude_from_validation) or None)
    if actor is not None and getattr(actor, "is_authenticated", False):
        instance._history_user = actor
    created = instance._state.adding
    if not hasattr(instance._meta, "simple_history_manager_attribute"):
        _save_and_set(instance, m2m)
        return instance
    # django-simple-history writes a row on save and another on every .set()
    # that changes something (m2m_changed), each before the write is finished.
    # Silence it for the whole write and record the finished write once.
    instance.skip_history_when_saving = True
    try:
        _save_and_set(instance, m2m)
    finally:
        del instance.skip_history_when_saving
    record_history(instance, created=created)
    return instance


def _save_and_set(instance: models.Model, m2m: Mapping[str, Iterable] | None) -> None:
    instance.save()
    for name, values in (m2m or {}).items():
        if values is not None:
            getattr(instance, name).set(values)


def record_history(instance: models.Model, *, created: bool) -> None:
    """One history row for `instance` as it is now, with the snapshot of its tracked relations.

    bulk_history_create() is simple-history's own way to write a row by hand:
    it honours SIMPLE_HISTORY_ENABLED, `_history_user` (falling back to the
    request's user from HistoryRequestMiddleware), `_change_reason` and
    `_history_date`. It does not snapshot many-to-many relations, so this
    does, as simple-history's create_historical_record_m2ms() would.
    """
    manager = getattr(type(instance), instance._meta.simple_history_manager_attribute)
    rows = manager.bulk_history_create([instance], update=not created)
    if not rows:  # history disabled (SIMPLE_HISTORY_ENABLED = False)
        return
    history_row = rows[0]
    for field in manager.model._history_m2m_fields:
        m2m_history_model = getattr(manager.model, field.name).model
        through = field.remote_field.through
        columns = [f.attname for f in through._meta.fields]  # ids only: no query per related row
        links = through.objects.filter(**{get_m2m_field_name(field): instance}).values(*columns)
        m2m_history_model.objects.bulk_create([m2m_history_model(history=history_row, **link) for link in links])
