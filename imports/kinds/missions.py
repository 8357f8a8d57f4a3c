"""Trade missions. Natural key: the name (matching rule in base.py) + the start date."""

from engagements.models import TradeMission
from partners.models import Contact

from ..importer import _as_text, parse_date
from .base import parse_choice
from .records import RecordImporter


class MissionImporter(RecordImporter):
    record = "mission"
    model = TradeMission
    name_field = "name"
    scope_fields = ("start_date",)
    m2m = ("partners", "delegates")
    add_perm, change_perm = "engagements.add_trademission", "engagements.change_trademission"

    def parse(self, cells):
        data = {}
        for name in ("name", "cities", "lead", "objectives", "outcomes"):
            value = cells.text(name)
            if value is not None:
                data[name] = value
        if not cells.has("start_date"):
            cells.errors.append(("start_date", "a mission needs a start date."))
        for name in ("start_date", "end_date"):
            value = cells.typed(name, parse_date)
            if value is not None:
                data[name] = value
        for name, choices in (("direction", TradeMission.Direction.choices), ("status", TradeMission.Status.choices)):
            value = cells.typed(name, parse_choice, choices)
            if value is not None:
                data[name] = value
        owner = cells.typed("owner", lambda v: self.lookups.user(_as_text(v)))
        if owner is not None:
            data["owner"] = owner
        partners = self.partner_list(cells)
        if partners is not None:
            data["partners"] = partners
        partner_ids = {p.pk for p in partners or []}
        delegates = cells.each("delegates", lambda ref: self.contacts.resolve(ref, partner_ids), commas=False)
        if delegates is not None:
            data["delegates"] = list(Contact.objects.filter(pk__in=delegates))
        return data

    def complete(self, data):
        if "start_date" in data:
            data.setdefault("end_date", data["start_date"])
        data.setdefault("owner", self.actor if getattr(self.actor, "is_authenticated", False) else None)
