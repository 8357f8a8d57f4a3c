"""Gifts. Natural key: the date, the direction, the giver and the recipient (case and accents ignored) + the
description (matching rule in base.py): registers list one gift to several officials as several rows."""

import decimal

from engagements.models import Engagement, Gift

from ..importer import _ID, _as_text, parse_date
from ..text import name_key
from .base import parse_choice
from .records import RecordImporter


# What a register writes for "value not known" (R and many statistics exports write NA): no value, not an error.
NOT_AVAILABLE = {"na", "n/a", "n.a.", "not available"}


def parse_amount(value) -> decimal.Decimal:
    text = _as_text(value).replace(",", "").replace("$", "").strip()
    try:
        amount = decimal.Decimal(text)
    except decimal.InvalidOperation:
        raise ValueError(f"“{text[:30]}” is not an amount (a number such as 1500 or 1500.00).") from None
    if not amount.is_finite() or amount < 0:
        raise ValueError(f"“{text[:30]}” is not an amount of 0 or more.")
    return amount.quantize(decimal.Decimal("0.01"))


class GiftImporter(RecordImporter):
    record = "gift"
    model = Gift
    name_field = "description"
    scope_fields = ("exchanged_on", "direction", "giver", "recipient")
    add_perm, change_perm = "engagements.add_gift", "engagements.change_gift"
    needed_for_new = ("direction",)

    def scope(self, data):
        return (data.get("exchanged_on"), data.get("direction"), name_key(data.get("giver") or ""),
                name_key(data.get("recipient") or ""))

    def parse(self, cells):
        data = {}
        for name in ("giver", "recipient", "description"):
            value = cells.text(name)
            if value is not None:
                data[name] = value
        for name in ("giver", "description", "exchanged_on"):
            if not cells.has(name):
                cells.errors.append((name, f"a gift needs {'a date' if name == 'exchanged_on' else 'its ' + name}."))
        exchanged_on = cells.typed("exchanged_on", parse_date)
        if exchanged_on is not None:
            data["exchanged_on"] = exchanged_on
        for name, choices in (("direction", Gift.Direction.choices), ("disposition", Gift.Disposition.choices)):
            value = cells.typed(name, parse_choice, choices)
            if value is not None:
                data[name] = value
        raw = cells.raw("estimated_value")
        if raw is not None and _as_text(raw).strip().lower() not in NOT_AVAILABLE:
            try:
                data["estimated_value"] = parse_amount(raw)
            except ValueError as exc:
                cells.errors.append(("estimated_value", str(exc)))
        currency = cells.text("currency")
        if currency is not None:
            data["currency"] = currency.upper()
        partner = cells.typed("partner", lambda v: self.partners.resolve(_as_text(v)))
        if partner is not None:
            data["partner"] = self._partner_objects([partner])[0]
        engagement = cells.typed("engagement", self._engagement)
        if engagement is not None:
            data["engagement"] = engagement
        return data

    def _engagement(self, value):
        match = _ID.fullmatch(_as_text(value))
        found = None
        if match:
            engagements = Engagement.objects.all()
            if self.actor is not None:
                engagements = engagements.visible_to(self.actor)
            found = engagements.filter(pk=int(match.group(1))).first()
        if found is None:
            raise ValueError(f"no engagement has the id “{_as_text(value)[:20]}” (give the engagement's id).")
        return found
