"""What every kind's importer shares: a row's cells, the comparison with a record, the name matching rule, bulk writes.

How a kind's importer is driven (imports/run.py):
    importer = Importer(actor, options)
    importer.prepare(rows)          # optional: every row's mapped values, to read candidates in a few queries
    importer.import_row(number, cells) -> [(record, action, label)]   # per row, in a savepoint; no writes
    importer.finish()               # after the last row, outside the row savepoints: the bulk writes

import_row only reads (from what prepare and the constructor loaded) and queues
writes; finish() writes them with diplomacy_crm.bulk.bulk_save (one history
row per created or changed record). A row that fails adds nothing to the queue.

Matching a name (partners, contacts, engagements, gifts …), the same rule everywhere:
1. a record with exactly this spelling (in the same scope: country, partner, start …);
2. else the one record whose spelling differs only in letter case ("SEOUL" is "Seoul");
3. else the one record whose spelling differs in accents (and case), when the
   file does not itself name that record's exact spelling: accents can tell
   two places apart (Löhne and Lohne, Komló and Kömlő are different towns), so
   a file with "Löhne" and "Lohne" means two partners, while a file with only
   "Lohne" updates the "Löhne" it already has;
4. two candidates at step 2 or 3: an error (write the exact spelling or give an id).
A record matched by two rows with different values is an error naming the first row.
"""

from collections import defaultdict

from django.db import transaction

from diplomacy_crm.bulk import Write, bulk_save, validate

from ..importer import RowInvalid, _as_text, _is_empty, parse_choice as _parse_choice, split_list
from ..reader import Formula
from ..text import country_code, name_key

# The name fields that are part of a natural key: a spelling that differs only in case or accents
# matched the record, and the record keeps its own spelling (so a file holding both is idempotent).
KEY_NAMES = {"name", "full_name", "title", "description"}


class Cells:
    """One row's mapped values, with typed getters that collect errors instead of raising."""

    def __init__(self, values: dict):
        self.values = values
        self.errors: list[tuple[str, str]] = []

    def raw(self, name):
        value = self.values.get(name)
        if isinstance(value, Formula):
            self.errors.append(
                (name, f"the cell holds a formula ({str(value)[:40]}); import takes values: paste as values, then save.")
            )
            return None
        if _is_empty(value):
            return None
        if isinstance(value, str):
            if "\x00" in value:
                self.errors.append((name, "the cell contains a NUL character."))
                return None
            return value.strip()
        return value

    def has(self, name) -> bool:
        return not _is_empty(self.values.get(name))

    def text(self, name):
        value = self.raw(name)
        return None if value is None else _as_text(value)

    def typed(self, name, parser, *args):
        value = self.raw(name)
        if value is None:
            return None
        try:
            return parser(value, *args)
        except ValueError as exc:
            self.errors.append((name, str(exc)))
            return None

    def each(self, name, resolve, *, commas: bool):
        text = self.text(name)
        if text is None:
            return None
        items = []
        for part in split_list(text, commas=commas):
            try:
                items.append(resolve(part))
            except ValueError as exc:
                self.errors.append((name, str(exc)))
        return items

    def check(self):
        if self.errors:
            raise RowInvalid(self.errors)


def parse_choice(value, choices):
    """imports.importer.parse_choice, remembered per cell text (a file repeats a few values thousands of times)."""
    text = _as_text(value)
    key = (text, tuple(str(v) for v, _ in choices))
    found = _CHOICES.get(key)
    if found is None:
        found = _parse_choice(text, choices)  # a ValueError is not remembered
        if len(_CHOICES) > 10_000:
            _CHOICES.clear()
        _CHOICES[key] = found
    return found


_CHOICES: dict = {}


def _ref(value):
    """A comparable reference to a related record: its id, or the object itself while it is only queued."""
    if value is None:
        return None
    pk = getattr(value, "pk", value)
    return pk if pk is not None else id(value)


def diff(instance, data: dict, m2m_ids: dict | None = None) -> dict:
    """The part of `data` that differs from `instance` (foreign keys by id, many-to-many as sets).

    `m2m_ids[pk][name]`, when given, holds the ids a record links now (read for the whole file at once).
    """
    changed = {}
    known = (m2m_ids or {}).get(instance.pk) if instance.pk else None
    for name, value in data.items():
        if name in KEY_NAMES and name_key(getattr(instance, name)) == name_key(value):
            continue
        model_field = instance._meta.get_field(name)
        if model_field.many_to_many:
            prefetched = getattr(instance, "_prefetched_objects_cache", {}).get(name)
            if known is not None:
                current = known.get(name, set())
            elif prefetched is not None:  # read with the file's candidates: no query, no queryset clone
                current = {o.pk for o in prefetched}
            else:
                current = {o.pk for o in getattr(instance, name).all()} if instance.pk else set()
            if current != {_ref(o) for o in value}:
                changed[name] = value
        elif model_field.is_relation:
            current = getattr(instance, model_field.attname)
            if current is None and instance.pk is None:
                current = _ref(getattr(instance, name, None))
            if current != _ref(value):
                changed[name] = value
        else:
            current = getattr(instance, name)
            current = getattr(current, "code", current)  # a CountryField gives a Country object
            if current != value:
                changed[name] = value
    return changed


def _same(name: str, value):
    """What of a cell counts when two rows give one record: a name's spelling up to case and accents, a country's code."""
    text = _as_text(value)
    if name in KEY_NAMES or name == "partner":
        return name_key(text)
    if name == "country":
        return country_code(text) or text
    return text


def _cased(name: str) -> str:
    return " ".join((name or "").casefold().split())


class NameIndex:
    """Records by (scope, exact spelling) and (scope, folded spelling), for the matching rule above."""

    def __init__(self):
        self.exact: dict[tuple, list] = defaultdict(list)
        self.cased: dict[tuple, list] = defaultdict(list)
        self.folded: dict[tuple, list] = defaultdict(list)
        self.spelled_in_file: set[tuple] = set()  # (scope, exact spelling) named by some row

    def add(self, scope, name: str, ref) -> None:
        if ref not in self.exact[(scope, name)]:
            self.exact[(scope, name)].append(ref)
        if ref not in self.cased[(scope, _cased(name))]:
            self.cased[(scope, _cased(name))].append(ref)
        if ref not in self.folded[(scope, name_key(name))]:
            self.folded[(scope, name_key(name))].append(ref)

    def in_file(self, scope, name: str) -> None:
        self.spelled_in_file.add((scope, name))

    def match(self, scope, name: str, spelling_of, what: str, accept=None):
        """The record for `name` in `scope`, or None; ValueError when folding finds several.

        `accept(ref)`, when given, leaves out the records that cannot be this row's (partners: another kind).
        """
        def keep(refs):
            return [r for r in refs if accept(r)] if accept is not None else refs

        exact = keep(self.exact.get((scope, name), []))
        if exact:
            return exact[0]
        cased = keep(self.cased.get((scope, _cased(name)), []))
        if len(cased) == 1:
            return cased[0]
        if len(cased) > 1:
            names = "; ".join(f"“{spelling_of(r)[:60]}”" for r in cased[:4])
            raise ValueError(f"no {what} is spelled exactly “{name[:60]}”, and {len(cased)} differ from it only in "
                             f"letter case ({names}): write the exact spelling.")
        folded = [
            ref for ref in keep(self.folded.get((scope, name_key(name)), []))
            if (scope, spelling_of(ref)) not in self.spelled_in_file
        ]
        if len(folded) == 1:
            return folded[0]
        if len(folded) > 1:
            names = "; ".join(f"“{spelling_of(r)[:60]}”" for r in folded[:4])
            raise ValueError(f"no {what} is spelled exactly “{name[:60]}”, and {len(folded)} differ from it only in "
                             f"case or accents ({names}): write the exact spelling.")
        return None


def _write_order():
    from engagements.models import Commitment, Engagement, Gift, TradeMission
    from partners.models import Agreement, Contact, Partner

    return [Partner, Contact, Agreement, TradeMission, Engagement, Commitment, Gift]


class _Order:
    def __iter__(self):
        return iter(_write_order())


WRITE_ORDER = _Order()  # a record before the records that refer to it


class BaseImporter:
    record = ""
    model = None
    writes_rows = False  # import_row only reads: run.py needs no savepoint per row

    def __init__(self, actor, options: dict):
        self.actor = actor
        self.options = options
        self.warnings: list[str] = []
        self.queued: dict = {}  # model -> {id(instance): Write}, in order
        self.first_row: dict = {}  # _ref(record) -> (row number, its values)

    # --- What run.py calls --------------------------------------------------------

    def prepare(self, rows: list[dict]) -> None:
        """Read what the rows may match, in a few queries (each kind overrides)."""

    def finish(self) -> None:
        """Write everything queued, in bulk, model by model in the order first queued."""
        order = {model: i for i, model in enumerate(WRITE_ORDER)}
        with transaction.atomic():
            for model, writes in sorted(self.queued.items(), key=lambda item: order.get(item[0], len(order))):
                bulk_save(model, actor=self.actor, writes=list(writes.values()))
        self.queued = {}

    # --- Helpers ------------------------------------------------------------------

    def allowed(self, perm: str) -> bool:
        return self.actor is None or self.actor.has_perm(perm)

    def deny(self, field_name: str, message: str):
        raise RowInvalid([(field_name, message)])

    def repeated(self, number: int, ref, cells: "Cells", compare: list[str]) -> bool:
        """True when an earlier row gave this record: then this row must agree with it (else RowInvalid)."""
        first = self.first_row.get(ref)
        if first is None:
            return False
        first_number, first_values = first
        for name in compare:
            if cells.has(name) and _same(name, cells.values.get(name)) != _same(name, first_values.get(name)):
                cells.errors.append((name, f"differs from row {first_number}, which gives this record; leave it "
                                           "empty or repeat the same value."))
        cells.check()
        return True

    def remember(self, number: int, ref, cells: "Cells") -> None:
        self.first_row.setdefault(ref, (number, dict(cells.values)))

    def write(self, instance, data: dict, *, new: bool, m2m_names=(), exclude=(), validated=False) -> None:
        """Apply `data` to `instance`, validate it (unless the caller just did) and queue its write.

        new: create it; else update the fields in `data`.
        """
        data = dict(data)
        m2m = {k: data.pop(k) for k in list(data) if k in m2m_names}
        for name, value in data.items():
            setattr(instance, name, value)
        if not validated:
            validate(instance, exclude=[*m2m_names, *exclude])
        by_model = self.queued.setdefault(type(instance), {})
        queued = by_model.get(id(instance))
        refs = {k: v for k, v in data.items() if getattr(v, "_meta", None) is not None and v.pk is None}
        if queued is None:
            by_model[id(instance)] = Write(instance, None if new else set(data) | set(m2m), m2m, refs)
        else:  # a later row of a record queued already
            if queued.fields is not None:
                queued.fields |= set(data) | set(m2m)
            queued.m2m.update(m2m)
            queued.refs.update(refs)


def chunks(items, size=1000):
    items = list(items)
    for start in range(0, len(items), size):
        yield items[start:start + size]
