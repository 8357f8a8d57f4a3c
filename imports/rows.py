"""The importer's rows: one importer per kind (partners, contacts, engagements with commitments) turning a row's cells into a service call.

imports/importer.py holds the columns, the cell conversions and the mapping;
imports/run.py the pass that drives these row by row.
"""

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import DatabaseError

from engagements import services as engagement_services
from engagements.models import Commitment, Confidentiality, Engagement
from partners import services as partner_services
from partners.models import Contact, Partner

from .importer import (
    ENGAGEMENT_FIELDS,
    ENGAGEMENT_HAS_EXTERNAL_ID,
    RowInvalid,
    _as_text,
    _is_empty,
    parse_bool,
    parse_choice,
    parse_date,
    parse_datetime,
    parse_end_datetime,
    parse_priority,
    split_list,
    split_titles,
)
from .lookups import ContactIndex, Lookups, PartnerIndex
from .reader import Formula
from .text import country_code, name_key

# --- Row parsing ---------------------------------------------------------------------


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


# The name fields that are part of a natural key: a spelling that differs only in case or accents
# matched the record, and the record keeps its own spelling (so a file holding both is idempotent).
KEY_NAMES = {"name", "full_name", "title"}


def _diff(instance, data: dict) -> dict:
    """The part of `data` that differs from `instance` (foreign keys by id, many-to-many as sets)."""
    changed = {}
    for name, value in data.items():
        if name in KEY_NAMES and name_key(getattr(instance, name)) == name_key(value):
            continue
        model_field = instance._meta.get_field(name)
        if model_field.many_to_many:
            current = {o.pk for o in getattr(instance, name).all()} if instance.pk else set()
            if current != {o.pk for o in value}:
                changed[name] = value
        elif model_field.is_relation:
            if getattr(instance, model_field.attname) != getattr(value, "pk", value):
                changed[name] = value
        else:
            current = getattr(instance, name)
            current = getattr(current, "code", current)  # a CountryField gives a Country object
            if current != value:
                changed[name] = value
    return changed


# --- The importers --------------------------------------------------------------------


class BaseImporter:
    record = ""

    def __init__(self, actor, options: dict):
        self.actor = actor
        self.options = options
        self.lookups = Lookups()
        self.warnings: list[str] = []

    def allowed(self, perm: str) -> bool:
        return self.actor is None or self.actor.has_perm(perm)

    def deny(self, field_name: str, message: str):
        raise RowInvalid([(field_name, message)])


class PartnerImporter(BaseImporter):
    record = "partner"

    def __init__(self, actor, options):
        super().__init__(actor, options)
        self.partners = PartnerIndex()

    def import_row(self, number: int, cells: Cells) -> list[tuple[str, str, str]]:
        data = {}
        name = cells.text("name")
        if name is None:
            cells.errors.append(("name", "a partner needs a name."))
        else:
            data["name"] = name
        if cells.has("country"):
            country = cells.text("country")
            code = country_code(country) if country else None
            if code is None and country is not None:
                cells.errors.append(("country", f"“{country[:60]}” is not a country name or ISO code."))
            elif code:
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
        parent_id = cells.typed("parent", lambda v: self.partners.resolve(_as_text(v)))
        topics = cells.each("topics", self.lookups.topic, commas=True)
        if topics is not None:
            data["topics"] = topics
        cells.check()

        existing = self._match(data)
        if parent_id is not None:
            if existing is not None and parent_id == existing.pk:
                raise RowInvalid([("parent", "a partner cannot be its own parent.")])
            data["parent"] = Partner.objects.get(pk=parent_id)
        if existing is None:
            if "kind" not in data:
                self.deny("kind", "a new partner needs a kind (map a column or set a default).")
            if not self.allowed("partners.add_partner"):
                self.deny("", "you may not add partners.")
            partner = partner_services.partner_create(actor=self.actor, **data)
            action = "created"
        else:
            changes = _diff(existing, data)
            if not changes:
                return [(self.record, "unchanged", existing.name)]
            if not self.allowed("partners.change_partner"):
                self.deny("", f"this would change partner #{existing.pk} ({', '.join(changes)}); you may add partners "
                              "but not change them.")
            partner = partner_services.partner_update(partner=existing, actor=self.actor, **changes)
            action = "updated"
        self.partners.add(partner.pk, partner.name, partner.country, partner.external_id)
        return [(self.record, action, partner.name)]

    def _match(self, data) -> Partner | None:
        pk = None
        external_id = data.get("external_id")
        if external_id:
            pk = self.partners.by_external.get(external_id)
        if pk is None and "name" in data:
            for candidate in self.partners.by_key.get((name_key(data["name"]), data.get("country", "")), []):
                # A record with the same name but another source's id is someone else.
                if not external_id or not self.partners.external_of.get(candidate):
                    pk = candidate
                    break
        if pk is None:
            return None
        return Partner.objects.select_related("parent").prefetch_related("topics").get(pk=pk)


class ContactImporter(BaseImporter):
    record = "contact"

    def __init__(self, actor, options):
        super().__init__(actor, options)
        self.partners = PartnerIndex()
        self.contacts = ContactIndex()

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
        if self.options.get("split_titles", True):
            honorific, title, bare = split_titles(full_name)
            if bare != full_name and bare:
                if honorific and "honorific" not in data:
                    data["honorific"] = honorific
                if title and "title" not in data:
                    data["title"] = title
                self.warnings.append(f"Row {number}: “{full_name}” read as {', '.join(filter(None, (honorific, title)))} + “{bare}”.")
                full_name = bare
        data["full_name"] = full_name
        data["partner"] = Partner(pk=partner_id)

        pk = None
        if data.get("external_id"):
            pk = self.contacts.by_external.get(data["external_id"])
        if pk is None:
            pk = self.contacts.by_key.get((partner_id, name_key(full_name)))
        if pk is None:
            if not self.allowed("partners.add_contact"):
                self.deny("", "you may not add contacts.")
            data["partner"] = Partner.objects.get(pk=partner_id)
            contact = partner_services.contact_create(actor=self.actor, **data)
            action = "created"
        else:
            existing = Contact.objects.get(pk=pk)
            changes = _diff(existing, data)
            if not changes:
                return [(self.record, "unchanged", existing.full_name)]
            if not self.allowed("partners.change_contact"):
                self.deny("", f"this would change contact #{existing.pk}; you may not change contacts.")
            if "partner" in changes:
                changes["partner"] = Partner.objects.get(pk=partner_id)
            contact = partner_services.contact_update(contact=existing, actor=self.actor, **changes)
            action = "updated"
        self.contacts.add(contact.pk, contact.partner_id, contact.full_name, contact.external_id)
        return [(self.record, action, contact.full_name)]


ENGAGEMENT_COLUMNS = [f.name for f in ENGAGEMENT_FIELDS if not f.name.startswith("commitment_")]


class EngagementImporter(BaseImporter):
    record = "engagement"

    def __init__(self, actor, options):
        super().__init__(actor, options)
        self.partners = PartnerIndex()
        self.contacts = ContactIndex()
        # (title key, starts_at) → (engagement id, first row number, that row's values)
        self.seen: dict[tuple[str, dt.datetime], tuple[int, int, dict]] = {}
        self.failed: dict[tuple[str, dt.datetime], int] = {}  # engagements whose first row failed

    def import_row(self, number: int, cells: Cells):
        title = cells.text("title")
        if title is None:
            cells.errors.append(("title", "an engagement needs a title."))
        starts_at = cells.typed("starts_at", parse_datetime)
        if starts_at is None and not any(f == "starts_at" for f, _ in cells.errors):
            cells.errors.append(("starts_at", "an engagement needs a start (starts_at)."))
        if cells.errors:
            cells.check()
        key = (name_key(title), starts_at)
        outcomes = []
        if key in self.failed:
            # The row that gives this engagement is wrong and reported; check only this row's commitment.
            if cells.has("commitment_description"):
                self._commitment_data(cells)
            return []
        try:
            return self._import_row(number, cells, key, outcomes, title, starts_at)
        except (RowInvalid, ValidationError, DatabaseError):
            if key not in self.seen:
                self.failed[key] = number
            raise

    def _import_row(self, number, cells, key, outcomes, title, starts_at):
        if key in self.seen:
            engagement_id, first_row, first_values = self.seen[key]
            for name in ENGAGEMENT_COLUMNS:
                if name not in ("title", "starts_at") and cells.has(name) and _as_text(cells.values.get(name)) != _as_text(first_values.get(name)):
                    cells.errors.append((name, f"differs from row {first_row}, which gives this engagement; leave it "
                                               "empty or repeat the same value."))
            cells.check()
            engagement = Engagement.objects.get(pk=engagement_id)
        else:
            engagement, action = self._engagement(cells, title, starts_at)
            outcomes.append((self.record, action, engagement.title))
        if cells.has("commitment_description"):
            outcomes.append(self._commitment(cells, engagement))
        elif not outcomes:
            outcomes.append((self.record, "unchanged", engagement.title))
        # Only once the whole row stands (its savepoint may still roll the engagement back otherwise).
        self.seen.setdefault(key, (engagement.pk, number, dict(cells.values)))
        return outcomes

    def _engagement(self, cells: Cells, title: str, starts_at):
        data = {"title": title, "starts_at": starts_at}
        for text_field in ("location", "city_officials", "summary", "outcomes", "external_id"):
            if text_field == "external_id" and not ENGAGEMENT_HAS_EXTERNAL_ID:
                continue
            value = cells.text(text_field)
            if value is not None:
                data[text_field] = value
        for choice_field, choices in (
            ("kind", Engagement.Kind.choices),
            ("status", Engagement.Status.choices),
            ("confidentiality", Confidentiality.choices),
        ):
            value = cells.typed(choice_field, parse_choice, choices)
            if value is not None:
                data[choice_field] = value
        ends_at = cells.typed("ends_at", parse_end_datetime)
        if ends_at is not None:
            data["ends_at"] = ends_at
        follow_up_by = cells.typed("follow_up_by", parse_date)
        if follow_up_by is not None:
            data["follow_up_by"] = follow_up_by
        is_virtual = cells.typed("is_virtual", parse_bool)
        if is_virtual is not None:
            data["is_virtual"] = is_virtual
        partner_ids = cells.each("partners", self.partners.resolve, commas=False)
        if partner_ids is not None:
            data["partners"] = list(Partner.objects.filter(pk__in=partner_ids))
        contact_ids = cells.each("contacts", lambda ref: self.contacts.resolve(ref, set(partner_ids or [])), commas=False)
        if contact_ids is not None:
            data["contacts"] = list(Contact.objects.filter(pk__in=contact_ids))
        staff = cells.each("staff", self.lookups.user, commas=True)
        if staff is not None:
            data["staff"] = staff
        topics = cells.each("topics", self.lookups.topic, commas=True)
        if topics is not None:
            data["topics"] = topics
        cells.check()

        existing = self._match(data)
        if existing is None:
            if "kind" not in data:
                self.deny("kind", "a new engagement needs a kind (map a column or set a default).")
            if not self.allowed("engagements.add_engagement"):
                self.deny("", "you may not add engagements.")
            return engagement_services.engagement_create(actor=self.actor, **data), "created"
        changes = _diff(existing, data)
        if not changes:
            return existing, "unchanged"
        if not self.allowed("engagements.change_engagement"):
            self.deny("", f"this would change engagement #{existing.pk}; you may not change engagements.")
        return engagement_services.engagement_update(engagement=existing, actor=self.actor, **changes), "updated"

    def _candidates(self):
        """The engagements a row may match: those the importing user may see (accounts.access).

        A record hidden from the user is not there for the import: a row with
        its title and start is "created", exactly as if it did not exist, and a
        commit creates a new engagement beside it (leaving it untouched). So
        neither the check nor the commit tells whether such a record exists.
        The command line (no actor) imports as the system and matches everything.
        """
        engagements = Engagement.objects.all()
        return engagements if self.actor is None else engagements.visible_to(self.actor)

    def _match(self, data) -> Engagement | None:
        if ENGAGEMENT_HAS_EXTERNAL_ID and data.get("external_id"):
            found = self._candidates().filter(external_id=data["external_id"]).first()
            if found:
                return found
        wanted = name_key(data["title"])
        for engagement in self._candidates().filter(starts_at=data["starts_at"]).prefetch_related(
            "partners", "contacts", "staff", "topics"
        ):
            if name_key(engagement.title) == wanted:
                return engagement
        return None

    def _commitment(self, cells: Cells, engagement: Engagement):
        data = self._commitment_data(cells)
        return self._save_commitment(data, engagement)

    def _commitment_data(self, cells: Cells) -> dict:
        description = cells.text("commitment_description")
        data = {"description": description}
        due = cells.typed("commitment_due_date", parse_date)
        if due is not None:
            data["due_date"] = due
        for name, model_field, choices in (
            ("commitment_made_by", "made_by", Commitment.MadeBy.choices),
            ("commitment_status", "status", Commitment.Status.choices),
        ):
            value = cells.typed(name, parse_choice, choices)
            if value is not None:
                data[model_field] = value
        priority = cells.typed("commitment_priority", parse_priority)
        if priority is not None:
            data["priority"] = priority
        owner = cells.typed("commitment_owner", lambda v: self.lookups.user(_as_text(v)))
        if owner is not None:
            data["owner"] = owner
        partner_id = cells.typed("commitment_partner", lambda v: self.partners.resolve(_as_text(v)))
        cells.check()
        if partner_id is not None:
            data["partner"] = Partner.objects.get(pk=partner_id)
        return data

    def _save_commitment(self, data: dict, engagement: Engagement):
        description = data["description"]
        existing = None
        wanted = name_key(description)
        for commitment in engagement.commitments.all():
            if name_key(commitment.description) == wanted:
                existing = commitment
                break
        if existing is None:
            if "partner" not in data:
                partners = list(engagement.partners.all())
                if len(partners) == 1:
                    data["partner"] = partners[0]
            if not self.allowed("engagements.add_commitment"):
                self.deny("commitment_description", "you may not add commitments.")
            commitment = engagement_services.commitment_create(actor=self.actor, engagement=engagement, **data)
            return ("commitment", "created", commitment.description[:80])
        changes = _diff(existing, data)
        if not changes:
            return ("commitment", "unchanged", existing.description[:80])
        if not self.allowed("engagements.change_commitment"):
            self.deny("commitment_description", "you may not change commitments.")
        engagement_services.commitment_update(commitment=existing, actor=self.actor, **changes)
        return ("commitment", "updated", existing.description[:80])


IMPORTERS = {"partners": PartnerImporter, "contacts": ContactImporter, "engagements": EngagementImporter}
# Model field names of a commitment, as the service's errors name them, back to their columns.
COMMITMENT_ERROR_FIELDS = {
    "description": "commitment_description",
    "due_date": "commitment_due_date",
    "made_by": "commitment_made_by",
    "owner": "commitment_owner",
    "status": "commitment_status",
    "priority": "commitment_priority",
    "partner": "commitment_partner",
    "completed_on": "commitment_status",
}


def validation_errors(exc: ValidationError, kind: str, in_commitment: bool) -> list[tuple[str, str]]:
    if not hasattr(exc, "error_dict"):
        return [("", " ".join(exc.messages))]
    errors = []
    for name, messages in exc.message_dict.items():
        if in_commitment:
            name = COMMITMENT_ERROR_FIELDS.get(name, name)
        if name.startswith("commitments["):
            name = "commitment_description"
        errors.append(("" if name == "__all__" else name, " ".join(messages)))
    return errors
