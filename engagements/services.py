"""Writes for engagements, missions, commitments and gifts.

The quick-logging form, the edit pages, the API and the importer call these,
so the rules (dates, attendees from the partners present, a done commitment's
completion date) are enforced in one place.
"""

from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from accounts import access
from diplomacy_crm.services import save_record, split_m2m
from partners import services as partner_services

from .models import Commitment, Engagement, Gift, TradeMission

ENGAGEMENT_M2M = ("partners", "contacts", "staff", "topics")
MISSION_M2M = ("delegates", "partners")


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


@transaction.atomic
def engagement_create(
    *, actor, commitments: Iterable[dict] = (), new_partners: Iterable[dict] = (), **data
) -> Engagement:
    """Log an engagement, with commitments made there, all or nothing.

    `new_partners`: partners added inline on the meeting form (their fields, as
    QuickPartnerForm cleans them), created here in the same transaction and
    present at the meeting, so an abandoned or refused meeting leaves none.
    """
    fields, m2m = split_m2m(data, ENGAGEMENT_M2M)
    created = []
    for item in new_partners:
        try:
            created.append(partner_services.partner_create(actor=actor, **item))
        except ValidationError as exc:
            raise ValidationError({"new_partners": exc.messages}) from exc
    if created:
        m2m["partners"] = [*(m2m.get("partners") or []), *created]
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
def engagement_update(*, engagement: Engagement, actor, **data) -> Engagement:
    fields, m2m = split_m2m(data, ENGAGEMENT_M2M)
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
def commitment_create(*, actor, now=None, no_due_date: bool | None = None, **data) -> Commitment:
    """Record a promise. `no_due_date`: False when the caller asks for the explicit choice (the forms),
    so a missing date is refused unless it is True; None (API, importer) keeps "no date" as null."""
    if no_due_date is False and not data.get("due_date"):
        raise ValidationError({"due_date": NO_DUE_DATE})
    commitment = Commitment()
    _completion(data, commitment, timezone.localdate(now))
    data.setdefault("owner", actor if getattr(actor, "is_authenticated", False) else None)
    return save_record(commitment, actor=actor, fields=data)


@transaction.atomic
def commitment_update(*, commitment: Commitment, actor, now=None, **data) -> Commitment:
    _completion(data, commitment, timezone.localdate(now))
    return save_record(commitment, actor=actor, fields=data)


@transaction.atomic
def trade_mission_create(*, actor, **data) -> TradeMission:
    fields, m2m = split_m2m(data, MISSION_M2M)
    return save_record(TradeMission(), actor=actor, fields=fields, m2m=m2m)


@transaction.atomic
def trade_mission_update(*, mission: TradeMission, actor, **data) -> TradeMission:
    fields, m2m = split_m2m(data, MISSION_M2M)
    return save_record(mission, actor=actor, fields=fields, m2m=m2m)


@transaction.atomic
def gift_create(*, actor, **data) -> Gift:
    return save_record(Gift(), actor=actor, fields=data)


@transaction.atomic
def gift_update(*, gift: Gift, actor, **data) -> Gift:
    return save_record(gift, actor=actor, fields=data)
