"""The one way every layer writes a record: validate, save, set relations, attribute history."""

import uuid
from collections.abc import Callable, Iterable, Mapping
from typing import TypedDict

from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.db import IntegrityError, models, transaction
from simple_history.utils import get_m2m_field_name

from .signals import record_saved


class EditConflict(Exception):
    """The record was changed by someone else since the version an edit was based on; nothing was written.

    Pages answer it with the conflict page (who changed what since, the
    user's input kept), the API with 412 Precondition Failed.
    """

    def __init__(self, instance: models.Model, *, expected: int, current: int):
        super().__init__(f"{instance._meta.verbose_name} #{instance.pk} is at version {current}, not {expected}.")
        self.instance = instance
        self.expected = expected
        self.current = current


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

    Changing an existing record (versions, see diplomacy_crm.models.VersionedModel):
    - the row is locked first (SELECT … FOR UPDATE), so concurrent writes of
      one record run one after the other; we chose the lock over a
      conditional `UPDATE … WHERE version = n` because the write must also
      validate, and the history row must show, the state it builds on;
    - `fields["version"]`, when given, is the version the edit was based on
      (the form's hidden field, the API's If-Match). If the row has moved on,
      EditConflict is raised and nothing is written;
    - with `fields` given, only the fields it names are written
      (`save(update_fields=…)`, plus version and updated_at); every other
      field is taken from the locked row, so a concurrent change of another
      field survives, and validation and history see the resulting state.
      Many-to-many relations are set only when named in `m2m`.
      Without `fields` (a restore), the instance is written whole.

    One call is one write, and leaves exactly one history row (S8): "+" when
    it created the record, "~" when it changed it, with the final field
    values, the final many-to-many snapshot, the actor (or the request's user)
    and the change reason (`instance._change_reason`) if any.
    """
    named = dict(fields) if fields is not None else None
    expected = named.pop("version", None) if named is not None else None
    created = instance._state.adding
    update_fields = None
    if not created and hasattr(instance, "version"):
        update_fields = _lock_and_refresh(instance, expected=expected, named=named)
    elif instance.pk is not None and hasattr(instance, "version"):
        _continue_versions(instance)  # a deleted record re-created (restored)
    for name, value in (named or {}).items():
        setattr(instance, name, value)
    instance.full_clean(exclude=list(exclude_from_validation) or None)
    if actor is not None and getattr(actor, "is_authenticated", False):
        instance._history_user = actor
    if not hasattr(instance._meta, "simple_history_manager_attribute"):
        _save_and_set(instance, m2m, update_fields)
        record_saved.send(sender=type(instance), instance=instance, created=created, actor=actor)
        return instance
    # django-simple-history writes a row on save and another on every .set()
    # that changes something (m2m_changed), each before the write is finished.
    # Silence it for the whole write and record the finished write once.
    instance.skip_history_when_saving = True
    try:
        _save_and_set(instance, m2m, update_fields)
    finally:
        del instance.skip_history_when_saving
    record_history(instance, created=created)
    record_saved.send(sender=type(instance), instance=instance, created=created, actor=actor)
    return instance


def _lock_and_refresh(instance: models.Model, *, expected, named: dict | None) -> set | None:
    """Lock the record's row, compare versions, load the fields not named; the fields to write (None: all)."""
    model = type(instance)
    columns = [f for f in model._meta.concrete_fields if not f.primary_key]
    row = (
        model._base_manager.select_for_update(of=("self",))
        .filter(pk=instance.pk)
        .values(*(f.attname for f in columns))
        .first()
    )
    if row is None:
        raise ValidationError(f"This {model._meta.verbose_name} was deleted in the meantime.")
    if expected is not None and int(expected) != row["version"]:
        raise EditConflict(instance, expected=int(expected), current=row["version"])
    if named is None:
        return None
    written = set()
    for name in named:
        try:
            field = model._meta.get_field(name)
        except FieldDoesNotExist:
            continue
        if field.concrete and not field.many_to_many:
            written.add(field.name)
    for field in columns:
        if field.name not in written:
            setattr(instance, field.attname, row[field.attname])
    return written


def _continue_versions(instance: models.Model) -> None:
    """A record re-created under its old id continues after its last recorded version, so no old ETag matches it."""
    attribute = getattr(instance._meta, "simple_history_manager_attribute", None)
    if attribute is None:
        return
    history = getattr(type(instance), attribute).filter(**{instance._meta.pk.attname: instance.pk})
    last = history.aggregate(last=models.Max("version"))["last"]
    if last is not None:
        instance.version = last + 1


def _save_and_set(instance: models.Model, m2m: Mapping[str, Iterable] | None, update_fields: set | None = None) -> None:
    instance.save(update_fields=update_fields)
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


class AlreadySubmitted(Exception):
    """This create form was posted before; `url` is the record that post created."""

    def __init__(self, url: str):
        super().__init__(url)
        self.url = url


def submitted_url(token, user) -> str | None:
    """Where the record created with `token` lives, if `user` already used that token."""
    try:
        token = uuid.UUID(str(token))
    except ValueError:
        return None
    from .models import SubmitToken

    return SubmitToken.objects.filter(token=token, user=user).values_list("url", flat=True).first()


@transaction.atomic
def create_once(
    *, token, user, create: Callable[[], models.Model], url: Callable[[models.Model], str] | None = None
) -> models.Model:
    """Run `create()` (a service call) unless this form's one-time token was used already.

    The token is claimed (a row with it as primary key) in the same
    transaction as the creation: a second, concurrent POST waits on the
    first's claim and, once that commits, raises AlreadySubmitted with the
    first record's URL; if the first one failed and rolled back, the second
    one creates. Without a token (a client that sends none, or not a UUID), it just creates.
    `url(record)` is where a second POST is sent (default: get_absolute_url()).
    """
    try:
        token = uuid.UUID(str(token)) if token else None
    except ValueError:
        token = None
    if token is None:
        return create()
    from .models import SubmitToken

    try:
        with transaction.atomic():
            claim = SubmitToken.objects.create(token=token, user=user)
    except IntegrityError:
        url = submitted_url(token, user)
        if url is None:
            raise ValidationError("This form was already sent. Reload the page to start afresh.") from None
        raise AlreadySubmitted(url) from None
    record = create()
    claim.url = url(record) if url is not None else record.get_absolute_url()
    claim.save(update_fields=["url"])
    return record


def split_m2m(data: dict, m2m_names) -> tuple[dict, dict]:
    """A service's keyword arguments split for save_record: (plain fields, many-to-many links named in m2m_names)."""
    return (
        {k: v for k, v in data.items() if k not in m2m_names},
        {k: v for k, v in data.items() if k in m2m_names},
    )


class RecordFields(TypedDict, total=False):
    """Base of each service's typed keyword arguments (PEP 692: `**data: Unpack[PartnerFields]`).

    Every field is optional: a create leaves the model's defaults, an update
    writes only the fields it is given. `version` is the version an edit was
    based on (see save_record).
    """

    version: int


def record_arguments(data: Mapping, spec: type, m2m_names: Iterable[str] = ()) -> tuple[dict, dict]:
    """A service's keyword arguments checked against its TypedDict `spec`, split for save_record.

    A name the spec does not declare is a TypeError, as for a function's
    explicit keyword-only parameters: a typo never becomes a silent no-op.
    """
    unknown = sorted(set(data) - set(spec.__annotations__))
    if unknown:
        raise TypeError(f"unexpected keyword argument(s) for {spec.__name__}: {', '.join(unknown)}")
    return split_m2m(data, tuple(m2m_names))
