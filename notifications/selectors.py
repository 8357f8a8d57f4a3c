"""Reads: which reminders are due now, and who may see what.

Commitment reminders go to the owner (active, with an email) of an open or
in-progress commitment with a due date D, by window, not by exact date: the
first scan at which a window holds sends that window's reminder, however the
commitment got there (logged late, logged overdue, its due date moved, or
handed to a new owner):
- "due soon" while today (office time) is in [D - lead, D), the owner's lead
  time (Profile.reminder_lead_days, default 7); once per due date;
- "due today" on D;
- "overdue" from the day after D: week 0 (days 1-6) at the first scan after
  it became overdue, then once in each of the next OVERDUE_REMINDER_WEEKS (8)
  weeks (days 7-13 are week 1, ..., days 56-62 week 8); after that the weekly
  digest and the commitments page list it.
Each reminder has its own outbox key (kind, commitment, period, owner): the
period names the due date (and the overdue week), so moving the due date
starts a new series and a new owner gets their own; however often the hourly
scan runs, each goes out once. A scan that did not run (downtime) loses
nothing: the next one finds every commitment still inside a window; only the
window that holds today is sent, so after ten days down a commitment gets one
"overdue", not a "due today" as well.

Cost (P6, P8): the scan reads the open commitments due in [today - 62 days,
today + the longest lead time in use] as one range of the partial index
`commitment_open_due`, which carries the owner (an index-only scan, no join);
the keys of the window's reminders are checked against the outbox's unique
index, and only the new ones get their partner, engagement and the owner's
right to see it, in one query by primary key. Follow-ups
(FOLLOW_UP_GRACE_DAYS of grace) go through `engagement_follow_up`, agreements
through their date indexes; partner names are aggregated in the same rows.
Who may see a restricted engagement is asked of `accounts.access`
(`user_sees_engagement_q` per row, `engagement_audience` for the digest).
"""

import datetime as dt
from dataclasses import dataclass, field
from urllib.parse import urlencode

from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models import BooleanField, Case, Exists, OuterRef, Q, StringAgg, Subquery, Value, When
from django.db.models.functions import Coalesce
from django.urls import reverse

from accounts.access import user_may_use_q, user_sees_engagement_q
from diplomacy_crm.officetime import human_date, human_datetime, office_today
from engagements import done_links
from engagements.models import Commitment, Engagement
from partners.models import Agreement

from .links import absolute_url, site_url
from .models import OutboxMessage

Kind = OutboxMessage.Kind

DEFAULT_LEAD_DAYS = 7  # Profile.reminder_lead_days when a user has no profile (1..60)
# Overdue commitments are reminded at once (week 0), then in each of this many weeks;
# then the weekly digest keeps listing them.
OVERDUE_REMINDER_WEEKS = 8
# The last day of the last overdue week: the scan reads due dates from today minus this.
OVERDUE_WINDOW_DAYS = 7 * (OVERDUE_REMINDER_WEEKS + 1) - 1
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


# --- reminders -----------------------------------------------------------------


def _first_name(user) -> str:
    return user.first_name or user.get_username()


def commitment_window(due: dt.date, lead: int, today: dt.date) -> tuple[str, str] | None:
    """The reminder window of a commitment due on `due` that holds `today`, as (kind, period), or None.

    "due soon" in [due - lead, due), "due today" on the due date, "overdue" in
    week w = days overdue // 7 for w = 0..OVERDUE_REMINDER_WEEKS (week 0 is
    days 1 to 6). The period names the due date, so each window is sent once
    per due date and a moved due date opens new ones.
    """
    days = (due - today).days
    if days < 0:
        if -days > OVERDUE_WINDOW_DAYS:
            return None
        return Kind.COMMITMENT_OVERDUE, f"{due.isoformat()}/w{-days // 7}"
    if days == 0:
        return Kind.COMMITMENT_DUE_TODAY, due.isoformat()
    if days <= lead:
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
            # Opens a confirmation page for this owner and commitment (engagements.done_links), after sign-in.
            "done_url": site_url(
                reverse("engagements:commitment-done", args=[row.pk])
                + "?"
                + urlencode({"t": done_links.make_token(user=owner, commitment=Commitment(pk=row.pk))})
            ),
            "list_url": site_url("/commitments/"),
            "preferences_url": site_url("/accounts/preferences/"),
            "overdue_weeks": OVERDUE_REMINDER_WEEKS,
        },
    )


def _follow_up_reminder(engagement: Engagement, recipient: "Recipient", today: dt.date) -> Outgoing:
    days = (today - engagement.follow_up_by).days
    headline = "Follow-up due today" if days == 0 else f"Follow-up was due {days} day{'s' if days != 1 else ''} ago"
    return Outgoing(
        kind=Kind.ENGAGEMENT_FOLLOW_UP,
        recipient_id=recipient.pk,
        to_email=recipient.email,
        subject_type="engagement",
        subject_id=engagement.pk,
        period=engagement.follow_up_by.isoformat(),
        summary=f"{headline}: {engagement.title[:200]}",
        context={
            "first_name": recipient.first_name or recipient.username,
            "headline": headline,
            "title": engagement.title,
            "follow_up_by": human_date(engagement.follow_up_by),
            # The office's date and time, then the venue's clock when it differs (diplomacy_crm.officetime).
            "held_on": " · ".join(filter(None, [human_datetime(engagement.starts_at), engagement.venue_time])),
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


def _sees(user_ref: str, via: str = "") -> Case:
    """Annotation: the user `user_ref` of the row may use the CRM and see the row's engagement
    (accounts.access's rule, in the same row: no extra query)."""
    rule = user_may_use_q(user_ref) & user_sees_engagement_q(user_ref, via=via)
    return Case(When(rule, then=Value(True)), default=Value(False), output_field=BooleanField())


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
    """A user who can get commitment reminders, with their lead time."""

    pk: int
    email: str
    first_name: str
    username: str
    lead_days: int


@dataclass(frozen=True)
class DueCommitment:
    pk: int
    due_date: dt.date
    owner_id: int
    status: str
    description: str
    partner_name: str | None
    engagement_title: str | None
    owner_sees: bool


def reminder_owners() -> dict[int, ReminderOwner]:
    """Users with an email who may use the CRM (active, with a role), with their lead time: one query
    over the small users table."""
    User = get_user_model()
    rows = (
        User.objects.filter(user_may_use_q())
        .exclude(email="")
        .annotate(lead=Coalesce("profile__reminder_lead_days", Value(DEFAULT_LEAD_DAYS)))
        .values_list("pk", "email", "first_name", "username", "lead")
    )
    return {row[0]: ReminderOwner(*row) for row in rows}


def scan_window(today: dt.date, leads) -> tuple[dt.date, dt.date]:
    """The due dates whose commitments may have a reminder window holding `today`:
    [today - OVERDUE_WINDOW_DAYS, today + the longest lead time in use]."""
    longest = max(leads, default=DEFAULT_LEAD_DAYS)
    return today - dt.timedelta(days=OVERDUE_WINDOW_DAYS), today + dt.timedelta(days=longest)


def due_commitments(today: dt.date, *, leads=None):
    """Open commitments with an owner whose due date is in `scan_window(today, leads)`.

    `leads` defaults to the lead times of active users (one small query). One
    range of the partial index commitment_open_due, which also holds the owner:
    an index-only scan that joins nothing (P6). Rows: (id, due_date, owner_id).
    """
    if leads is None:
        leads = {owner.lead_days for owner in reminder_owners().values()}
    return (
        Commitment.objects.open()
        .filter(due_date__range=scan_window(today, leads), owner__isnull=False)
        .order_by("due_date", "id")
        .values_list("id", "due_date", "owner_id")
    )


def commitment_details(ids) -> dict[int, DueCommitment]:
    """What a reminder says about each of a few commitments, and whether its owner may see its
    engagement: one query over those rows only (partner and engagement by primary key)."""
    rows = (
        Commitment.objects.filter(pk__in=list(ids))
        .annotate(owner_sees=_sees("owner_id", via="engagement__"))
        .values_list(
            "pk", "due_date", "owner_id", "status", "description", "partner__name", "engagement__title", "owner_sees"
        )
    )
    return {row[0]: DueCommitment(*row) for row in rows}


def _already_queued(keys) -> set[str]:
    keys = list(keys)
    found: set[str] = set()
    for start in range(0, len(keys), 5000):
        found.update(OutboxMessage.objects.filter(key__in=keys[start : start + 5000]).values_list("key", flat=True))
    return found


def due_commitment_reminders(today: dt.date) -> list[Outgoing]:
    """The commitment reminders whose window holds `today` and that are not in the outbox yet.

    Four queries at most: owners, the window's commitments, which of their
    reminders' keys are already in the outbox, details of the new ones.
    """
    owners = reminder_owners()
    if not owners:
        return []
    candidates: dict[int, tuple[int, str, str]] = {}  # commitment -> (owner, kind, period)
    for pk, due, owner_id in due_commitments(today, leads={o.lead_days for o in owners.values()}):
        owner = owners.get(owner_id)
        window = owner and commitment_window(due, owner.lead_days, today)
        if window:
            candidates[pk] = (owner_id, *window)
    if not candidates:
        return []

    def key(pk, owner_id, kind, period):
        return OutboxMessage.make_key(
            kind=kind, subject_type="commitment", subject_id=pk, period=period, recipient_id=owner_id
        )

    queued = _already_queued(key(pk, *c) for pk, c in candidates.items())
    new = {pk: c for pk, c in candidates.items() if key(pk, *c) not in queued}
    if not new:
        return []
    found = []
    for pk, row in sorted(commitment_details(new).items(), key=lambda item: (item[1].due_date, item[0])):
        owner_id, kind, period = new[pk]
        # The row as read now: a commitment closed, moved or reassigned since the scan read it waits for the next scan.
        if row.owner_id != owner_id or row.status not in Commitment.OPEN_STATUSES:
            continue
        if commitment_window(row.due_date, owners[owner_id].lead_days, today) != (kind, period):
            continue
        # An owner who may not see the restricted meeting gets no email about it.
        if not row.owner_sees:
            continue
        found.append(_commitment_reminder(row, owners[owner_id], kind, period, today))
    return found


# --- follow-ups and agreements ----------------------------------------------------------


@dataclass(frozen=True)
class Recipient:
    pk: int
    email: str
    first_name: str
    username: str


def due_follow_ups(today: dt.date):
    """Engagements whose follow-up date is reached (FOLLOW_UP_GRACE_DAYS of grace), not cancelled.

    Annotated in the same row: whether the owner may see it (`owner_sees`)
    and took part (`owner_took_part`), whether anyone took part (`attended`),
    and who logged it (`logged_by`: the user of its first history row).
    """
    staff = Engagement.staff.through.objects.filter(engagement_id=OuterRef("pk"))
    first_version = Engagement.history.model.objects.filter(id=OuterRef("pk"), history_type="+").order_by(
        "history_date"
    )
    return (
        Engagement.objects.exclude(status=Engagement.Status.CANCELLED)
        .filter(follow_up_by__gte=today - dt.timedelta(days=FOLLOW_UP_GRACE_DAYS), follow_up_by__lte=today)
        .select_related("owner")
        .annotate(
            owner_sees=_sees("owner_id"),
            owner_took_part=Exists(staff.filter(user_id=OuterRef("owner_id"))),
            attended=Exists(staff),
            logged_by=Subquery(first_version.values("history_user_id")[:1]),
            partner_names=_partner_names(Engagement.partners.through, "engagement_id"),
        )
        .order_by("follow_up_by", "id")
    )


def _attendees(engagement_ids) -> dict[int, list[Recipient]]:
    """{engagement: its staff who took part and can get mail (may use the CRM, with an email)}, in one query."""
    result: dict[int, list[Recipient]] = {}
    rows = (
        Engagement.staff.through.objects.filter(engagement_id__in=list(engagement_ids))
        .filter(user_may_use_q("user_id"))
        .exclude(user__email="")
        .order_by("engagement_id", "user_id")
        .values_list("engagement_id", "user_id", "user__email", "user__first_name", "user__username")
    )
    for engagement_id, *user in rows:
        result.setdefault(engagement_id, []).append(Recipient(*user))
    return result


def reminds_owner(engagement: Engagement) -> bool:
    """The follow-up goes to the engagement's owner: they can get mail and may see it, and did not
    merely log it (logged it, took no part, while others did: then those others are reminded)."""
    owner = engagement.owner
    if not (owner and owner.is_active and owner.email and engagement.owner_sees):
        return False
    merely_logged = owner.pk == engagement.logged_by and not engagement.owner_took_part
    return not (merely_logged and engagement.attended)


def due_follow_up_reminders(today: dt.date) -> list[Outgoing]:
    """Follow-ups go to the engagement's owner, or else to each of its staff who took part (who may see it).

    One query, and one more for the staff of the engagements whose owner is not reminded.
    """
    engagements = list(due_follow_ups(today))
    to_owner = {e.pk for e in engagements if reminds_owner(e)}
    need_staff = [e.pk for e in engagements if e.pk not in to_owner and e.attended]
    attendees = _attendees(need_staff) if need_staff else {}
    found = []
    for engagement in engagements:
        if engagement.pk in to_owner:
            owner = engagement.owner
            recipients = [Recipient(owner.pk, owner.email, owner.first_name, owner.get_username())]
        else:
            recipients = attendees.get(engagement.pk, [])
        found.extend(_follow_up_reminder(engagement, recipient, today) for recipient in recipients)
    return found


def due_agreements(today: dt.date):
    horizon = today + dt.timedelta(days=AGREEMENT_WINDOWS[0])
    return (
        Agreement.objects.filter(status=Agreement.Status.IN_FORCE)
        .filter(user_may_use_q("owner_id"))
        .filter(Q(expires_on__range=(today, horizon)) | Q(notice_by__range=(today, horizon)))
        .exclude(owner__email="")
        .select_related("owner")
        .annotate(partner_names=_partner_names(Agreement.partners.through, "agreement_id"))
    )


@dataclass
class ReminderBatch:
    today: dt.date
    messages: list[Outgoing]


def scan_reminders(*, now: dt.datetime) -> ReminderBatch:
    """Every reminder due at `now` (office time) and not yet in the outbox, for people allowed to see the record.

    At most 7 queries whatever the number of items: owners, the window's
    commitments, their keys in the outbox, details of the new ones,
    follow-ups, their staff, agreements (partner names aggregated in the
    same rows).
    """
    today = office_today(now)
    found = due_commitment_reminders(today)
    found.extend(due_follow_up_reminders(today))
    for agreement in due_agreements(today):
        found.extend(_agreement_reminders(agreement, today))
    return ReminderBatch(today=today, messages=found)


def due_reminders(*, now: dt.datetime) -> list[Outgoing]:
    return scan_reminders(now=now).messages
