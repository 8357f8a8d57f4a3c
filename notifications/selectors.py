"""Reads: which reminders are due now, and who may see what.

Commitment reminders, for the owner (active, with an email) of an open or
in-progress commitment with a due date D:
- "due soon" on D minus the owner's lead time (Profile.reminder_lead_days,
  default 7), once per due date;
- "due today" on D;
- "overdue" on D+7, D+14, ... D+56 (weekly for OVERDUE_REMINDER_WEEKS = 8
  weeks); after that the weekly digest and the commitments page list it.
Moving the due date starts a new schedule (the outbox period names the due
date). Each reminder has its own outbox key (kind, commitment, period, owner),
so however often the hourly scan runs, each goes out once.

Missed runs: the scan covers every date since the last scan that committed
(`ReminderScan`, written in the same transaction as the outbox rows), not just
today, so a weekend of downtime (or a scan that rolled back) loses nothing:
the Monday scan sends what fell due on Saturday and Sunday. A commitment with
several reminders in that window gets only the latest (after ten days down, one
"overdue" mail, not a "due today" and an "overdue"). The catch-up reaches back
at most MAX_CATCH_UP_DAYS (14); a first scan ever, FIRST_SCAN_CATCH_UP_DAYS (6).
A commitment created after its lead time has passed gets no "due soon" (unless
within that window); its due day still reminds.

Cost (P6, P8): in the hourly steady state the scan reads a short list of exact
due dates (today, today + each owner lead time in use, today - 7k) through the
partial index `commitment_open_due`, with no join; the few hits then get their
partner, engagement and the owner's right to see it in one query by primary
key. Follow-ups (FOLLOW_UP_GRACE_DAYS of grace) go through
`engagement_follow_up`, agreements through their date indexes; partner names
are aggregated in the same rows. Whether an owner may see a restricted
engagement follows `Engagement.objects.visible_to` and
`accounts.roles.sees_all_restricted`; the digest applies the same rule in
Python over two set-based lookups (`Visibility`).
"""

import datetime as dt
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models import Exists, OuterRef, Q, StringAgg, Subquery, Value
from django.db.models.functions import Coalesce

from accounts.roles import OFFICER
from engagements.models import Commitment, Confidentiality, Engagement
from partners.models import Agreement

from .links import absolute_url, site_url
from .models import OutboxMessage, ReminderScan
from .periods import human_date, office_today

Kind = OutboxMessage.Kind

DEFAULT_LEAD_DAYS = 7  # Profile.reminder_lead_days when a user has no profile (1..60)
# Overdue commitments are reminded weekly for this many weeks; then the weekly digest keeps listing them.
OVERDUE_REMINDER_WEEKS = 8
# Catch-up of the commitment scan: a first scan ever looks this many days back,
# a scan after downtime at most MAX_CATCH_UP_DAYS (see scan_since).
FIRST_SCAN_CATCH_UP_DAYS = 6
MAX_CATCH_UP_DAYS = 14
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


def _commitment_milestone(due: dt.date, lead: int, since: dt.date, today: dt.date) -> tuple[str, str] | None:
    """The latest reminder milestone of a commitment inside [since, today], as (kind, period), or None.

    Milestones: `lead` days before the due date (due soon), the due date
    (due today), then every 7 days after it for OVERDUE_REMINDER_WEEKS weeks
    (overdue). Each has its own outbox period, so each is sent at most once;
    when a catch-up window holds several, only the latest goes out.
    """
    overdue_days = (today - due).days
    if overdue_days >= 7:
        week = min(overdue_days // 7, OVERDUE_REMINDER_WEEKS)
        if due + dt.timedelta(days=7 * week) >= since:
            return Kind.COMMITMENT_OVERDUE, f"{due.isoformat()}/w{week}"
    if since <= due <= today:
        return Kind.COMMITMENT_DUE_TODAY, due.isoformat()
    if since <= due - dt.timedelta(days=lead) <= today < due:
        # Once per due date: moving the due date gives a new reminder.
        return Kind.COMMITMENT_DUE_SOON, due.isoformat()
    return None


def _commitment_reminder(row: "DueCommitment", owner: "ReminderOwner", kind: str, period: str, today: dt.date) -> Outgoing:
    days = (row.due_date - today).days
    if days < 0:
        headline = f"Overdue by {-days} day{'s' if days != -1 else ''}"
    elif days == 0:
        headline = "Due today"
    else:
        headline = f"Due in {days} day{'s' if days != 1 else ''}"
    return Outgoing(
        kind=kind,
        recipient_id=owner.pk,
        to_email=owner.email,
        subject_type="commitment",
        subject_id=row.pk,
        period=period,
        summary=f"{headline}: {row.description[:200]}",
        context={
            "first_name": owner.first_name or owner.username,
            "headline": headline,
            "description": row.description,
            "due_date": human_date(row.due_date),
            "status": Commitment.Status(row.status).label,
            "partner": row.partner_name or "",
            "engagement": row.engagement_title or "",
            "url": absolute_url(Commitment(pk=row.pk), "commitment"),
            "list_url": site_url("/commitments/"),
            "preferences_url": site_url("/accounts/preferences/"),
            "overdue_weeks": OVERDUE_REMINDER_WEEKS,
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
            "partners": engagement.partner_names or "",
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
                    "partners": agreement.partner_names or "",
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


def _partner_names(through, owner_field: str) -> Subquery:
    """The linked partners' names, comma-separated, in the same row (no prefetch query)."""
    # Alphabetical where the database can order an aggregate (PostgreSQL; SQLite >= 3.44).
    ordered = connection.features.supports_aggregate_order_by_clause
    return Subquery(
        through.objects.filter(**{owner_field: OuterRef("pk")})
        .order_by()
        .values(owner_field)
        .annotate(names=StringAgg("partner__name", Value(", "), order_by="partner__name" if ordered else None))
        .values("names")[:1]
    )


# --- commitment reminders: the scan ---------------------------------------------------


@dataclass(frozen=True)
class ReminderOwner:
    """A user who can get commitment reminders, with what the scan needs to know about them."""

    pk: int
    email: str
    first_name: str
    username: str
    lead_days: int
    sees_all_restricted: bool


@dataclass(frozen=True)
class DueCommitment:
    pk: int
    due_date: dt.date
    owner_id: int
    status: str
    description: str
    partner_name: str | None
    engagement_title: str | None
    restricted: bool
    owner_took_part: bool


def last_commitment_scan() -> dt.date | None:
    return ReminderScan.objects.filter(pk=ReminderScan.COMMITMENTS).values_list("last_scanned_on", flat=True).first()


def reminder_owners() -> tuple[dict[int, ReminderOwner], dt.date | None]:
    """Active users with an email (their lead time and whether they see every restricted record),
    and the office date of the last commitment scan: one query over the small users table."""
    User = get_user_model()
    rows = (
        User.objects.filter(is_active=True)
        .exclude(email="")
        .annotate(
            lead=Coalesce("profile__reminder_lead_days", Value(DEFAULT_LEAD_DAYS)),
            is_officer=Exists(User.groups.through.objects.filter(user_id=OuterRef("pk"), group__name=OFFICER)),
            last_scan=Subquery(
                ReminderScan.objects.filter(pk=ReminderScan.COMMITMENTS).values("last_scanned_on")[:1]
            ),
        )
        .values_list("pk", "email", "first_name", "username", "lead", "is_superuser", "is_officer", "last_scan")
    )
    owners, last_scan = {}, None
    for pk, email, first_name, username, lead, is_superuser, is_officer, last in rows:
        owners[pk] = ReminderOwner(pk, email, first_name, username, lead, bool(is_superuser or is_officer))
        last_scan = last
    return owners, last_scan


def scan_since(today: dt.date, last_scan: dt.date | None) -> dt.date:
    """First office date whose milestones this scan still covers.

    Normally the day of the previous scan (so a commitment added after the last
    scan of yesterday is still caught); after downtime, every day since, up to
    MAX_CATCH_UP_DAYS; with no record, FIRST_SCAN_CATCH_UP_DAYS.
    """
    if last_scan is None:
        return today - dt.timedelta(days=FIRST_SCAN_CATCH_UP_DAYS)
    return max(min(last_scan, today), today - dt.timedelta(days=MAX_CATCH_UP_DAYS))


def _due_dates(today: dt.date, since: dt.date, leads) -> list[dt.date]:
    """The due dates whose milestone falls in [since, today], in order.

    For each day d of the window: d itself (due today), d + each lead time in
    use (due soon), d - 7k for k = 1..OVERDUE_REMINDER_WEEKS (overdue). The
    hourly scan's window is one day: 1 + leads + 8 dates; the widest catch-up
    (MAX_CATCH_UP_DAYS) with every lead time 1..60 in use, about a thousand.
    """
    offsets = {0} | set(leads) | {-7 * week for week in range(1, OVERDUE_REMINDER_WEEKS + 1)}
    days = [since + dt.timedelta(days=n) for n in range((today - since).days + 1)]
    return sorted({day + dt.timedelta(days=offset) for day in days for offset in offsets})


def due_commitments(today: dt.date, *, since: dt.date | None = None, leads=None):
    """Open commitments with an owner whose due date puts a reminder milestone in [since, today].

    `since` defaults to `today` (the steady state of the hourly scan), `leads`
    to the lead times of active users (one small query). In the steady state
    that is a short list of exact due dates (today, today + each lead time,
    today - 7k for k = 1..OVERDUE_REMINDER_WEEKS), read through the partial
    index commitment_open_due, which also holds the owner; nothing else is
    joined, so the query touches only index pages (P6). Rows: (id, due_date, owner_id).
    """
    since = today if since is None else since
    if leads is None:
        leads = {owner.lead_days for owner in reminder_owners()[0].values()}
    # One list of exact dates (not ranges ORed together): PostgreSQL reads it as one
    # index-only scan of commitment_open_due, which carries the owner, in due-date order.
    return (
        Commitment.objects.open()
        .filter(due_date__in=_due_dates(today, since, leads or {DEFAULT_LEAD_DAYS}), owner__isnull=False)
        .order_by("due_date", "id")
        .values_list("id", "due_date", "owner_id")
    )


def commitment_details(ids) -> dict[int, DueCommitment]:
    """What a reminder says about each of a few commitments, and whether its owner may see its
    engagement: one query over those rows only (partner and engagement by primary key)."""
    rows = (
        Commitment.objects.filter(pk__in=list(ids))
        .annotate(
            owner_took_part=Exists(
                Engagement.staff.through.objects.filter(
                    engagement_id=OuterRef("engagement_id"), user_id=OuterRef("owner_id")
                )
            )
        )
        .values_list(
            "pk", "due_date", "owner_id", "status", "description", "partner__name", "engagement__title",
            "engagement__confidentiality", "owner_took_part",
        )
    )
    return {
        row[0]: DueCommitment(*row[:7], restricted=row[7] == Confidentiality.RESTRICTED, owner_took_part=bool(row[8]))
        for row in rows
    }


def due_commitment_reminders(today: dt.date) -> tuple[list[Outgoing], dt.date | None]:
    """The commitment reminders whose milestone fell since the last scan, and that scan's date.

    1-3 queries: owners (+ last scan), due commitments, details of the hits.
    """
    owners, last_scan = reminder_owners()
    if not owners:
        return [], last_scan
    since = scan_since(today, last_scan)
    hits: dict[int, tuple[str, str]] = {}
    for pk, due, owner_id in due_commitments(today, since=since, leads={o.lead_days for o in owners.values()}):
        owner = owners.get(owner_id)
        milestone = owner and _commitment_milestone(due, owner.lead_days, since, today)
        if milestone:
            hits[pk] = milestone
    if not hits:
        return [], last_scan
    found = []
    for pk, row in sorted(commitment_details(hits).items(), key=lambda item: (item[1].due_date, item[0])):
        owner = owners.get(row.owner_id)
        if owner is None or row.pk not in hits:
            continue
        # An owner who may not see the restricted meeting gets no email about it.
        if row.restricted and not (owner.sees_all_restricted or row.owner_took_part):
            continue
        kind, period = hits[row.pk]
        found.append(_commitment_reminder(row, owner, kind, period, today))
    return found, last_scan


# --- follow-ups and agreements ----------------------------------------------------------


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
        .annotate(**_owner_sees("owner_id", "pk"), partner_names=_partner_names(Engagement.partners.through, "engagement_id"))
    )


def due_agreements(today: dt.date):
    horizon = today + dt.timedelta(days=AGREEMENT_WINDOWS[0])
    return (
        Agreement.objects.filter(status=Agreement.Status.IN_FORCE, owner__is_active=True)
        .filter(Q(expires_on__range=(today, horizon)) | Q(notice_by__range=(today, horizon)))
        .exclude(owner__email="")
        .select_related("owner")
        .annotate(partner_names=_partner_names(Agreement.partners.through, "agreement_id"))
    )


@dataclass
class ReminderBatch:
    today: dt.date
    last_scan: dt.date | None
    messages: list[Outgoing]


def scan_reminders(*, now: dt.datetime) -> ReminderBatch:
    """Every reminder due at `now` (office time), for owners allowed to see the record.

    At most 5 queries whatever the number of items: owners (+ the last scan
    date), due commitments, their details, follow-ups, agreements (partner
    names aggregated in the same rows). The caller records `today` as the
    last scan once the messages are in the outbox (services.enqueue_due_reminders).
    """
    today = office_today(now)
    found, last_scan = due_commitment_reminders(today)
    for engagement in due_follow_ups(today):
        if _owner_may_see(engagement, engagement.is_restricted):
            found.append(_follow_up_reminder(engagement, today))
    for agreement in due_agreements(today):
        found.extend(_agreement_reminders(agreement, today))
    return ReminderBatch(today=today, last_scan=last_scan, messages=found)


def due_reminders(*, now: dt.datetime) -> list[Outgoing]:
    return scan_reminders(now=now).messages
