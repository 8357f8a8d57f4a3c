"""Deletes never orphan: the one rule every way of deleting goes through.

A record that other records point to (a foreign key or a many-to-many link:
a partner named by engagements, a contact among a mission's delegates, a
topic on a partner, a mission an engagement belongs to …) is not deleted:
`delete_record()` raises `RecordInUse` with what still points to it, and
nothing is written. The API answers 409, the pages show what is in the way
and offer archiving, the back office refuses the single and bulk delete.

The references are read from the models themselves (`_meta.related_objects`),
so a relation added later is covered without touching this module. Counts
are limited to what the asking user may see; the rest is counted as "other
records", never named, so a refusal leaks nothing a list would not show.

A delete that goes through keeps a "-" history row with the record's fields
and its many-to-many links as they were, so the history page can restore it.
"""

from dataclasses import dataclass

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, models, transaction
from django.http import Http404
from django.db.models import ProtectedError, RestrictedError
from django.db.models.options import Options

from accounts.access import may_use_crm

from .signals import record_deleted

OTHER_RECORDS = "other records"
OTHER_RECORD = "other record"


@dataclass(frozen=True)
class Reference:
    kind: str  # "engagements", or OTHER_RECORDS for what the user may not see
    count: int
    singular: str = ""  # "engagement", for "1 engagement"

    def as_dict(self) -> dict:
        return {"kind": self.kind, "count": self.count}

    def __str__(self) -> str:
        return f"{self.count} {self.singular if self.count == 1 and self.singular else self.kind}"


class RecordInUse(Exception):
    """A delete refused because other records point to the record; `references` says which, as counts."""

    def __init__(self, record, references: list[Reference]):
        self.record = record
        self.references = references
        super().__init__(f"“{record}” is still referred to by " + ", ".join(str(r) for r in references) + ".")


def _is_history(model) -> bool:
    # simple-history's rows point at records too (without constraints); they are not references.
    return hasattr(model, "instance_type")


def _referring(record) -> list[tuple[Options, models.QuerySet]]:
    """(options of the model, queryset of its records pointing here) for every relation that points at the record."""
    found = []
    for rel in record._meta.related_objects:
        related = rel.related_model
        if _is_history(related):
            continue
        qs = related._default_manager.filter(**{rel.field.name: record})
        found.append((related._meta, qs))
    return found


def is_referable(model) -> bool:
    """Whether any other kind of record may point to records of `model` (then deletes must ask references_to)."""
    return any(not _is_history(rel.related_model) for rel in model._meta.related_objects)


def _visible(qs: models.QuerySet, user) -> models.QuerySet:
    """What `user` may see of `qs`: the model's own visible_to() rule, else everything to a user of the CRM."""
    if hasattr(qs, "visible_to"):
        return qs.visible_to(user)
    return qs if may_use_crm(user) else qs.none()


def references_to(record, *, user=None) -> list[Reference]:
    """What still points to `record`, as (kind, count), kinds merged, in model order.

    With `user`, only what that user may see is named; the rest is one
    "other records" count. Without, everything is named (internal use).
    """
    named: dict[str, Reference] = {}
    hidden = 0
    for opts, qs in _referring(record):
        total = qs.count()
        if not total:
            continue
        seen = total if user is None else _visible(qs, user).count()
        if seen:
            kind = str(opts.verbose_name_plural)
            earlier = named[kind].count if kind in named else 0
            named[kind] = Reference(kind, earlier + seen, str(opts.verbose_name))
        hidden += total - seen
    refs = list(named.values())
    if hidden:
        refs.append(Reference(OTHER_RECORDS, hidden, OTHER_RECORD))
    return refs


def may_delete(user, record) -> bool:
    """The model permission the roles carry: officers (and superusers) delete, nobody else (accounts/roles.py)."""
    opts = record._meta
    return bool(user is not None and user.has_perm(f"{opts.app_label}.delete_{opts.model_name}"))


@transaction.atomic
def delete_record(record, *, actor, reason: str | None = None) -> None:
    """Delete `record` unless something still points to it; keep a restorable history version.

    Raises PermissionDenied when `actor` may not delete this kind of record,
    Http404 when it is already gone, and RecordInUse (with the references `actor` may see) when other records
    point to it; in both cases nothing is written. The record's row is locked
    first, so a link added concurrently either lands before the check (and
    is seen) or waits for the delete (and then fails on its own).
    """
    if actor is not None and not may_delete(actor, record):
        raise PermissionDenied("Only officers delete records.")
    model = type(record)
    if not model._default_manager.select_for_update().filter(pk=record.pk).values_list("pk", flat=True):
        # Deleted meanwhile (two people pressing "Delete"): the second finds nothing, and writes nothing.
        raise Http404(f"This {model._meta.verbose_name} no longer exists.")
    refs = references_to(record, user=actor)
    if refs:
        raise RecordInUse(record, refs)
    links = _m2m_links(record)
    record._history_user = actor
    if reason:
        record._change_reason = reason
    pk = record.pk
    try:
        with transaction.atomic():
            record.delete()  # simple-history writes the "-" row (post_delete)
    except (IntegrityError, ProtectedError, RestrictedError):
        # Something pointed here after all (a relation outside the ORM's view): refuse the same way.
        raise RecordInUse(record, references_to(record, user=actor) or [Reference(OTHER_RECORDS, 1, OTHER_RECORD)]) from None
    record.pk = pk
    _attach_links_to_deletion_row(record, links)
    record_deleted.send(sender=model, instance=record, actor=actor)


def _m2m_links(record) -> list[tuple[type, list[dict]]]:
    """The tracked many-to-many links of `record` as through-table rows (ids), read before the delete removes them."""
    from simple_history.utils import get_m2m_field_name

    manager = getattr(type(record), getattr(record._meta, "simple_history_manager_attribute", ""), None)
    if manager is None:
        return []
    found = []
    for field in getattr(manager.model, "_history_m2m_fields", []):
        m2m_history_model = getattr(manager.model, field.name).model
        through = field.remote_field.through
        columns = [f.attname for f in through._meta.fields]
        found.append(
            (m2m_history_model, list(through.objects.filter(**{get_m2m_field_name(field): record}).values(*columns)))
        )
    return found


def _attach_links_to_deletion_row(record, links) -> None:
    """simple-history's "-" row is written after the links are gone; give it the links the record had."""
    if not links:
        return
    manager = getattr(type(record), record._meta.simple_history_manager_attribute)
    row = manager.filter(id=record.pk, history_type="-").order_by("-history_date", "-history_id").first()
    if row is None:  # history disabled
        return
    for m2m_history_model, rows in links:
        m2m_history_model.objects.bulk_create([m2m_history_model(history=row, **link) for link in rows])
