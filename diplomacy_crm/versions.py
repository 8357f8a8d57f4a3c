"""The one record-history diff: what changed between two versions of a record.

Every page that shows a change compares two rows of a record's history
(django-simple-history) with `version_changes`: the record pages' recent
changes (`diplomacy_crm.views.history_entries`), the conflict page after a
stale save (`diplomacy_crm.edits.changes_since`) and the record history page
(`history.selectors`). Each of them only words the result its own way.

Fields are compared by their stored value (a foreign key by its id), with no
query. With `links=True` the tracked many-to-many relations are compared
too, as sets of related ids; each history row's links are read once (one
query per relation) and kept on the row, so walking a history pairwise reads
every row's links a single time.
"""

from collections.abc import Iterable
from dataclasses import dataclass

from django.db import models


@dataclass(frozen=True)
class FieldChange:
    field: models.Field  # the record's field (a many-to-many one when `link` is true)
    old: object  # the stored value (attname), or a frozenset of ids for a link
    new: object
    link: bool = False

    @property
    def label(self) -> str:
        return str(self.field.verbose_name)


def tracked_fields(row, *, skip: Iterable[str] = (), editable_only: bool = False) -> list[models.Field]:
    """The record's fields its history tracks, in model order, less `skip` (and the non-editable ones if asked)."""
    skip = set(skip)
    return [f for f in row.tracked_fields if f.name not in skip and (f.editable or not editable_only)]


def link_fields(row, *, skip: Iterable[str] = ()) -> list[models.Field]:
    """The many-to-many fields the record's history tracks (simple-history's `m2m_fields`)."""
    return [f for f in getattr(row, "_history_m2m_fields", []) if f.name not in set(skip)]


def link_ids(row, link_field) -> frozenset:
    """The related ids of one tracked many-to-many relation as this history row recorded it (read once per row)."""
    cache = row.__dict__.setdefault("_link_ids", {})
    if link_field.name not in cache:
        target = link_field.m2m_reverse_field_name()
        cache[link_field.name] = frozenset(getattr(row, link_field.name).values_list(target, flat=True))
    return cache[link_field.name]


def version_changes(
    newer, older, *, skip: Iterable[str] = (), editable_only: bool = False, links: bool = False
) -> list[FieldChange]:
    """The fields that differ from history row `older` to history row `newer` of the same record, in model order.

    `skip` names fields never reported (ids, timestamps, the version);
    `editable_only` leaves out fields no form edits; `links` adds the tracked
    many-to-many relations, after the plain fields.
    """
    changes = [
        FieldChange(field=f, old=getattr(older, f.attname), new=getattr(newer, f.attname))
        for f in tracked_fields(newer, skip=skip, editable_only=editable_only)
        if getattr(newer, f.attname) != getattr(older, f.attname)
    ]
    if links:
        for f in link_fields(newer, skip=skip):
            old, new = link_ids(older, f), link_ids(newer, f)
            if old != new:
                changes.append(FieldChange(field=f, old=old, new=new, link=True))
    return changes
