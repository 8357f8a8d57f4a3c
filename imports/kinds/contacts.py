"""Contacts. Natural key: external_id when given; else the partner + full name (matching rule in base.py)."""

from partners.models import Contact, Partner

from ..importer import RowInvalid, _as_text, parse_bool, split_titles
from ..lookups import ContactIndex, PartnerIndex
from .base import BaseImporter, Cells, chunks, diff

COMPARED = ["partner", "full_name", "honorific", "title", "email", "phone", "languages", "protocol_notes",
            "is_active", "external_id"]


class ContactImporter(BaseImporter):
    record = "contact"

    def __init__(self, actor, options):
        super().__init__(actor, options)
        self.partners = PartnerIndex()
        self.contacts = ContactIndex()
        self.loaded: dict[int, Contact] = {}

    def _full_name(self, full_name: str, data: dict, number: int | None) -> str:
        if not self.options.get("split_titles", True):
            return full_name
        honorific, title, bare = split_titles(full_name)
        if bare != full_name and bare:
            if honorific and "honorific" not in data:
                data["honorific"] = honorific
            if title and "title" not in data:
                data["title"] = title
            if number is not None:
                self.warnings.append(
                    f"Row {number}: “{full_name}” read as {', '.join(filter(None, (honorific, title)))} + “{bare}”."
                )
            return bare
        return full_name

    def prepare(self, rows):
        wanted = set()
        for values in rows:
            cells = Cells(values)
            full_name, partner = cells.text("full_name"), cells.text("partner")
            if cells.text("external_id") in self.contacts.by_external:
                wanted.add(self.contacts.by_external[cells.text("external_id")])
            if not full_name or not partner:
                continue
            try:
                partner_id = self.partners.resolve(partner)
            except ValueError:
                continue
            bare = self._full_name(full_name, {}, None)
            self.contacts.names.in_file(partner_id, bare)
            wanted.update(r for r in self.contacts.names.folded.get((partner_id, _folded(bare)), []) if isinstance(r, int))
        for chunk in chunks(wanted):
            for contact in Contact.objects.filter(pk__in=chunk):
                self.loaded[contact.pk] = contact

    def import_row(self, number: int, cells: Cells):
        data = {}
        partner_id = cells.typed("partner", lambda v: self.partners.resolve(_as_text(v)))
        full_name = cells.text("full_name")
        if full_name is None:
            cells.errors.append(("full_name", "a contact needs a full name."))
        for text_field in ("honorific", "title", "email", "phone", "languages", "protocol_notes", "external_id"):
            value = cells.text(text_field)
            if value is not None:
                data[text_field] = value
        is_active = cells.typed("is_active", parse_bool)
        if is_active is not None:
            data["is_active"] = is_active
        if partner_id is None and not cells.errors:
            cells.errors.append(("partner", "a contact needs a partner (name or id)."))
        cells.check()
        full_name = self._full_name(full_name, data, number)
        data["full_name"] = full_name
        data["partner"] = Partner(pk=partner_id)

        ref = None
        if data.get("external_id"):
            ref = self.contacts.by_external.get(data["external_id"])
        if ref is None:
            try:
                ref = self.contacts.names.match(partner_id, full_name, self.contacts.spelling, "contact")
            except ValueError as exc:
                raise RowInvalid([("full_name", str(exc))]) from None
        if ref is None:
            if not self.allowed("partners.add_contact"):
                self.deny("", "you may not add contacts.")
            contact = Contact()
            self.write(contact, data, new=True)
            self.contacts.add(contact, partner_id, full_name, data.get("external_id"))
            self.remember(number, id(contact), cells)
            return [(self.record, "created", full_name)]
        existing = ref if isinstance(ref, Contact) else self.loaded.get(ref) or Contact.objects.get(pk=ref)
        self.loaded.setdefault(existing.pk, existing) if existing.pk else None
        if self.repeated(number, existing.pk or id(existing), cells, COMPARED):
            return [(self.record, "unchanged", existing.full_name)]
        self.remember(number, existing.pk, cells)
        changes = diff(existing, data)
        if not changes:
            return [(self.record, "unchanged", existing.full_name)]
        if not self.allowed("partners.change_contact"):
            self.deny("", f"this would change contact #{existing.pk}; you may not change contacts.")
        self.write(existing, changes, new=False)
        return [(self.record, "updated", existing.full_name)]


def _folded(text):
    from ..text import name_key

    return name_key(text)
