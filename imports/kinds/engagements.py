"""Engagements with commitments.

Natural keys: an engagement is its external_id when given, else its title
(matching rule in base.py) at the same start instant; a commitment is its
engagement + description. Rows that repeat an engagement add commitments;
their other engagement cells must be empty or equal to the first row's.
"""

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import DatabaseError
from django.utils import timezone

from diplomacy_crm.officetime import zone_or_none
from engagements.models import Commitment, Confidentiality, Engagement
from engagements.services import _check_attendees, _completion, _keep_author_in_the_room
from partners.models import Contact, Partner

from ..importer import (
    ENGAGEMENT_FIELDS,
    ENGAGEMENT_HAS_EXTERNAL_ID,
    RowInvalid,
    _as_text,
    parse_bool,
    parse_date,
    parse_datetime,
    parse_end_datetime,
    parse_priority,
)
from ..lookups import ContactIndex, Lookups, PartnerIndex
from ..text import name_key
from .base import BaseImporter, Cells, NameIndex, chunks, diff, parse_choice

ENGAGEMENT_COLUMNS = [f.name for f in ENGAGEMENT_FIELDS if not f.name.startswith("commitment_")]
M2M = ("partners", "contacts", "staff", "topics")


def _zone(cells: Cells, *, report: bool = False):
    """The row's time zone (field `venue_timezone`, label "Time zone": an IANA name), or None: the office's.

    Times without an offset are read on its clock and a date-alone end is the end of that day there.
    `report` adds the error for a name zoneinfo does not know (once per row).
    """
    name = cells.text("venue_timezone")
    if name is None:
        return None
    zone = zone_or_none(name.strip())
    if zone is None and report:
        cells.errors.append(("venue_timezone", f"“{name.strip()[:60]}” is not a time zone: give its IANA name, "
                                          "e.g. Europe/Rome or Asia/Tokyo."))
    return zone


class EngagementImporter(BaseImporter):
    record = "engagement"

    def __init__(self, actor, options):
        super().__init__(actor, options)
        self.partners = PartnerIndex()
        self.contacts = ContactIndex()
        self.lookups = Lookups()
        self.names = NameIndex()  # scope: starts_at
        self.spellings: dict = {}
        self.by_external: dict = {}
        self.partner_objects: dict[int, Partner] = {}
        self.contact_objects: dict[int, Contact] = {}
        self.commitments: dict = {}  # id(engagement) -> list of its commitments (loaded and queued)
        # id(engagement) → (engagement, first row number, that row's values)
        self.seen: dict[int, tuple[Engagement, int, dict]] = {}
        self.seen_keys: set[tuple[str, dt.datetime]] = set()
        self.failed: dict[tuple[str, dt.datetime], int] = {}  # engagements whose first row failed
        self.today = timezone.localdate()
        self.m2m_ids: dict = {}

    def _spelling(self, ref):
        return self.spellings[id(ref)]

    def _index(self, engagement):
        self.spellings[id(engagement)] = engagement.title
        self.names.add(engagement.starts_at, engagement.title, engagement)
        if ENGAGEMENT_HAS_EXTERNAL_ID and engagement.external_id:
            self.by_external[engagement.external_id] = engagement

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

    def prepare(self, rows):
        starts, externals, partner_refs, contact_refs = set(), set(), set(), set()
        for values in rows:
            cells = Cells(values)
            start = cells.typed("starts_at", parse_datetime, _zone(cells))
            title = cells.text("title")
            if start is not None:
                starts.add(start)
                if title:
                    self.names.in_file(start, title)
            if ENGAGEMENT_HAS_EXTERNAL_ID and cells.text("external_id"):
                externals.add(cells.text("external_id"))
            for name, into in (("partners", partner_refs), ("commitment_partner", partner_refs)):
                for ref in cells.each(name, self._try_partner, commas=False) or []:
                    if ref is not None:
                        into.add(ref)
        for chunk in chunks(partner_refs):
            self.partner_objects.update((p.pk, p) for p in Partner.objects.filter(pk__in=chunk))
        found = {}
        for chunk in chunks(starts):
            found.update((e.pk, e) for e in self._candidates().filter(starts_at__in=chunk))
        for chunk in chunks(externals):
            found.update((e.pk, e) for e in self._candidates().filter(external_id__in=chunk))
        # Their links and commitments: one query per relation and thousand engagements, no per-record querysets.
        self.m2m_ids = {pk: {name: set() for name in M2M} for pk in found}
        commitments: dict[int, list] = {pk: [] for pk in found}
        for chunk in chunks(found):
            for name in M2M:
                field = Engagement._meta.get_field(name)
                source, target = f"{field.m2m_field_name()}_id", f"{field.m2m_reverse_field_name()}_id"
                for pk, other in field.remote_field.through.objects.filter(**{f"{source}__in": chunk}).values_list(
                    source, target
                ):
                    self.m2m_ids[pk][name].add(other)
            for commitment in Commitment.objects.filter(engagement_id__in=chunk).order_by("pk"):
                commitments[commitment.engagement_id].append(commitment)
        for engagement in sorted(found.values(), key=lambda e: e.pk):
            self._index(engagement)
            self.commitments[id(engagement)] = commitments[engagement.pk]
        del contact_refs

    def _try_partner(self, ref):
        try:
            return self.partners.resolve(ref)
        except ValueError:
            return None

    def _partner(self, pk: int) -> Partner:
        if pk not in self.partner_objects:
            self.partner_objects[pk] = Partner.objects.get(pk=pk)
        return self.partner_objects[pk]

    def _contact(self, pk: int) -> Contact:
        if pk not in self.contact_objects:
            missing = [pk]
            self.contact_objects.update((c.pk, c) for c in Contact.objects.filter(pk__in=missing))
        return self.contact_objects[pk]

    def import_row(self, number: int, cells: Cells):
        title = cells.text("title")
        if title is None:
            cells.errors.append(("title", "an engagement needs a title."))
        starts_at = cells.typed("starts_at", parse_datetime, _zone(cells, report=True))
        if starts_at is None and not any(f == "starts_at" for f, _ in cells.errors):
            cells.errors.append(("starts_at", "an engagement needs a start (starts_at)."))
        if cells.errors:
            cells.check()
        key = (title, starts_at)
        if key in self.failed:
            # The row that gives this engagement is wrong and reported; check only this row's commitment.
            if cells.has("commitment_description"):
                self._commitment_data(cells)
            return []
        try:
            return self._import_row(number, cells, key, title, starts_at)
        except (RowInvalid, ValidationError, DatabaseError):
            if key not in self.seen_keys:
                self.failed[key] = number
            raise

    def _import_row(self, number, cells, key, title, starts_at):
        outcomes = []
        commitment = self._commitment_data(cells) if cells.has("commitment_description") else None
        external_id = cells.text("external_id") if ENGAGEMENT_HAS_EXTERNAL_ID else None
        matched = self._match({"title": title, "starts_at": starts_at, "external_id": external_id})
        if matched is not None and id(matched) in self.seen:
            engagement, first_row, first_values = self.seen[id(matched)]
            for name in ENGAGEMENT_COLUMNS:
                if name not in ("title", "starts_at") and cells.has(name) and _as_text(cells.values.get(name)) != _as_text(first_values.get(name)):
                    cells.errors.append((name, f"differs from row {first_row}, which gives this engagement; leave it "
                                               "empty or repeat the same value."))
            cells.check()
            pending = None
        else:
            engagement, action, pending = self._engagement(cells, title, starts_at)
            outcomes.append((self.record, action, engagement.title))
        if commitment is not None:
            outcomes.append(self._commitment(commitment, engagement, pending))
        elif not outcomes:
            outcomes.append((self.record, "unchanged", engagement.title))
        if pending is not None:
            self.write(engagement, pending[0], new=pending[1], m2m_names=M2M, validated=True)  # by _try_clean
            if pending[1]:
                self._index(engagement)
                self.commitments[id(engagement)] = []
        for write in getattr(self, "_commitment_write", []):
            self.write(*write[0], **write[1], validated=True)
            self.commitments.setdefault(id(engagement), []).append(write[0][0]) if write[1]["new"] else None
        self._commitment_write = []
        self.seen.setdefault(id(engagement), (engagement, number, dict(cells.values)))
        self.seen_keys.add(key)
        return outcomes

    def _engagement(self, cells: Cells, title: str, starts_at):
        """(engagement, action, (data to write, is new) or None); nothing queued yet."""
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
        zone = _zone(cells)
        if zone is not None:
            data["venue_timezone"] = zone.key
        ends_at = cells.typed("ends_at", parse_end_datetime, zone)
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
            data["partners"] = [self._partner(pk) for pk in partner_ids]
        contact_ids = cells.each("contacts", lambda ref: self.contacts.resolve(ref, set(partner_ids or [])), commas=False)
        if contact_ids is not None:
            data["contacts"] = [self._contact(pk) for pk in contact_ids]
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
            engagement = Engagement()
            data.setdefault("owner", self.actor if getattr(self.actor, "is_authenticated", False) else None)
            fields, m2m = _split(data)
            _check_attendees(engagement, m2m)
            _keep_author_in_the_room(self.actor, fields, m2m, engagement)
            _try_clean(engagement, {**fields})
            return engagement, "created", ({**fields, **m2m}, True)
        changes = diff(existing, data, self.m2m_ids)
        if not changes:
            return existing, "unchanged", None
        if not self.allowed("engagements.change_engagement"):
            self.deny("", f"this would change engagement #{existing.pk}; you may not change engagements.")
        fields, m2m = _split(changes)
        _check_attendees(existing, m2m)
        _keep_author_in_the_room(self.actor, fields, m2m, existing)
        _try_clean(existing, fields)
        return existing, "updated", ({**fields, **m2m}, False)

    def _match(self, data) -> Engagement | None:
        if ENGAGEMENT_HAS_EXTERNAL_ID and data.get("external_id") and data["external_id"] in self.by_external:
            return self.by_external[data["external_id"]]
        try:
            return self.names.match(data["starts_at"], data["title"], self._spelling, "engagement at this start")
        except ValueError as exc:
            raise RowInvalid([("title", str(exc))]) from None

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
            data["partner"] = self._partner(partner_id)
        return data

    def _commitment(self, data: dict, engagement: Engagement, pending):
        """The commitment's outcome; its write is queued with the engagement's, once the whole row stands."""
        self._commitment_write = []
        description = data["description"]
        known = self.commitments.get(id(engagement), [])
        existing = next((c for c in known if c.description == description), None)
        if existing is None:
            folded = [c for c in known if name_key(c.description) == name_key(description)]
            existing = folded[0] if len(folded) == 1 else None
        if existing is None:
            if "partner" not in data:
                if pending and "partners" in pending[0]:
                    partners = pending[0]["partners"]
                elif engagement.pk:
                    partners = list(engagement.partners.all())
                else:  # queued by an earlier row of this file
                    queued = self.queued.get(Engagement, {}).get(id(engagement))
                    partners = (queued.m2m.get("partners") if queued else None) or []
                if partners is not None and len(partners) == 1:
                    data["partner"] = partners[0]
            if not self.allowed("engagements.add_commitment"):
                self.deny("commitment_description", "you may not add commitments.")
            commitment = Commitment()
            data["engagement"] = engagement
            _completion(data, commitment, self.today)
            data.setdefault("owner", self.actor if getattr(self.actor, "is_authenticated", False) else None)
            _try_clean(commitment, data, commitment=True)
            self._commitment_write = [((commitment, data), {"new": True})]
            return ("commitment", "created", description[:80])
        if existing.pk is None:
            raise RowInvalid([("commitment_description", "this commitment is given twice for one engagement.")])
        changes = diff(existing, data)
        if not changes:
            return ("commitment", "unchanged", existing.description[:80])
        if not self.allowed("engagements.change_commitment"):
            self.deny("commitment_description", "you may not change commitments.")
        _completion(changes, existing, self.today)
        _try_clean(existing, changes, commitment=True)
        self._commitment_write = [((existing, changes), {"new": False})]
        return ("commitment", "updated", existing.description[:80])


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


def _split(data):
    return ({k: v for k, v in data.items() if k not in M2M}, {k: v for k, v in data.items() if k in M2M})


def _try_clean(instance, data, *, commitment=False):
    """Validate a copy of `instance` with `data`, so that a bad row changes nothing in memory."""
    import copy

    from diplomacy_crm.bulk import validate

    probe = copy.copy(instance)
    probe._state = copy.copy(instance._state)
    for name, value in data.items():
        if name not in M2M:
            setattr(probe, name, value)
    try:
        validate(probe, exclude=M2M if not commitment else ())
    except ValidationError as exc:
        if commitment and hasattr(exc, "error_dict"):
            raise ValidationError({COMMITMENT_ERROR_FIELDS.get(k, k): v for k, v in exc.error_dict.items()}) from None
        raise
