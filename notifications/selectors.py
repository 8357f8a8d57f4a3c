"""Reads: which reminders are due now, and who may see what.

Choosing what is due is a fixed handful of indexed queries whatever the
number of items (P8): open commitments through the partial index
`commitment_open_due`, follow-ups through `engagement_follow_up`, agreements
through their date indexes. Whether an owner may see a restricted engagement
is annotated on the same rows (EXISTS); the digest applies the same rule in
Python over two set-based lookups (`Visibility`). Both follow
`Engagement.objects.visible_to` and `accounts.roles.sees_all_restricted`.
"""

import datetime as dt
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.db.models import Exists, OuterRef, Q

from accounts.roles import OFFICER
from engagements.models import Commitment, Engagement
from partners.models import Agreement

from .links import absolute_url, site_url
from .models import OutboxMessage
from .periods import human_date, iso_week, office_today

Kind = OutboxMessage.Kind

# Profile.reminder_lead_days is constrained to 1..60: the scan window.
MAX_LEAD_DAYS = 60
DEFAULT_LEAD_DAYS = 7
# A follow-up date up to this many days past still reminds (a weekend of downtime loses nothing).
FOLLOW_UP_GRACE_DAYS = 6
AGREEMENT_WINDOWS = (90, 30)


@dataclass
class Outgoing:
    """An email to write to the outbox (not yet a row)."""

    kind: str
    recipient_id: int
    to_email: str
    subject_type: str
    subject_id: int | None
    period: str
    summary: str
    context: dict = field(default_factory=dict)

    @property
    def key(self) -> str:
        return OutboxMessage.make_key(
            kind=self.kind,
            subject_type=self.subject_type,
            subject_id=self.subject_id,
            period=self.period,
            recipient_id=self.recipient_id,
        )


# --- visibility, set-based ---------------------------------------------------


def officer_ids(user_ids) -> set[int]:
    """Active superusers and officers among `user_ids`, in one query."""
    User = get_user_model()
    return set(
        User.objects.filter(pk__in=list(user_ids), is_active=True)
        .filter(Q(is_superuser=True) | Q(groups__name=OFFICER))
        .values_list("pk", flat=True)
    )


def participants_of(engagement_ids) -> dict[int, set[int]]:
    """{engagement id: user ids who took part}, in one query."""
    through = Engagement.staff.through
    result: dict[int, set[int]] = {}
    for engagement_id, user_id in through.objects.filter(engagement_id__in=list(engagement_ids)).values_list(
        "engagement_id", "user_id"
    ):
        result.setdefault(engagement_id, set()).add(user_id)
    return result


@dataclass
class Visibility:
    """The restricted-engagement rule, applied in Python over prefetched sets."""

    officers: set[int]
    restricted: set[int]  # ids of restricted engagements involved
    participants: dict[int, set[int]]

    def sees_engagement(self, user_id: int, engagement_id: int | None) -> bool:
        if engagement_id is None or engagement_id not in self.restricted:
            return True
        return user_id in self.officers or user_id in self.participants.get(engagement_id, ())


# --- reminders -----------------------------------------------------------------


def _lead_days(user) -> int:
    profile = getattr(user, "profile", None)
    return profile.reminder_lead_days if profile else DEFAULT_LEAD_DAYS


def _first_name(user) -> str:
    return user.first_name or user.get_username()


def _commitment_reminder(commitment: Commitment, today: dt.date) -> Outgoing | None:
    owner = commitment.owner
    days = (commitment.due_date - today).days
    if days < 0:
        # Overdue: once per office-time ISO week until done or dropped.
        kind, period = Kind.COMMITMENT_OVERDUE, iso_week(today)
        headline = f"Overdue by {-days} day{'s' if days != -1 else ''}"
    elif days == 0:
        kind, period = Kind.COMMITMENT_DUE_TODAY, commitment.due_date.isoformat()
        headline = "Due today"
    elif days <= _lead_days(owner):
        # Once per due date: moving the due date gives a new reminder.
        kind, period = Kind.COMMITMENT_DUE_SOON, commitment.due_date.isoformat()
        headline = f"Due in {days} day{'s' if days != 1 else ''}"
    else:
        return None
    description = commitment.description
    return Outgoing(
        kind=kind,
        recipient_id=owner.pk,
        to_email=owner.email,
        subject_type="commitment",
        subject_id=commitment.pk,
        period=period,
        summary=f"{headline}: {description[:200]}",
        context={
            "first_name": _first_name(owner),
            "headline": headline,
            "description": description,
            "due_date": human_date(commitment.due_date),
            "status": commitment.get_status_display(),
            "partner": commitment.partner.name if commitment.partner_id else "",
            "engagement": commitment.engagement.title if commitment.engagement_id else "",
            "url": absolute_url(commitment, "commitment"),
            "list_url": site_url("/commitments/"),
            "preferences_url": site_url("/accounts/preferences/"),
        },
    )


def _follow_up_reminder(engagement: Engagement, today: dt.date) -> Outgoing:
    owner = engagement.owner
    days = (today - engagement.follow_up_by).days
    headline = "Follow-up due today" if days == 0 else f"Follow-up was due {days} day{'s' if days != 1 else ''} ago"
    return Outgoing(
        kind=Kind.ENGAGEMENT_FOLLOW_UP,
        recipient_id=owner.pk,
        to_email=owner.email,
        subject_type="engagement",
        subject_id=engagement.pk,
        period=engagement.follow_up_by.isoformat(),
        summary=f"{headline}: {engagement.title[:200]}",
        context={
            "first_name": _first_name(owner),
            "headline": headline,
            "title": engagement.title,
            "follow_up_by": human_date(engagement.follow_up_by),
            "held_on": human_date(engagement.starts_at.date()),
            "partners": ", ".join(p.name for p in engagement.partners.all()),
            "url": absolute_url(engagement, "engagement"),
            "preferences_url": site_url("/accounts/preferences/"),
        },
    )


def _agreement_reminders(agreement: Agreement, today: dt.date) -> list[Outgoing]:
    owner = agreement.owner
    found = []
    for kind, label, day in (
        (Kind.AGREEMENT_EXPIRES, "expires", agreement.expires_on),
        (Kind.AGREEMENT_NOTICE, "notice is due", agreement.notice_by),
    ):
        if day is None:
            continue
        days = (day - today).days
        if days < 0 or days > AGREEMENT_WINDOWS[0]:
            continue
        # Only the narrowest window that applies: a record created 20 days
        # ahead gets the 30-day reminder, not both at once.
        window = min(w for w in AGREEMENT_WINDOWS if days <= w)
        headline = f"{label.capitalize()} in {days} day{'s' if days != 1 else ''}"
        found.append(
            Outgoing(
                kind=kind,
                recipient_id=owner.pk,
                to_email=owner.email,
                subject_type="agreement",
                subject_id=agreement.pk,
                period=f"{day.isoformat()}/{window}d",
                summary=f"{headline}: {agreement.title[:200]}",
                context={
                    "first_name": _first_name(owner),
                    "headline": headline,
                    "what": label,
                    "title": agreement.title,
                    "agreement_kind": agreement.get_kind_display(),
                    "date": human_date(day),
                    "days": days,
                    "window": window,
                    "partners": ", ".join(p.name for p in agreement.partners.all()),
                    "url": absolute_url(agreement, "agreement"),
                    "preferences_url": site_url("/accounts/preferences/"),
                },
            )
        )
    return found


def _owner_sees(owner_ref: str, engagement_ref: str) -> dict:
    """Annotations: the owner is an officer, or took part in the engagement (no extra query)."""
    User = get_user_model()
    return {
        "owner_is_officer": Exists(
            User.groups.through.objects.filter(user_id=OuterRef(owner_ref), group__name=OFFICER)
        ),
        "owner_took_part": Exists(
            Engagement.staff.through.objects.filter(engagement_id=OuterRef(engagement_ref), user_id=OuterRef(owner_ref))
        ),
    }


def _owner_may_see(record, restricted: bool) -> bool:
    # The rule of Engagement.objects.visible_to, from the annotations above.
    return not restricted or record.owner.is_superuser or record.owner_is_officer or record.owner_took_part


def due_commitments(today: dt.date):
    """Open commitments due within the widest lead time, or overdue, with an owner who can get mail.

    Served by the partial index commitment_open_due (status open/in progress, due_date range).
    """
    return (
        Commitment.objects.open()
        .filter(due_date__lte=today + dt.timedelta(days=MAX_LEAD_DAYS), owner__is_active=True)
        .exclude(owner__email="")
        .select_related("owner__profile", "partner", "engagement")
        .annotate(**_owner_sees("owner_id", "engagement_id"))
        .order_by("due_date", "id")
    )


def due_follow_ups(today: dt.date):
    return (
        Engagement.objects.exclude(status=Engagement.Status.CANCELLED)
        .filter(
            follow_up_by__gte=today - dt.timedelta(days=FOLLOW_UP_GRACE_DAYS),
            follow_up_by__lte=today,
            owner__is_active=True,
        )
        .exclude(owner__email="")
        .select_related("owner")
        .annotate(**_owner_sees("owner_id", "pk"))
        .prefetch_related("partners")
    )


def due_agreements(today: dt.date):
    horizon = today + dt.timedelta(days=AGREEMENT_WINDOWS[0])
    return (
        Agreement.objects.filter(status=Agreement.Status.IN_FORCE, owner__is_active=True)
        .filter(Q(expires_on__range=(today, horizon)) | Q(notice_by__range=(today, horizon)))
        .exclude(owner__email="")
        .select_related("owner")
        .prefetch_related("partners")
    )


def due_reminders(*, now: dt.datetime) -> list[Outgoing]:
    """Every reminder due at `now` (office time), for owners allowed to see the record.

    At most 5 queries whatever the number of items: commitments, follow-ups
    (+ their partners), agreements (+ their partners). Whether an owner may
    see a restricted engagement comes from annotations on the same rows.
    """
    today = office_today(now)
    found: list[Outgoing] = []
    for commitment in due_commitments(today):
        restricted = commitment.engagement_id is not None and commitment.engagement.is_restricted
        # An owner who may not see the restricted meeting gets no email about it.
        if not _owner_may_see(commitment, restricted):
            continue
        reminder = _commitment_reminder(commitment, today)
        if reminder:
            found.append(reminder)
    for engagement in due_follow_ups(today):
        if _owner_may_see(engagement, engagement.is_restricted):
            found.append(_follow_up_reminder(engagement, today))
    for agreement in due_agreements(today):
        found.extend(_agreement_reminders(agreement, today))
    return found
