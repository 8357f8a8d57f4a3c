"""Bulk writes with the rules of save_record: validated, versioned, one history row per record, signals sent.

save_record (services.py) writes one record in about ten queries; an import of
10,000 rows needs the same result in a few queries per thousand records.
`bulk_save` takes records already validated field by field (the caller ran
`validate(instance)`), and writes, for one model:

- the new records with one INSERT per batch, their many-to-many links with one
  INSERT per relation and batch;
- the changed records: their rows locked (SELECT … FOR UPDATE) and their
  versions compared with the ones read (a record changed meanwhile raises
  EditConflict and the caller's transaction rolls back), then one UPDATE per
  batch with `version + 1` and `updated_at`; a changed many-to-many relation
  is replaced (DELETE + INSERT of its links);
- one history row per record ("+" created, "~" changed) with the final
  values, the many-to-many snapshot (simple-history's m2m tables) and the
  actor, exactly as save_record writes it;
- records_saved once per model and action (webhooks listen: the same events as record_saved gives).

A self-reference to a record created in the same call (a partner's parent
listed earlier in the file) is set after the INSERT, before the history.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db import models
from django.utils import timezone

from .services import EditConflict
from .signals import records_saved

BATCH = 1000


@dataclass
class Write:
    """One record to write: `fields` are the names changed (None: a new record), `m2m` the relations to set."""

    instance: models.Model
    fields: set | None = None
    m2m: dict = field(default_factory=dict)  # name -> list of related instances or ids
    refs: dict = field(default_factory=dict)  # foreign key name -> a related record not yet written (set at the write)


def validate(instance: models.Model, *, exclude: Iterable[str] = ()) -> None:
    """full_clean() without the checks that query the database (uniqueness, constraints, related rows existing).

    The caller keeps those in memory (an importer knows every key of the file and
    the database, and takes related records from what it read); the database
    still enforces them at the write.
    """
    foreign = [f.name for f in instance._meta.concrete_fields if f.is_relation]
    instance.full_clean(exclude=[*exclude, *foreign], validate_unique=False, validate_constraints=False)


def _pk(value):
    return value if isinstance(value, int) else value.pk


def bulk_save(model, *, actor, writes: list[Write]) -> None:
    """Write `writes` (new and changed records of `model`); see the module docstring."""
    if not writes:
        return
    creates = [w for w in writes if w.fields is None]
    updates = [w for w in writes if w.fields is not None]
    now = timezone.now()
    user = actor if getattr(actor, "is_authenticated", False) else None
    _create(model, creates)
    _update(model, updates, now)
    m2m_final = _set_m2m(model, creates, updates)
    _history(model, creates, updates, m2m_final, user)
    for group, created in ((creates, True), (updates, False)):
        if group:
            records_saved.send(sender=model, instances=[w.instance for w in group], created=created, actor=actor)


def _create(model, creates: list[Write]) -> None:
    if not creates:
        return
    later = []  # (instance, field, related instance) for references to records of this same batch
    for w in creates:
        for name, related in w.refs.items():
            f = model._meta.get_field(name)
            if related.pk is None and f.related_model is model:
                later.append((w.instance, f, related))
                setattr(w.instance, f.name, None)
            elif related.pk is None:
                raise ValueError(f"{model.__name__}.{name} refers to a record that was not written.")
            else:
                setattr(w.instance, f.attname, related.pk)
    instances = [w.instance for w in creates]
    model.objects.bulk_create(instances, batch_size=BATCH)
    for instance in instances:
        instance._state.adding = False
        instance._state.db = "default"
    if later:
        for instance, f, related in later:
            setattr(instance, f.attname, related.pk)
        model.objects.bulk_update([i for i, _, _ in later], sorted({f.name for _, f, _ in later}), batch_size=BATCH)


def _update(model, updates: list[Write], now) -> None:
    if not updates:
        return
    ids = [w.instance.pk for w in updates]
    versions = {}
    for start in range(0, len(ids), BATCH):
        chunk = ids[start:start + BATCH]
        versions.update(
            model._base_manager.select_for_update(of=("self",)).filter(pk__in=chunk).order_by("pk")
            .values_list("pk", "version")
        )
    by_fields: dict[tuple, list] = {}
    for w in updates:
        current = versions.get(w.instance.pk)
        if current is None or current != w.instance.version:
            raise EditConflict(w.instance, expected=w.instance.version, current=current or 0)
        w.instance.version = current + 1
        w.instance.updated_at = now
        concrete = tuple(sorted(
            n for n in w.fields if not model._meta.get_field(n).many_to_many
        ))
        by_fields.setdefault(concrete, []).append(w.instance)
    for names, instances in by_fields.items():
        model.objects.bulk_update(instances, [*names, "version", "updated_at"], batch_size=BATCH)


def _set_m2m(model, creates, updates) -> dict:
    """Write the links; the final links of every relation, per record: {pk: {name: [(link id, other id)]}}."""
    final: dict[int, dict[str, list[tuple[int, int]]]] = {}
    for f in model._meta.many_to_many:
        through = f.remote_field.through
        source, target = f"{f.m2m_field_name()}_id", f"{f.m2m_reverse_field_name()}_id"
        kept: dict[int, list[tuple[int, int]]] = {}
        unchanged = [w.instance.pk for w in updates if w.m2m.get(f.name) is None]
        for start in range(0, len(unchanged), BATCH):
            for link_id, pk, other in through.objects.filter(**{f"{source}__in": unchanged[start:start + BATCH]}).values_list(
                "id", source, target
            ):
                kept.setdefault(pk, []).append((link_id, other))
        replaced, rows = [], []
        for w in [*creates, *updates]:
            pk = w.instance.pk
            if w.m2m.get(f.name) is not None:
                if w.fields is not None:
                    replaced.append(pk)
                rows.extend(through(**{source: pk, target: i}) for i in dict.fromkeys(_pk(v) for v in w.m2m[f.name]))
            final.setdefault(pk, {})[f.name] = kept.get(pk, [])
        for start in range(0, len(replaced), BATCH):
            through.objects.filter(**{f"{source}__in": replaced[start:start + BATCH]}).delete()
        for row in through.objects.bulk_create(rows, batch_size=BATCH):
            final[getattr(row, source)][f.name].append((row.pk, getattr(row, target)))
    return final


def _history(model, creates, updates, m2m_final, user) -> None:
    attribute = getattr(model._meta, "simple_history_manager_attribute", None)
    if attribute is None:
        return
    manager = getattr(model, attribute)
    history_model = manager.model
    tracked = getattr(history_model, "_history_m2m_fields", [])
    for group, update in ((creates, False), (updates, True)):
        if not group:
            continue
        rows = manager.bulk_history_create([w.instance for w in group], update=update, default_user=user,
                                           batch_size=BATCH)
        if not rows or not tracked:
            continue
        for f in tracked:
            m2m_history_model = getattr(history_model, f.name).model
            source, target = f"{f.m2m_field_name()}_id", f"{f.m2m_reverse_field_name()}_id"
            links = []
            for w, row in zip(group, rows, strict=True):
                for link_id, other in m2m_final.get(w.instance.pk, {}).get(f.name, []):
                    links.append(m2m_history_model(history=row, id=link_id, **{source: w.instance.pk, target: other}))
            m2m_history_model.objects.bulk_create(links, batch_size=BATCH)
