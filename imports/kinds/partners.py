"""Partners. Natural key: external_id when given; else name (matching rule in base.py) within the country."""

import functools

from partners.models import Partner

from ..importer import RowInvalid, _as_text, parse_priority
from ..lookups import Lookups, PartnerIndex
from ..text import country_code, name_key
from .base import BaseImporter, Cells, chunks, parse_choice

COMPARED = ["name", "kind", "country", "city", "parent", "website", "description", "topics", "priority", "owner",
            "status", "external_id"]


def row_country(cells: Cells):
    """The row's country code, "" when empty, None when unknown (an error is added)."""
    if not cells.has("country"):
        return ""
    country = cells.text("country")
    code = country_code(country) if country else None
    if code is None and country is not None:
        cells.errors.append(("country", f"“{country[:60]}” is not a country name or ISO code."))
    elif code is not None and code not in _country_codes():
        cells.errors.append(("country", f"“{country[:60]}” ({code}) is not a country a partner can have."))
        code = None
    return code


@functools.cache
def _country_codes() -> frozenset:
    """The codes the country field accepts (checked here once, not by full_clean per row)."""
    return frozenset(code for code, _ in Partner._meta.get_field("country").choices)


class PartnerImporter(BaseImporter):
    record = "partner"

    def __init__(self, actor, options):
        super().__init__(actor, options)
        self.partners = PartnerIndex()
        self.lookups = Lookups()
        self.loaded: dict[int, Partner] = {}

    def prepare(self, rows):
        wanted = set()
        for values in rows:
            cells = Cells(values)
            name, external_id = cells.text("name"), cells.text("external_id")
            if external_id and external_id in self.partners.by_external:
                wanted.add(self.partners.by_external[external_id])
            if name:
                code = row_country(cells)
                if code is not None:
                    self.partners.names.in_file(code, name)
                wanted.update(p for p in self.partners.by_name.get(name_key(name), []) if isinstance(p, int))
        self._load(wanted)

    def _load(self, pks):
        missing = [pk for pk in pks if pk not in self.loaded]
        for chunk in chunks(missing):
            for partner in Partner.objects.filter(pk__in=chunk).prefetch_related("topics"):
                self.loaded[partner.pk] = partner

    def _instance(self, ref) -> Partner:
        if isinstance(ref, Partner):
            return ref
        if ref not in self.loaded:
            self._load([ref])
        return self.loaded[ref]

    def import_row(self, number: int, cells: Cells) -> list[tuple[str, str, str]]:
        data = {}
        name = cells.text("name")
        if name is None:
            cells.errors.append(("name", "a partner needs a name."))
        else:
            data["name"] = name
        code = row_country(cells)
        if code:
            data["country"] = code
        for text_field in ("city", "website", "description", "external_id"):
            value = cells.text(text_field)
            if value is not None:
                data[text_field] = value
        for choice_field, choices in (("kind", Partner.Kind.choices), ("status", Partner.Status.choices)):
            value = cells.typed(choice_field, parse_choice, choices)
            if value is not None:
                data[choice_field] = value
        priority = cells.typed("priority", parse_priority)
        if priority is not None:
            data["priority"] = priority
        owner = cells.typed("owner", lambda v: self.lookups.user(_as_text(v)))
        if owner is not None:
            data["owner"] = owner
        parent = cells.typed("parent", lambda v: self.partners.resolve(_as_text(v)))
        topics = cells.each("topics", self.lookups.topic, commas=True)
        if topics is not None:
            data["topics"] = topics
        cells.check()

        try:
            ref = self._match(data, code or "")
        except ValueError as exc:
            raise RowInvalid([("name", str(exc))]) from None
        existing = None if ref is None else self._instance(ref)
        if existing is not None and self.repeated(number, existing.pk or id(existing), cells, COMPARED):
            return [(self.record, "unchanged", existing.name)]
        if parent is not None:
            if existing is not None and (parent == existing.pk or parent is existing):
                raise RowInvalid([("parent", "a partner cannot be its own parent.")])
            data["parent"] = self._instance(parent)
        if existing is None:
            if "kind" not in data:
                self.deny("kind", "a new partner needs a kind (map a column or set a default).")
            if not self.allowed("partners.add_partner"):
                self.deny("", "you may not add partners.")
            self._external_free(data)
            partner = Partner()
            self.write(partner, data, new=True, m2m_names=("topics",), exclude=("country",))
            self.partners.add(partner, partner.name, data.get("country", ""), data.get("external_id", ""))
            self.remember(number, id(partner), cells)
            return [(self.record, "created", partner.name)]
        from .base import diff

        changes = diff(existing, data)
        self.remember(number, existing.pk, cells)
        if not changes:
            return [(self.record, "unchanged", existing.name)]
        if not self.allowed("partners.change_partner"):
            self.deny("", f"this would change partner #{existing.pk} ({', '.join(changes)}); you may add partners "
                          "but not change them.")
        if "external_id" in changes:
            self._external_free(changes)
        self.write(existing, changes, new=False, m2m_names=("topics",), exclude=("country",))
        self.partners.add(existing, existing.name, getattr(existing.country, "code", existing.country) or "",
                          existing.external_id)
        return [(self.record, "updated", existing.name)]

    def _external_free(self, data):
        external_id = data.get("external_id")
        if external_id and external_id in self.partners.by_external:
            raise RowInvalid([("external_id", f"another partner has the external id “{external_id[:60]}”.")])

    def _kind_fits(self, kind):
        """A row that gives a kind is a body of that kind: it matches a record of that kind, or of kind Other
        (nobody classified it), never another — the government of Singapore is not the city of Singapore
        (the duplicates page's rule too)."""
        if kind is None or kind == Partner.Kind.OTHER:
            return None
        return lambda ref: self._instance(ref).kind in (kind, Partner.Kind.OTHER)

    def _match(self, data, country: str):
        external_id = data.get("external_id")
        if external_id and external_id in self.partners.by_external:
            return self.partners.by_external[external_id]
        if "name" not in data:
            return None
        ref = self.partners.names.match(country, data["name"], self.partners.spelling, "partner",
                                        accept=self._kind_fits(data.get("kind")))
        # A record with the same name but another source's id is someone else.
        if ref is not None and external_id and self.partners.external_of.get(ref if isinstance(ref, int) else id(ref)):
            return None
        return ref
