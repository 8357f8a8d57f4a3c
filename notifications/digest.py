"""The weekly digest: what each user may see of the week, built for everyone at once.

`build_weekly_digests(now=...)` reads the week's data in a fixed number of
set-based queries (14, whatever the number of users or items, P7) and then
assembles each user's digest in Python, applying the restricted-engagement
rule per user over prefetched sets (`accounts.access.engagement_audience`),
exactly as `Engagement.objects.visible_to` would.

The week is the office-time ISO week that contains `now` (settings.TIME_ZONE):
- this week's engagements (Monday 00:00 to next Monday 00:00, not cancelled);
- "yours": the user's own open commitments overdue before Monday or due this
  week, for as long as they are open, oldest first, each overdue one with how
  long it has been overdue (the first MINE_SHOWN, then "and N more");
- "others": the office's other open commitments overdue or due this week
  (oldest first, the first OTHERS_SHOWN, then "and N more"), each credited
  to its owner; the user's own are under "yours", not here;
- relationships going quiet: active priority-1 partners with no engagement the
  user can see, not cancelled, in the last CRM["QUIET_AFTER_DAYS"] days (or planned);
- what was logged last week (engagements created Monday to Monday before).

A quiet week still sends a digest that says so: people learn that it works,
and an empty Monday is news too.
"""

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.utils import timezone
from django.contrib.auth import get_user_model
from django.db.models import Count, F, Max, Q, Window
from django.db.models.functions import RowNumber

from accounts import access
from accounts.access import engagement_audience, is_restricted, user_may_use_q
from diplomacy_crm.officetime import human_date, human_datetime, iso_week, local_midnight, week_start
from engagements import quiet as quiet_rule
from engagements.models import Commitment, Engagement
from engagements.selectors import held_by_q

from .links import absolute_url, site_url
from .models import OutboxMessage
from .selectors import Outgoing

UPCOMING_SHOWN = 20
MINE_SHOWN = 10
OTHERS_SHOWN = 10
QUIET_SHOWN = 10
LOGGED_SHOWN = 20
# How many rows each shared query reads at most: the digest is a summary,
# and its cost must not grow with the history of the office.
UPCOMING_SCAN = 500
LOGGED_SCAN = 500
OTHERS_SCAN = 300
CONFIDENTIAL_HELD_SCAN = 2000  # the latest restricted held engagements of priority partners, for last contacts
MINE_SCAN = MINE_SHOWN + 5  # a few spare in case some are hidden from their owner


def digest_recipients():
    """Users with an email who may use the CRM (active, with a role) and did not opt out
    (no profile yet means the default: opted in)."""
    User = get_user_model()
    return (
        User.objects.filter(user_may_use_q())
        .exclude(email="")
        .filter(Q(profile__isnull=True) | Q(profile__digest_opt_out=False))
        .order_by("pk")
        .only("pk", "email", "first_name", "username")
    )


def _engagement_item(engagement: Engagement) -> dict:
    return {
        "id": engagement.pk,
        "title": engagement.title,
        # Office time, then the venue's clock when it differs: "Tue 14 Apr 2026, 01:00 · 10:00 Rome time".
        "when": " · ".join(filter(None, [human_datetime(engagement.starts_at), engagement.venue_time])),
        "kind": engagement.get_kind_display(),
        "location": "Virtual" if engagement.is_virtual else engagement.location,
        "partners": ", ".join(p.name for p in engagement.partners.all()),
        "restricted": is_restricted(engagement.confidentiality),
        "url": absolute_url(engagement, "engagement"),
    }


def overdue_for(due: dt.date, monday: dt.date) -> str:
    """How long a commitment due on `due` has been overdue on `monday`, in words: "3 days", "5 weeks", "6 years"."""
    days = (monday - due).days
    for unit, size, after in (("year", 365, 730), ("month", 30, 61), ("week", 7, 14), ("day", 1, 0)):
        if days >= after:
            n = days // size
            return f"{n} {unit}{'s' if n != 1 else ''}"
    return ""


def _commitment_item(commitment: Commitment, monday: dt.date) -> dict:
    overdue = commitment.due_date < monday
    return {
        "id": commitment.pk,
        "description": commitment.description,
        "due": human_date(commitment.due_date),
        "overdue": overdue,
        "overdue_for": overdue_for(commitment.due_date, monday) if overdue else "",
        "partner": commitment.partner.name if commitment.partner_id else "",
        "owner": (commitment.owner.get_full_name() or commitment.owner.get_username()) if commitment.owner_id else "",
        "url": absolute_url(commitment, "commitment"),
    }


@dataclass
class _Week:
    """What one digest run reads (14 queries in all) and works out once for every recipient."""

    monday: dt.date
    period: str
    recipients: list
    audience: object  # accounts.access.engagement_audience: who sees which engagement
    upcoming_items: list  # (restricted engagement id or None, item)
    logged_items: list
    mine_by_owner: dict  # owner id → [(engagement id, item)]
    owned: dict  # owner id → how many open commitments they own
    office_items: list  # (owner id, engagement id, item)
    quiet_items: list  # (partner id, item)
    last_open: dict  # priority partner id → start of its latest held engagement every role sees (last contact)
    restricted_held: dict  # priority partner id → [(restricted engagement id, start)] held, latest first
    restricted_by_partner: dict  # partner id → its recent restricted engagements
    links: dict
    week_label: str


def build_weekly_digests(*, now: dt.datetime) -> list[Outgoing]:
    """One digest per recipient for the office-time ISO week containing `now`. 14 queries."""
    week = _read_week(now)
    if week is None:
        return []
    return [_digest_for(user, week) for user in week.recipients]


def _last_contacts(now: dt.datetime, through) -> tuple[dict, list]:
    """The last contact (engagements.selectors.held_by_q: held, started by now) of each priority partner, as each
    recipient may see it: the latest engagement every role sees, and the restricted ones, which the audience
    sorts out per user."""
    open_q = access.class_engagement_q(access.OPEN, via="engagement__")
    held_links = through.objects.filter(quiet_rule.watched_partner_q(), held_by_q(now, prefix="engagement__"))
    last_open = dict(
        held_links.filter(open_q).order_by().values("partner_id").annotate(last=Max("engagement__starts_at"))
        .values_list("partner_id", "last")
    )
    restricted_held = list(
        held_links.exclude(open_q)
        .order_by("-engagement__starts_at", "-engagement_id")
        .values_list("partner_id", "engagement_id", "engagement__starts_at", "engagement__confidentiality")[:CONFIDENTIAL_HELD_SCAN]
    )

    return last_open, restricted_held


def _read_week(now: dt.datetime) -> "_Week | None":
    """The week's engagements, commitments and quiet partners, and who may see which; None without recipients."""
    monday = week_start(now)
    period = iso_week(monday)
    start, end = local_midnight(monday), local_midnight(monday + dt.timedelta(days=7))
    last_week_start = local_midnight(monday - dt.timedelta(days=7))
    quiet_since = quiet_rule.quiet_since(now)
    week_end_day = monday + dt.timedelta(days=7)

    # Querysets are materialised here, never in templates (the sender renders from JSON).
    recipients = list(digest_recipients())  # 1
    if not recipients:
        return None

    upcoming = list(  # 2 + 3 (partners)
        Engagement.objects.exclude(status=Engagement.Status.CANCELLED)
        .filter(starts_at__gte=start, starts_at__lt=end)
        .prefetch_related("partners")
        .order_by("starts_at", "id")[:UPCOMING_SCAN]
    )
    logged = list(  # 4 + 5 (partners)
        Engagement.objects.filter(created_at__gte=last_week_start, created_at__lt=start)
        .prefetch_related("partners")
        .order_by("-created_at", "-id")[:LOGGED_SCAN]
    )
    # No join to engagements (it was a Seq Scan of all of them): which of the few involved
    # are restricted comes from one lookup by id (9).
    open_due = Commitment.objects.open().filter(due_date__lt=week_end_day).select_related("partner", "owner")
    mine = list(  # 6: each owner's oldest few, however long overdue, and how many they have in all
        open_due.filter(owner__isnull=False)
        .annotate(
            rank=Window(RowNumber(), partition_by=[F("owner_id")], order_by=[F("due_date").asc(), F("id").asc()]),
            owned=Window(Count("id"), partition_by=[F("owner_id")]),
        )
        .filter(rank__lte=MINE_SCAN)
        .order_by("owner_id", "due_date", "id")
    )
    office = list(open_due.order_by("due_date", "id")[:OTHERS_SCAN])  # 7
    priority_partners = list(  # 8
        quiet_rule.watched_partners().order_by("name", "id").only("pk", "name", "country")
    )
    through = Engagement.partners.through
    recent_links = list(  # 9: priority-1 partners' engagements since the quiet cut-off
        through.objects.filter(
            quiet_rule.watched_partner_q(), quiet_rule.contact_link_q(), engagement__starts_at__gte=quiet_since
        )
        .values_list("partner_id", "engagement_id", "engagement__confidentiality")
    )

    last_open, restricted_held = _last_contacts(now, through)  # 9b, 9c

    confidentiality = {e.pk: e.confidentiality for e in upcoming + logged}
    confidentiality.update({eid: value for _, eid, value in recent_links})
    confidentiality.update({eid: value for _, eid, _, value in restricted_held})
    commitment_engagements = {c.engagement_id for c in mine + office if c.engagement_id} - set(confidentiality)
    if commitment_engagements:  # 10
        confidentiality.update(
            Engagement.objects.filter(pk__in=commitment_engagements).values_list("pk", "confidentiality")
        )
    # Who may see which of these engagements: the rule of accounts.access, in two queries (13, 14).
    audience = engagement_audience((u.pk for u in recipients), confidentiality)
    return _assemble(
        monday, period, recipients, audience,
        upcoming=upcoming, logged=logged, mine=mine, office=office,
        priority_partners=priority_partners, recent_links=recent_links,
        last_open=last_open, restricted_held=restricted_held,
    )


def _assemble(
    monday, period, recipients, audience, *, upcoming, logged, mine, office, priority_partners, recent_links,
    last_open=None, restricted_held=(),
) -> _Week:
    """The week's items as the digest shows them, each with the engagement that decides who may see it."""
    restricted = audience.restricted
    # Partners with a recent engagement everyone may see are quiet for nobody;
    # the others are quiet unless the user may see one of their restricted ones.
    openly_active: set[int] = set()
    restricted_by_partner: dict[int, set[int]] = {}
    for partner_id, engagement_id, value in recent_links:
        if is_restricted(value):
            restricted_by_partner.setdefault(partner_id, set()).add(engagement_id)
        else:
            openly_active.add(partner_id)
    quiet_candidates = [p for p in priority_partners if p.pk not in openly_active]

    upcoming_items = [(e.pk if e.pk in restricted else None, _engagement_item(e)) for e in upcoming]
    logged_items = [(e.pk if e.pk in restricted else None, _engagement_item(e)) for e in logged]
    mine_by_owner: dict[int, list[tuple[int | None, dict]]] = {}
    owned: dict[int, int] = {}
    for c in mine:
        mine_by_owner.setdefault(c.owner_id, []).append((c.engagement_id, _commitment_item(c, monday)))
        owned[c.owner_id] = c.owned
    office_items = [(c.owner_id, c.engagement_id, _commitment_item(c, monday)) for c in office]
    quiet_items = [
        (p.pk, {"name": p.name, "country": p.country.name if p.country else "", "url": absolute_url(p, "partner")})
        for p in quiet_candidates
    ]

    links = {
        "dashboard": site_url("/"),
        "engagements": site_url("/engagements/"),
        "commitments": site_url("/commitments/"),
        "partners": site_url("/partners/"),
        "preferences": site_url("/accounts/preferences/"),
    }
    week_label = f"{human_date(monday)} to {human_date(monday + dt.timedelta(days=6))}"
    return _Week(
        monday=monday, period=period, recipients=recipients, audience=audience,
        upcoming_items=upcoming_items, logged_items=logged_items, mine_by_owner=mine_by_owner, owned=owned,
        office_items=office_items, quiet_items=quiet_items, restricted_by_partner=restricted_by_partner,
        last_open=last_open or {}, restricted_held=_by_partner(restricted_held),
        links=links, week_label=week_label,
    )


def _by_partner(rows) -> dict[int, list[tuple[int, dt.datetime]]]:
    out: dict[int, list[tuple[int, dt.datetime]]] = {}
    for partner_id, engagement_id, starts_at, _ in rows:  # latest first
        out.setdefault(partner_id, []).append((engagement_id, starts_at))
    return out


def _last_contact(week: _Week, partner_id: int, uid: int) -> str:
    """The partner's last contact as this recipient may see it ("" for none): the pages' definition."""
    latest = week.last_open.get(partner_id)
    for engagement_id, starts_at in week.restricted_held.get(partner_id, ()):
        if latest is not None and starts_at <= latest:
            break
        if week.audience.sees(uid, engagement_id):
            latest = starts_at
            break
    return human_date(timezone.localdate(latest)) if latest is not None else ""


def _digest_for(user, week: _Week) -> Outgoing:
    """One recipient's digest: the week's items that user may see, counted where more exist."""
    uid = user.pk
    sees = week.audience.sees

    def visible(pairs, limit, uid=uid):
        shown = [item for eid, item in pairs if sees(uid, eid)]
        return shown[:limit], max(len(shown) - limit, 0)

    upcoming_shown, upcoming_more = visible(week.upcoming_items, UPCOMING_SHOWN)
    logged_shown, logged_more = visible(week.logged_items, LOGGED_SHOWN)
    own = week.mine_by_owner.get(uid, [])
    mine_shown, _ = visible(own, MINE_SHOWN)
    # Counted, not silently dropped: all they own, less those hidden from them among the ones read.
    hidden = sum(1 for eid, _ in own if not sees(uid, eid))
    mine_more = max(week.owned.get(uid, 0) - hidden - len(mine_shown), 0)
    others_shown, others_more = visible(
        [(eid, item) for owner_id, eid, item in week.office_items if owner_id != uid], OTHERS_SHOWN
    )
    quiet_all = [
        {**item, "last_contact": _last_contact(week, pid, uid)}
        for pid, item in week.quiet_items
        if not any(sees(uid, eid) for eid in week.restricted_by_partner.get(pid, ()))
    ]
    context = {
        "first_name": user.first_name or user.get_username(),
        "period": week.period,
        "week.week_label": week.week_label,
        "upcoming": upcoming_shown,
        "upcoming_more": upcoming_more,
        "mine": mine_shown,
        "mine_more": mine_more,
        "others": others_shown,
        "others_more": others_more,
        "quiet": quiet_all[:QUIET_SHOWN],
        "quiet_more": max(len(quiet_all) - QUIET_SHOWN, 0),
        "quiet_days": settings.CRM["QUIET_AFTER_DAYS"],
        "logged": logged_shown,
        "logged_more": logged_more,
        "links": week.links,
    }
    context["is_quiet"] = not any(context[k] for k in ("upcoming", "mine", "others", "quiet", "logged"))
    return Outgoing(
        kind=OutboxMessage.Kind.WEEKLY_DIGEST,
        recipient_id=uid,
        to_email=user.email,
        subject_type="week",
        subject_id=None,
        period=week.period,
        summary=f"Weekly digest {week.period}",
        context=context,
    )
