"""Agreements. Natural key: the title (matching rule in base.py); partners, dates and status are its values."""

from partners.models import Agreement

from ..importer import _as_text, parse_date
from .base import parse_choice
from .records import RecordImporter


class AgreementImporter(RecordImporter):
    record = "agreement"
    model = Agreement
    name_field = "title"
    m2m = ("partners",)
    add_perm, change_perm = "partners.add_agreement", "partners.change_agreement"
    needed_for_new = ("kind",)

    def candidates(self):
        return Agreement.objects.all()  # agreements carry no confidentiality

    def parse(self, cells):
        data = {}
        for name in ("title", "summary"):
            value = cells.text(name)
            if value is not None:
                data[name] = value
        for name, choices in (("kind", Agreement.Kind.choices), ("status", Agreement.Status.choices)):
            value = cells.typed(name, parse_choice, choices)
            if value is not None:
                data[name] = value
        for name in ("signed_on", "expires_on", "notice_by"):
            value = cells.typed(name, parse_date)
            if value is not None:
                data[name] = value
        owner = cells.typed("owner", lambda v: self.lookups.user(_as_text(v)))
        if owner is not None:
            data["owner"] = owner
        partners = self.partner_list(cells)
        if partners is not None:
            data["partners"] = partners
        return data
