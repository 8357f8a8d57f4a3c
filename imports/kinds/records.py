"""A kind whose record is found by one name within a scope of other fields (gifts, agreements, missions).

A kind module says which model it writes, which field is its name, which
fields make its scope (the natural key is scope + name under the matching rule
of base.py), and how a row's cells become field values (`parse`). Every record
of the model the user may see is read once (one query, plus one per
many-to-many relation), so a row costs no query.
"""

from ..importer import RowInvalid
from ..lookups import ContactIndex, Lookups, PartnerIndex
from .base import BaseImporter, Cells, NameIndex, diff


class RecordImporter(BaseImporter):
    model = None
    name_field = "name"
    scope_fields: tuple = ()
    m2m: tuple = ()
    add_perm = change_perm = ""
    needed_for_new: tuple = ()  # fields a new record needs (a "kind" with no default)

    def __init__(self, actor, options):
        super().__init__(actor, options)
        self.partners = PartnerIndex()
        self.lookups = Lookups()
        self._contacts = None
        self.names = NameIndex()
        self.spellings: dict[int, str] = {}

    @property
    def contacts(self):
        if self._contacts is None:
            self._contacts = ContactIndex()
        return self._contacts

    def candidates(self):
        records = self.model.objects.all()
        return records if self.actor is None else records.visible_to(self.actor)

    def scope(self, data: dict) -> tuple:
        return tuple(getattr(data.get(f), "pk", data.get(f)) for f in self.scope_fields)

    def _spelling(self, ref):
        return self.spellings[id(ref)]

    def _index(self, record):
        self.spellings[id(record)] = getattr(record, self.name_field)
        self.names.add(self.scope({f: getattr(record, f) for f in self.scope_fields}), getattr(record, self.name_field),
                       record)

    def prepare(self, rows):
        for record in self.candidates().prefetch_related(*self.m2m).order_by("pk"):
            self._index(record)
        for values in rows:
            cells = Cells(values)
            try:
                data = self.parse(cells)
            except Exception:  # noqa: BLE001 - a bad row is reported when its turn comes
                continue
            if not cells.errors and data.get(self.name_field):
                self.names.in_file(self.scope(data), data[self.name_field])

    def parse(self, cells: Cells) -> dict:
        raise NotImplementedError

    def complete(self, data: dict) -> None:
        """Defaults a new record takes from the row (e.g. a mission's end date)."""

    def import_row(self, number: int, cells: Cells):
        data = self.parse(cells)
        if not data.get(self.name_field) and not any(f == self.name_field for f, _ in cells.errors):
            cells.errors.append((self.name_field, f"a {self.record} needs a {self.name_field.replace('_', ' ')}."))
        cells.check()
        try:
            existing = self.names.match(self.scope(data), data[self.name_field], self._spelling, self.record)
        except ValueError as exc:
            raise RowInvalid([(self.name_field, str(exc))]) from None
        label = str(data[self.name_field])[:80]
        if existing is not None and self.repeated(number, id(existing), cells, list(cells.values)):
            return [(self.record, "unchanged", label)]
        if existing is None:
            for name in self.needed_for_new:
                if name not in data:
                    self.deny(name, f"a new {self.record} needs a {name.replace('_', ' ')} (map a column or set a default).")
            if not self.allowed(self.add_perm):
                self.deny("", f"you may not add {self.record}s.")
            self.complete(data)
            record = self.model()
            self.write(record, data, new=True, m2m_names=self.m2m)
            self._index(record)
            self.remember(number, id(record), cells)
            return [(self.record, "created", label)]
        self.remember(number, id(existing), cells)
        changes = diff(existing, data)
        if not changes:
            return [(self.record, "unchanged", label)]
        if not self.allowed(self.change_perm):
            self.deny("", f"this would change {self.record} #{existing.pk}; you may not change {self.record}s.")
        self.write(existing, changes, new=False, m2m_names=self.m2m)
        return [(self.record, "updated", label)]

    # --- Shared cell readers ---------------------------------------------------------

    def partner_list(self, cells: Cells, name="partners"):
        ids = cells.each(name, self.partners.resolve, commas=False)
        return None if ids is None else list(self._partner_objects(ids))

    def _partner_objects(self, ids):
        from partners.models import Partner

        known = getattr(self, "_partners_loaded", None)
        if known is None:
            known = self._partners_loaded = {}
        missing = [i for i in ids if i not in known]
        if missing:
            known.update((p.pk, p) for p in Partner.objects.filter(pk__in=missing))
        return [known[i] for i in ids if i in known]
