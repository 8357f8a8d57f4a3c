"""Writes for engagements, missions, commitments and gifts.

The quick-logging form, the edit pages, the API and the importer call these,
so the rules (dates, attendees from the partners present, a done commitment's
completion date) are enforced in one place.

Each service takes keyword-only arguments typed by a TypedDict
(`EngagementFields` …, PEP 692); a name it does not declare is a TypeError
(`record_arguments`).
"""

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal
from typing import Unpack

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from accounts import access
from diplomacy_crm.services import RecordFields, record_arguments, save_record
from partners import services as partner_services
from partners.models import Contact, Partner, Topic

from .models import Commitment, Engagement, Gift, TradeMission

ENGAGEMENT_M2M = ("partners", "contacts", "staff", "topics")
MISSION_M2M = ("delegates", "partners")


class EngagementFields(RecordFields, total=False):
    title: str
    kind: str  # Engagement.Kind
    status: str  # Engagement.Status
    starts_at: dt.datetime
    ends_at: dt.datetime | None
    location: str
    venue_timezone: str  # an IANA name, or "" for the office's zone
    is_virtual: bool
    city_officials: str
    trade_mission: TradeMission | None
    summary: str
    outcomes: str
    confidentiality: str  # Engagement.Confidentiality
    follow_up_by: dt.date | None
    owner: AbstractBaseUser | None
    partners: Iterable[Partner]
    contacts: Iterable[Contact]
    staff: Iterable[AbstractBaseUser]
    topics: Iterable[Topic]
    ical_uid: str  # the calendar invitation's UID (engagements.invitations), "" for none
    ical_sequence: int
    ical_dtstamp: dt.datetime | None


class CommitmentFields(RecordFields, total=False):
    description: str
    made_by: str  # Commitment.MadeBy
    partner: Partner | None
    engagement: Engagement | None
    trade_mission: TradeMission | None
    owner: AbstractBaseUser | None
    due_date: dt.date | None
    status: str  # Commitment.Status
    completed_on: dt.date | None
    priority: int


class TradeMissionFields(RecordFields, total=False):
    name: str
    direction: str  # TradeMission.Direction
    countries: list[str]  # ISO 3166-1 alpha-2 codes
    cities: str
    start_date: dt.date
    end_date: dt.date
    lead: str
    owner: AbstractBaseUser | None
    objectives: str
    outcomes: str
    status: str  # TradeMission.Status
    delegates: Iterable[Contact]
    partners: Iterable[Partner]


class GiftFields(RecordFields, total=False):
    engagement: Engagement | None
    direction: str  # Gift.Direction
    exchanged_on: dt.date
    giver: str
    recipient: str
    partner: Partner | None
    description: str
    estimated_value: Decimal | None
    currency: str  # ISO 4217
    disposition: str  # Gift.Disposition


def _check_attendees(engagement: Engagement, m2m: dict) -> None:
    """Attendees must be people of the partners present."""
    partners = m2m.get("partners")
    contacts = m2m.get("contacts")
    if partners is None:
        partners = list(engagement.partners.all()) if engagement.pk else []
    if contacts is None:
        return
    partner_ids = {getattr(p, "pk", p) for p in partners}
    strangers = [c for c in contacts if c.partner_id not in partner_ids]
    if strangers:
        names = ", ".join(str(c) for c in strangers[:5])
        raise ValidationError({"contacts": f"Not from a partner of this engagement: {names}. Add their partner first."})


def _keep_author_in_the_room(actor, fields: dict, m2m: dict, engagement: Engagement) -> None:
    """A staff member who logs a restricted meeting must not lock themselves out of it."""
    restricted = access.is_restricted(fields.get("confidentiality", engagement.confidentiality))
    if not restricted or actor is None or access.sees_all_restricted(actor):
        return
    staff = m2m.get("staff")
    if staff is None:
        staff = list(engagement.staff.all()) if engagement.pk else []
    if actor.pk not in {u.pk for u in staff}:
        m2m["staff"] = [*staff, actor]


# A new contact's `partner` when they work for the partner added inline with them (new_partners[0]).
NEW_PARTNER = "new"
WHICH_PARTNER = "Say which of the meeting's partners they work for."


def _create_new_contacts(actor, new_contacts: Iterable[dict], present: list, created: list) -> list[Contact]:
    """The people added inline on the meeting form, created with their history; errors keyed by row."""
    people = []
    for index, item in enumerate(new_contacts):
        item = dict(item)
        partner = item.pop("partner", None)
        if partner == NEW_PARTNER:
            partner = created[0] if created else None
        elif partner is None and len(present) == 1:
            partner = present[0]  # the meeting's only partner
        try:
            if partner is None:
                raise ValidationError({"partner": WHICH_PARTNER})
            people.append(partner_services.contact_create(actor=actor, partner=partner, **item))
        except ValidationError as exc:
            raise ValidationError({f"new_contacts[{index}]": exc.messages}) from exc
    return people


@transaction.atomic
def engagement_create(
    *,
    actor,
    commitments: Iterable[CommitmentFields] = (),
    new_partners: Iterable[dict] = (),
    new_contacts: Iterable[dict] = (),
    **data: Unpack[EngagementFields],
) -> Engagement:
    """Log an engagement, with commitments made there, all or nothing.

    `new_partners`: partners added inline on the meeting form (their fields, as
    QuickPartnerForm cleans them); `new_contacts`: people added inline (their
    fields, as NewContactForm cleans them, `partner` a Partner present, NEW_PARTNER
    for the partner added with them, or None for the meeting's only partner).
    Both are created here, with their history, in the same transaction, and take
    part in the meeting, so an abandoned or refused meeting leaves none behind.
    """
    fields, m2m = record_arguments(data, EngagementFields, ENGAGEMENT_M2M)
    created = []
    for item in new_partners:
        try:
            created.append(partner_services.partner_create(actor=actor, **item))
        except ValidationError as exc:
            raise ValidationError({"new_partners": exc.messages}) from exc
    if created:
        m2m["partners"] = [*(m2m.get("partners") or []), *created]
    people = _create_new_contacts(actor, new_contacts, list(m2m.get("partners") or []), created)
    if people:
        m2m["contacts"] = [*(m2m.get("contacts") or []), *people]
    fields.setdefault("owner", actor if getattr(actor, "is_authenticated", False) else None)
    engagement = Engagement()
    _check_attendees(engagement, m2m)
    _keep_author_in_the_room(actor, fields, m2m, engagement)
    save_record(engagement, actor=actor, fields=fields, m2m=m2m)
    partners = list(engagement.partners.all())
    for index, item in enumerate(commitments):
        item = dict(item)
        if not item.get("partner") and len(partners) == 1:
            item["partner"] = partners[0]
        try:
            commitment_create(actor=actor, engagement=engagement, **item)
        except ValidationError as exc:
            # Say which inline commitment is wrong; the whole log is rolled back.
            raise ValidationError({f"commitments[{index}]": exc.messages}) from exc
    return engagement


@transaction.atomic
def engagement_update(*, engagement: Engagement, actor, **data: Unpack[EngagementFields]) -> Engagement:
    fields, m2m = record_arguments(data, EngagementFields, ENGAGEMENT_M2M)
    _check_attendees(engagement, m2m)
    _keep_author_in_the_room(actor, fields, m2m, engagement)
    return save_record(engagement, actor=actor, fields=fields, m2m=m2m)


def _completion(fields: dict, commitment: Commitment, today) -> None:
    status = fields.get("status", commitment.status)
    if status == Commitment.Status.DONE:
        if not fields.get("completed_on") and not commitment.completed_on:
            fields["completed_on"] = today
    elif "status" in fields and "completed_on" not in fields:
        # Reopened or dropped: it was not completed.
        fields["completed_on"] = None


NO_DUE_DATE = "Give a due date, or say there is none (“No due date”)."


@transaction.atomic
def commitment_create(
    *, actor, now: dt.datetime | None = None, no_due_date: bool | None = None, **data: Unpack[CommitmentFields]
) -> Commitment:
    """Record a promise. `no_due_date`: False when the caller asks for the explicit choice (the forms),
    so a missing date is refused unless it is True; None (API, importer) keeps "no date" as null."""
    fields, _ = record_arguments(data, CommitmentFields)
    if no_due_date is False and not fields.get("due_date"):
        raise ValidationError({"due_date": NO_DUE_DATE})
    commitment = Commitment()
    _completion(fields, commitment, timezone.localdate(now))
    fields.setdefault("owner", actor if getattr(actor, "is_authenticated", False) else None)
    return save_record(commitment, actor=actor, fields=fields)


@transaction.atomic
def commitment_update(
    *, commitment: Commitment, actor, now: dt.datetime | None = None, no_due_date: bool | None = None,
    **data: Unpack[CommitmentFields],
) -> Commitment:
    """Change a promise; `no_due_date` as for commitment_create (the form: False unless ticked)."""
    fields, _ = record_arguments(data, CommitmentFields)
    if no_due_date is False and not fields.get("due_date", commitment.due_date):
        raise ValidationError({"due_date": NO_DUE_DATE})
    _completion(fields, commitment, timezone.localdate(now))
    return save_record(commitment, actor=actor, fields=fields)


DONE_NOTE_MAX = 80  # the note is kept in the history row's change reason (100 characters with its prefix)


@transaction.atomic
def commitment_mark_done(*, commitment: Commitment, user, note: str = "", version: int | None = None, now=None) -> bool:
    """Mark an open commitment done today, with an optional note kept in its history; True if this call did it.

    Idempotent: a commitment already done (a double click, a second tab, the email link opened twice) is left
    as it is and False returned, whatever `version` says. Otherwise `version`, when given, is the version the
    user saw: if the record changed since, EditConflict is raised and nothing is written (as for every edit).
    Refused (PermissionDenied) unless accounts.access.may_mark_done allows it.
    """
    if not access.may_mark_done(user, commitment):
        raise PermissionDenied("You may not change this commitment.")
    note = " ".join((note or "").split())
    if len(note) > DONE_NOTE_MAX:
        raise ValidationError({"note": f"Keep the note to {DONE_NOTE_MAX} characters (it has {len(note)})."})
    # Lock first: two clicks at once are served one after the other, and the second sees the first's write.
    current = Commitment.objects.select_for_update().only("status").get(pk=commitment.pk)
    if current.status == Commitment.Status.DONE:
        commitment.refresh_from_db()
        return False
    fields = {"status": Commitment.Status.DONE, "completed_on": timezone.localdate(now)}
    if version is not None:
        fields["version"] = version
    commitment._change_reason = f"Marked done: {note}" if note else "Marked done"
    save_record(commitment, actor=user, fields=fields)
    return True


@transaction.atomic
def trade_mission_create(*, actor, **data: Unpack[TradeMissionFields]) -> TradeMission:
    fields, m2m = record_arguments(data, TradeMissionFields, MISSION_M2M)
    return save_record(TradeMission(), actor=actor, fields=fields, m2m=m2m)


@transaction.atomic
def trade_mission_update(*, mission: TradeMission, actor, **data: Unpack[TradeMissionFields]) -> TradeMission:
    fields, m2m = record_arguments(data, TradeMissionFields, MISSION_M2M)
    return save_record(mission, actor=actor, fields=fields, m2m=m2m)


@transaction.atomic
def gift_create(*, actor, **data: Unpack[GiftFields]) -> Gift:
    fields, _ = record_arguments(data, GiftFields)
    return save_record(Gift(), actor=actor, fields=fields)


@transaction.atomic
def gift_update(*, gift: Gift, actor, **data: Unpack[GiftFields]) -> Gift:
    fields, _ = record_arguments(data, GiftFields)
    return save_record(gift, actor=actor, fields=fields)
