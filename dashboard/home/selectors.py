"""Reads for the pages that combine everything: dashboard, partner history, country view.

Every read starts from the visibility selectors of the layers below
(`engagements_for`, `commitments_for`) or from the SQL forms and cache
classes of `accounts.access`, the one home of the confidentiality rule, so
counts and charts obey it too.

Every list is bounded, by a LIMIT on an indexed order or by a date window
on an indexed column, and every function here returns materialised lists:
a page costs the same number of queries whatever the size of the tables,
and its template runs none.
"""

import datetime as dt
from dataclasses import dataclass, field

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.db.models import (
    Count,
    DateField,
    DateTimeField,
    Exists,
    F,
    IntegerField,
    Max,
    OuterRef,
    Prefetch,
    Subquery,
    TextField,
    Value,
)
from django.db.models.functions import Cast, Coalesce, TruncDate, TruncMonth
from django.http import Http404
from django.utils import timezone
from django_countries import countries

from accounts import access
from engagements.models import Commitment, Engagement, TradeMission
from engagements.selectors import commitments_for, engagements_for
from partners.models import Agreement, Partner

from .signals import charts_generation

UPCOMING_DAYS = 14
UPCOMING_LIMIT = 20
DUE_SOON_DAYS = 14
COMMITMENTS_LIMIT = 10
QUIET_LIMIT = 10
ACTIVITY_LIMIT = 12
CHART_MONTHS = 12
CHART_TOP = 10
CHART_CACHE_SECONDS = 60

TIMELINE_PAGE_SIZE = 20
TIMELINE_MAX_PAGE = 500  # deeper pages are refused: OFFSET cost grows with the page
HISTORY_CONTACTS_LIMIT = 100
HISTORY_CHILDREN_LIMIT = 50
HISTORY_AGREEMENTS_LIMIT = 50
HISTORY_OPEN_LIMIT = 50
COUNTRY_LIMIT = 25
COUNTRY_PARTNERS_LIMIT = 100

NO_COUNTRY_LABEL = "No country (international)"


@dataclass
class Bounded:
    """The first `limit` rows of a list, and whether more exist (no COUNT needed)."""

    items: list
    has_more: bool = False

    def __iter__(self):
        return iter(self.items)

    def __len__(self):
        return len(self.items)

    def __bool__(self):
        return bool(self.items)


def _bounded(queryset, limit: int) -> Bounded:
    # One row more than shown tells whether to offer "see all".
    rows = list(queryset[: limit + 1])
    return Bounded(rows[:limit], len(rows) > limit)


def _local_midnight(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min), timezone.get_current_timezone())


def _partner_names():
    # Only what a row shows: the name and the link.
    return Prefetch("partners", queryset=Partner.objects.only("id", "name", "country").order_by("name", "id"))


def _probed_engagements(user):
    """`engagements_for(user)`, with the attendance check written as a probe per row.

    Same rule as `EngagementQuerySet.visible_to` (`access.engagement_q`);
    there the attended ids are one hashed subplan, which suits scans of many
    rows. But PostgreSQL charges that subplan's set-up to every probe of a
    nested loop, so for a member of staff with thousands of meetings it
    hash-joins the whole engagement table where a walk of a few dozen rows
    would do (3.5 s instead of 13 ms for recent activity, 6 s for a country
    page). Use this form (`access.probed_engagement_q`) for reads that probe
    few rows or stop at a LIMIT; tests/unit/test_access_rule.py checks both
    forms agree.
    """
    return Engagement.objects.filter(access.probed_engagement_q(user))


def _probed_commitments(user):
    """`commitments_for(user)` written as probes (see `_probed_engagements`)."""
    return Commitment.objects.filter(access.probed_engagement_q(user, via="engagement__"))


def last_contact_subquery(user, *, now=None):
    """Start of the latest held engagement with OuterRef('pk') the user may see.

    A MAX over the partner's links, not ORDER BY starts_at LIMIT 1: for a
    correlated subquery the latter lets PostgreSQL walk the whole starts_at
    index backwards for every partner with few engagements (seconds for a
    staff member's country page); the MAX reads only that partner's links.
    """
    return _latest_held_start(_probed_engagements(user), now=now or timezone.now())


def _latest_held_start(engagements, *, now) -> Subquery:
    """Start of the latest of `engagements` held by `now` with partner OuterRef('pk'): a MAX over its links."""
    held = engagements.filter(status=Engagement.Status.HELD, starts_at__lte=now)
    latest = (
        Engagement.partners.through.objects.filter(partner=OuterRef("pk"), engagement__in=held)
        .order_by()
        .values("partner")
        .annotate(last=Max("engagement__starts_at"))
        .values("last")
    )
    return Subquery(latest, output_field=DateTimeField())


def _last_contact_with(user, partner_pk: int, *, now=None):
    """Start of the latest held engagement with one known partner the user may see (a scalar subquery).

    The partner id is a literal, so PostgreSQL knows from its statistics how
    many engagements the partner has: for a busy partner it walks the
    starts_at index backwards and stops at the first match; for a rare one it
    reads its few links. Either way a bounded read, unlike a correlated MAX.
    """
    now = now or timezone.now()
    latest = (
        _probed_engagements(user)
        .filter(partners=partner_pk, status=Engagement.Status.HELD, starts_at__lte=now)
        .order_by("-starts_at", "-id")
        .values("starts_at")[:1]
    )
    return Subquery(latest, output_field=DateTimeField())


def _sliced_branch(queryset, ordering, limit: int):
    """A UNION member ordered and cut to `limit` rows, where the database allows it (PostgreSQL).

    The first `limit` rows of a UNION ALL in some order are among the first
    `limit` rows of each member in that order, so cutting each member first
    gives the same result while each member reads an index for a few rows
    instead of all its rows. SQLite refuses ORDER BY/LIMIT inside a compound
    statement: there the members stay whole (small test databases).
    """
    if connection.features.supports_slicing_ordering_in_compound:
        return queryset.order_by(*ordering)[:limit]
    return queryset


# --- Dashboard ------------------------------------------------------------


def upcoming_engagements(user, *, now=None) -> Bounded:
    """Visible, not cancelled, from the start of today to the end of the 14th day."""
    today = timezone.localdate(now)
    start, end = _local_midnight(today), _local_midnight(today + dt.timedelta(days=UPCOMING_DAYS + 1))
    queryset = (
        engagements_for(user)
        .held()
        .filter(starts_at__gte=start, starts_at__lt=end)
        .order_by("starts_at", "id")
        .prefetch_related(_partner_names())
    )
    return _bounded(queryset, UPCOMING_LIMIT)


def commitments_due(user, *, now=None) -> tuple[Bounded, Bounded]:
    """Open commitments overdue or due within 14 days: (the user's own, everyone else's).

    Both read the partial index on open commitments by due date, oldest due
    first, and stop after a screenful: no COUNT over the open backlog.
    """
    today = timezone.localdate(now)
    base = (
        commitments_for(user)
        .open()
        .filter(due_date__lte=today + dt.timedelta(days=DUE_SOON_DAYS))
        .select_related("partner", "owner", "engagement")
        .order_by("due_date", "id")
    )
    mine = _bounded(base.filter(owner=user), COMMITMENTS_LIMIT)
    # exclude() keeps commitments without an owner: nobody's is everybody's.
    others = _bounded(base.exclude(owner=user), COMMITMENTS_LIMIT)
    return mine, others


@dataclass
class QuietPartner:
    """One line of "Relationships going quiet": what the panel shows, cacheable as plain data."""

    pk: int
    name: str
    last_contact: dt.datetime | None
    owner_name: str

    def get_absolute_url(self) -> str:
        from django.urls import reverse

        return reverse("partner-history", args=[self.pk])


QUIET_CACHE_SECONDS = 60


def _quiet_shared(visibility: str, *, now, cutoff) -> list[tuple]:
    """Every quiet partner of a visibility class, in the panel's order: [(pk, name, last_contact, owner), …].

    Counts the engagements every member of the class sees
    (`access.class_engagement_q`): "all" (officers) every engagement, "open"
    (everyone else) the non-restricted ones. No user-specific filter here, so
    one entry serves a whole class, and the restricted-attendance subplan
    stays out of it. Cached 60 s per class and `charts_generation` (bumped
    after any engagement, partner or engagement-partner link is written).
    """
    engagements = Engagement.objects.held().filter(access.class_engagement_q(visibility))
    recent = engagements.filter(partners=OuterRef("pk"), starts_at__gte=cutoff)
    rows = (
        Partner.objects.active()
        .filter(priority=Partner.Priority.HIGH)
        .filter(~Exists(recent))
        .annotate(last_contact=_latest_held_start(engagements, now=now))
        .order_by(F("last_contact").asc(nulls_first=True), "name", "id")
        .values_list("pk", "name", "last_contact", "owner__username", "owner__first_name", "owner__last_name")
    )
    return [
        (pk, name, last, f"{first or ''} {last_name or ''}".strip() or (username or ""))
        for pk, name, last, username, first, last_name in rows
    ]


def _own_restricted_contacts(user) -> list[tuple[int, dt.datetime]]:
    """(partner id, start) of the held restricted engagements `user` took part in, with priority-1 active partners.

    What a user of the "open" class sees beyond it (`access.beyond_class_q`);
    a person takes part in few restricted meetings, so the rows stay few (one query).
    """
    return list(
        Engagement.partners.through.objects.filter(
            engagement__in=Engagement.objects.held().filter(access.beyond_class_q(user)),
            partner__priority=Partner.Priority.HIGH,
            partner__status=Partner.Status.ACTIVE,
        )
        .order_by()
        .values_list("partner_id", "engagement__starts_at")
    )


def quiet_partners(user, *, now=None) -> Bounded:
    """Priority-1 active partners with no visible, non-cancelled engagement in QUIET_AFTER_DAYS.

    An engagement planned in the future counts as contact: a relationship
    with a meeting on the calendar is not going quiet. Never-contacted first,
    then the longest silence.

    The list of a visibility class is shared and cached (`_quiet_shared`);
    a non-officer's own restricted meetings are laid over it live: one
    within the window takes the partner off their list, an older one may
    move its last contact later. Visible engagements only ever add contact,
    so a partner quiet for the user is always in the "open" list.
    """
    now = now or timezone.now()
    cutoff = now - dt.timedelta(days=settings.CRM["QUIET_AFTER_DAYS"])
    visibility = access.visibility_class(user)
    if visibility == access.NONE:
        return Bounded([])
    key = ":".join(
        (
            "dashboard:quiet:v1",
            str(charts_generation()),
            visibility,
            timezone.localdate(now).isoformat(),
        )
    )
    shared = cache.get(key)
    if shared is None:
        shared = _quiet_shared(visibility, now=now, cutoff=cutoff)
        cache.set(key, shared, QUIET_CACHE_SECONDS)
    rows = shared
    if visibility != access.ALL:
        in_window, latest = set(), {}
        for partner_id, starts_at in _own_restricted_contacts(user):
            if starts_at >= cutoff:
                in_window.add(partner_id)
            elif starts_at <= now and (partner_id not in latest or starts_at > latest[partner_id]):
                latest[partner_id] = starts_at
        if in_window or latest:
            rows = [
                (pk, name, max(last, latest[pk]) if last and pk in latest else latest.get(pk, last), owner)
                for pk, name, last, owner in shared
                if pk not in in_window
            ]
            # Stable: equal keys keep the database's order (name by its collation, then id).
            rows.sort(key=lambda row: (row[2] is not None, row[2] or now))
    items = [QuietPartner(pk=pk, name=name, last_contact=last, owner_name=owner) for pk, name, last, owner in rows]
    return Bounded(items[:QUIET_LIMIT], len(items) > QUIET_LIMIT)


@dataclass
class Activity:
    kind: str  # "engagement" | "commitment"
    object_id: int
    label: str
    when: dt.datetime
    action: str  # "created" | "changed" | "deleted"
    who: str
    exists: bool = True

    @property
    def url(self) -> str:
        from django.urls import reverse

        name = "engagements:detail" if self.kind == "engagement" else "engagements:commitment-detail"
        return reverse(name, args=[self.object_id])


ACTIONS = {"+": "created", "~": "changed", "-": "deleted"}
ACTIVITY_COLUMNS = ("a_when", "a_hid", "a_kind", "a_obj", "a_label", "a_type", "a_user", "a_first", "a_last")


def _history_rows(history_qs, kind: str, label_field: str):
    return (
        history_qs.order_by()
        .annotate(
            a_when=F("history_date"),
            a_hid=F("history_id"),
            a_kind=Value(kind, output_field=TextField()),
            a_obj=F("id"),
            a_label=Cast(label_field, output_field=TextField()),
            a_type=Cast("history_type", output_field=TextField()),
            a_user=Cast("history_user__username", output_field=TextField()),
            a_first=Cast("history_user__first_name", output_field=TextField()),
            a_last=Cast("history_user__last_name", output_field=TextField()),
        )
        .values_list(*ACTIVITY_COLUMNS)
    )


ACTIVITY_SCAN = 4  # history rows read per activity line: one save writes several (fields, then each relation)
ACTIVITY_MERGE_SECONDS = 120
# "Recent" is a bounded, indexed window: without it a viewer's visibility
# filter made PostgreSQL read every history row (seconds at 300k rows).
ACTIVITY_WINDOW_DAYS = 30


def recent_activity(user, *, limit: int = ACTIVITY_LIMIT) -> list[Activity]:
    """The latest changes (who, when, what) in the last 30 days to engagements and commitments the user may see.

    One UNION ALL query over the two history tables, newest first, each member
    walking its history_date index and stopping after a few screenfuls. A
    record's history is shown only while the record itself is visible to the
    user; officers also see deletions. Rows of one save become one line,
    "created" when the save created it (saves now write one row each; older
    ones wrote a row per changed relation).
    """
    since = timezone.now() - dt.timedelta(days=ACTIVITY_WINDOW_DAYS)
    engagement_history = Engagement.history.model.objects.filter(history_date__gte=since)
    commitment_history = Commitment.history.model.objects.filter(history_date__gte=since)
    if not access.may_use_crm(user):
        return []
    if not access.sees_all_restricted(user):
        # Checked per row as each member walks its index (see _probed_engagements).
        engagement_history = engagement_history.filter(Exists(_probed_engagements(user).filter(pk=OuterRef("id"))))
        commitment_history = commitment_history.filter(Exists(_probed_commitments(user).filter(pk=OuterRef("id"))))
    # Each member is cut to the newest rows before the union: each then walks
    # its history_date index backwards and stops after a few dozen rows, the
    # visibility check a probe per row. Without the cut a viewer's check made
    # PostgreSQL join every history row of the window before sorting.
    scan = limit * ACTIVITY_SCAN
    newest = ("-history_date", "-history_id")
    rows = (
        _sliced_branch(_history_rows(engagement_history, "engagement", "title"), newest, scan)
        .union(_sliced_branch(_history_rows(commitment_history, "commitment", "description"), newest, scan), all=True)
        .order_by("-a_when", "-a_hid")[:scan]
    )
    activity: list[Activity] = []
    for when, _hid, kind, obj, label, action, username, first, last in rows:
        who = f"{first or ''} {last or ''}".strip() or username or "system"
        previous = activity[-1] if activity else None
        if (
            previous
            and (previous.kind, previous.object_id, previous.who) == (kind, obj, who)
            and (previous.when - when).total_seconds() <= ACTIVITY_MERGE_SECONDS
        ):
            # An older row of the same save: a creation names the whole save.
            if action == "+" and previous.action == "changed":
                previous.action = "created"
            continue
        if len(activity) == limit:
            break
        activity.append(
            Activity(
                kind=kind,
                object_id=obj,
                label=label,
                when=when,
                action=ACTIONS.get(action, action),
                who=who,
                exists=action != "-",
            )
        )
    return activity


def _chart_window(now) -> tuple[dt.datetime, dt.datetime, list[tuple[int, int]]]:
    """[first day of the month 11 months ago, first day of next month), in the office's zone."""
    today = timezone.localdate(now)
    months = []
    year, month = today.year, today.month
    for _ in range(CHART_MONTHS):
        months.append((year, month))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    months.reverse()
    first = dt.date(*months[0], 1)
    last_y, last_m = months[-1]
    after = dt.date(last_y + (last_m == 12), last_m % 12 + 1, 1)
    return _local_midnight(first), _local_midnight(after), months


def _month_key(value) -> tuple[int, int]:
    if isinstance(value, dt.datetime) and timezone.is_aware(value):
        value = timezone.localtime(value)
    return value.year, value.month


def _chart_counts(engagements, window_start, window_end) -> dict:
    """{"months": {(y, m): n}, "countries": {code: n}, "topics": {name: n}} over `engagements`.

    Three GROUP BY queries, each over the indexed starts_at window only.
    """
    tz = timezone.get_current_timezone()
    in_window = engagements.held().filter(starts_at__gte=window_start, starts_at__lt=window_end)
    months = {}
    for row in (
        in_window.order_by().annotate(month=TruncMonth("starts_at", tzinfo=tz)).values("month").annotate(n=Count("id"))
    ):
        key = _month_key(row["month"])
        months[key] = months.get(key, 0) + row["n"]
    # Through tables: an engagement with two partners in one country counts once there.
    partner_links = Engagement.partners.through.objects.filter(engagement__in=in_window.values("pk"))
    countries_ = {
        row["partner__country"] or "": row["n"]
        for row in partner_links.order_by()
        .values("partner__country")
        .annotate(n=Count("engagement_id", distinct=True))
    }
    topic_links = Engagement.topics.through.objects.filter(engagement__in=in_window.values("pk"))
    topics = {
        row["topic__name"]: row["n"]
        for row in topic_links.order_by().values("topic__name").annotate(n=Count("engagement_id", distinct=True))
    }
    return {"months": months, "countries": countries_, "topics": topics}


def _own_restricted_counts(user, window_start, window_end) -> dict:
    """What a user of the "open" class adds to its shared figures (`access.beyond_class_q`).

    One query; a person takes part in few restricted meetings a year, so the
    rows (engagement × partner × topic) stay few.
    """
    rows = (
        Engagement.objects.held()
        .filter(access.beyond_class_q(user), starts_at__gte=window_start, starts_at__lt=window_end)
        .order_by()
        .values_list("id", "starts_at", "partners__country", "topics__name")
    )
    months, countries_, topics = {}, {}, {}
    for pk, starts_at, country, topic in rows:
        months.setdefault(_month_key(starts_at), set()).add(pk)
        if country is not None:
            countries_.setdefault(country or "", set()).add(pk)
        if topic is not None:
            topics.setdefault(topic, set()).add(pk)
    return {
        "months": {k: len(v) for k, v in months.items()},
        "countries": {k: len(v) for k, v in countries_.items()},
        "topics": {k: len(v) for k, v in topics.items()},
    }


def _merge(a: dict, b: dict) -> dict:
    out = dict(a)
    for key, value in b.items():
        out[key] = out.get(key, 0) + value
    return out


def _top(counts: dict, label) -> dict:
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], label(kv[0])))
    shown, rest = ranked[:CHART_TOP], ranked[CHART_TOP:]
    labels = [label(k) for k, _ in shown]
    values = [v for _, v in shown]
    if rest:
        labels.append(f"Other ({len(rest)})")
        values.append(sum(v for _, v in rest))
    return {"labels": labels, "values": values}


def _country_label(code: str) -> str:
    return countries.name(code) or code if code else NO_COUNTRY_LABEL


def engagement_charts(user, *, now=None) -> dict:
    """Engagements per month (12 months), by partner country and by topic, as the user may see them.

    The figures are shared by a visibility class and cached for 60 s, or until
    an engagement, partner or topic is written (dashboard.signals): officers
    see everything ("all"); everyone else sees the non-restricted engagements
    ("open", one shared entry) plus, computed live, the restricted ones they
    took part in. So nobody's figures include a meeting they may not see.
    """
    window_start, window_end, months = _chart_window(now)
    visibility = access.visibility_class(user)
    key = ":".join(
        (
            "dashboard:charts:v1",
            str(charts_generation()),
            visibility,
            window_start.date().isoformat(),
            timezone.localdate(now).isoformat(),
        )
    )
    shared = cache.get(key)
    if shared is None:
        engagements = Engagement.objects.filter(access.class_engagement_q(visibility))
        shared = _chart_counts(engagements, window_start, window_end)
        cache.set(key, shared, CHART_CACHE_SECONDS)
    counts = shared
    if visibility == access.OPEN:
        own = _own_restricted_counts(user, window_start, window_end)
        counts = {name: _merge(shared[name], own[name]) for name in ("months", "countries", "topics")}
    return {
        "months": {
            "labels": [dt.date(y, m, 1).strftime("%b %Y") for y, m in months],
            "values": [counts["months"].get(ym, 0) for ym in months],
        },
        "countries": _top(counts["countries"], _country_label),
        "topics": _top(counts["topics"], str),
    }


@dataclass
class Chart:
    """One chart: its JSON data (labels, values) and what the page says about it."""

    name: str
    title: str
    type: str  # a Chart.js type: bar, line…
    key_label: str
    data: dict

    @property
    def script_id(self) -> str:
        return f"chart-data-{self.name}"

    @property
    def rows(self) -> list[tuple[str, int]]:
        return list(zip(self.data["labels"], self.data["values"], strict=True))

    @property
    def total(self) -> int:
        return sum(self.data["values"])


def chart_list(charts: dict) -> list[Chart]:
    return [
        Chart("months", "Engagements per month, last 12 months", "bar", "Month", charts["months"]),
        Chart("countries", "By partner country, last 12 months", "bar-horizontal", "Country", charts["countries"]),
        Chart("topics", "By topic, last 12 months", "bar-horizontal", "Topic", charts["topics"]),
    ]


@dataclass
class Dashboard:
    upcoming: Bounded
    my_commitments: Bounded
    other_commitments: Bounded
    quiet: Bounded
    activity: list
    charts: dict
    today: dt.date
    quiet_after_days: int = field(default_factory=lambda: settings.CRM["QUIET_AFTER_DAYS"])

    @property
    def chart_list(self) -> list[Chart]:
        return chart_list(self.charts)


def dashboard(user, *, now=None) -> Dashboard:
    """Everything the home page shows, for `user`, in a fixed number of queries."""
    now = now or timezone.now()
    mine, others = commitments_due(user, now=now)
    return Dashboard(
        upcoming=upcoming_engagements(user, now=now),
        my_commitments=mine,
        other_commitments=others,
        quiet=quiet_partners(user, now=now),
        activity=recent_activity(user),
        charts=engagement_charts(user, now=now),
        today=timezone.localdate(now),
    )


# --- Partner history ------------------------------------------------------


def access_partner_for_history(user, pk, *, now=None) -> Partner:
    """The partner with its parent, owner, topics and the user's last contact date (404 if unknown)."""
    queryset = (
        Partner.objects.select_related("owner", "parent")
        .prefetch_related("topics")
        .annotate(last_contact=_last_contact_with(user, pk, now=now))
    )
    return access.access_partner(user, pk, queryset)


@dataclass
class TimelineItem:
    type: str  # engagement | mission | commitment
    id: int
    day: dt.date
    at: dt.datetime | None
    title: str
    status: str
    kind: str
    place: str
    confidentiality: str
    end: dt.date | None
    owner: str

    @property
    def url(self) -> str:
        from django.urls import reverse

        name = {
            "engagement": "engagements:detail",
            "mission": "engagements:mission-detail",
            "commitment": "engagements:commitment-detail",
        }[self.type]
        return reverse(name, args=[self.id])

    @property
    def type_label(self) -> str:
        return {"engagement": "Engagement", "mission": "Trade mission", "commitment": "Commitment"}[self.type]

    @property
    def status_label(self) -> str:
        choices = {"engagement": Engagement.Status, "mission": TradeMission.Status, "commitment": Commitment.Status}
        return dict(choices[self.type].choices).get(self.status, self.status)

    @property
    def kind_label(self) -> str:
        choices = {"engagement": Engagement.Kind, "mission": TradeMission.Direction, "commitment": Commitment.MadeBy}
        return dict(choices[self.type].choices).get(self.kind, self.kind)

    @property
    def is_restricted(self) -> bool:
        return access.is_restricted(self.confidentiality)

    @property
    def is_open_commitment(self) -> bool:
        return self.type == "commitment" and self.status in Commitment.OPEN_STATUSES


TIMELINE_COLUMNS = (
    "t_day", "t_rank", "t_at", "t_type", "t_id", "t_title", "t_status", "t_kind", "t_place", "t_conf", "t_end",
    "t_owner",
)  # fmt: skip


def _timeline_union(user, partner: Partner, *, limit: int):
    """(date, type, id, …) rows of the partner's engagements, missions and commitments, as one UNION ALL.

    Only the first `limit` rows of the whole order are asked for, so each
    member is cut to its own first `limit` rows in the same order (see
    `_sliced_branch`): the engagements walk the starts_at index instead of
    reading and sorting every engagement of a busy partner.
    """
    tz = timezone.get_current_timezone()
    text = TextField()

    def columns(queryset, *, day, rank, at, type_, title, status, kind, place, conf, end, owner):
        return (
            queryset.order_by()
            .annotate(
                t_day=day,
                t_rank=Value(rank, output_field=IntegerField()),
                t_at=at,
                t_type=Value(type_, output_field=text),
                t_id=F("id"),
                t_title=Cast(title, output_field=text),
                t_status=Cast(status, output_field=text),
                t_kind=Cast(kind, output_field=text),
                t_place=place,
                t_conf=conf,
                t_end=end,
                t_owner=Cast(owner, output_field=text) if owner else Value("", output_field=text),
            )
            .values_list(*TIMELINE_COLUMNS)
        )

    engagements = columns(
        _probed_engagements(user).filter(partners=partner),
        day=TruncDate("starts_at", tzinfo=tz),
        rank=0,
        at=F("starts_at"),
        type_="engagement",
        title="title",
        status="status",
        kind="kind",
        place=Cast("location", output_field=text),
        conf=Cast("confidentiality", output_field=text),
        end=Value(None, output_field=DateField()),
        owner=None,
    )
    missions = columns(
        TradeMission.objects.visible_to(user).filter(partners=partner),
        day=F("start_date"),
        rank=1,
        at=Value(None, output_field=DateTimeField()),
        type_="mission",
        title="name",
        status="status",
        kind="direction",
        place=Cast("cities", output_field=text),
        conf=Value("", output_field=text),
        end=F("end_date"),
        owner=None,
    )
    commitments = columns(
        _probed_commitments(user).filter(partner=partner),
        # A commitment sits on its due date; one without a due date, on the day it was recorded.
        day=Coalesce("due_date", TruncDate("created_at", tzinfo=tz)),
        rank=1,
        at=Value(None, output_field=DateTimeField()),
        type_="commitment",
        title="description",
        status="status",
        kind="made_by",
        place=Value("", output_field=text),
        conf=Value("", output_field=text),
        end=F("completed_on"),
        owner="owner__username",
    )
    # Within one member t_rank and t_type are constant, so its share of the
    # order below is its day, time and id: for engagements that is
    # (starts_at, id), the day being the local date of starts_at.
    engagements = _sliced_branch(engagements, ("-starts_at", "-id"), limit)
    missions = _sliced_branch(missions, ("-start_date", "-id"), limit)
    commitments = _sliced_branch(commitments, (F("t_day").desc(), "-id"), limit)
    # Newest day first; within a day, timed engagements (latest first) before
    # date-only items; type and id make the order total, so pages never overlap.
    return engagements.union(missions, commitments, all=True).order_by("-t_day", "t_rank", "-t_at", "t_type", "-t_id")


@dataclass
class TimelinePage:
    items: list
    number: int
    has_next: bool

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def next_page_number(self) -> int:
        return self.number + 1

    @property
    def previous_page_number(self) -> int:
        return self.number - 1


def partner_timeline(user, partner: Partner, *, page: int = 1) -> TimelinePage:
    """One page of the partner's timeline, newest first: one query whatever the page or the history's length."""
    if page < 1 or page > TIMELINE_MAX_PAGE:
        raise Http404("No such page.")
    offset = (page - 1) * TIMELINE_PAGE_SIZE
    end = offset + TIMELINE_PAGE_SIZE + 1  # one more row tells whether there is a next page
    rows = list(_timeline_union(user, partner, limit=end)[offset:end])
    if not rows and page > 1:
        raise Http404("No such page.")
    items = []
    for day, _rank, at, type_, pk, title, status, kind, place, conf, end, owner in rows[:TIMELINE_PAGE_SIZE]:
        if isinstance(day, dt.datetime):  # SQLite may hand back a datetime for a date expression
            day = day.date()
        if isinstance(day, str):
            day = dt.date.fromisoformat(day[:10])
        if isinstance(end, str):
            end = dt.date.fromisoformat(end[:10])
        items.append(
            TimelineItem(
                type=type_, id=pk, day=day, at=at, title=title, status=status, kind=kind, place=place or "",
                confidentiality=conf or "", end=end, owner=owner or "",
            )
        )
    return TimelinePage(items=items, number=page, has_next=len(rows) > TIMELINE_PAGE_SIZE)


@dataclass
class PartnerHistory:
    partner: Partner
    children: Bounded
    contacts: Bounded
    agreements: Bounded
    we_owe: list
    they_owe: list
    open_has_more: bool
    timeline: TimelinePage
    today: dt.date


def partner_history(user, pk, *, page: int = 1, now=None) -> PartnerHistory:
    """Everything about one partner on one page, as the user may see it."""
    partner = access_partner_for_history(user, pk, now=now)
    children = _bounded(partner.children.order_by("name", "id"), HISTORY_CHILDREN_LIMIT)
    # In post first: those are the people to address at the next meeting.
    contacts = _bounded(partner.contacts.order_by("-is_active", "full_name", "id"), HISTORY_CONTACTS_LIMIT)
    agreements = _bounded(
        partner.agreements.order_by(F("signed_on").desc(nulls_last=True), "title", "id"), HISTORY_AGREEMENTS_LIMIT
    )
    # One query for both columns; a joint commitment is owed by both sides.
    open_commitments = _bounded(
        commitments_for(user)
        .open()
        .filter(partner=partner)
        .select_related("owner", "engagement")
        .order_by(F("due_date").asc(nulls_last=True), "id"),
        HISTORY_OPEN_LIMIT,
    )
    we = (Commitment.MadeBy.CITY, Commitment.MadeBy.JOINT)
    they = (Commitment.MadeBy.PARTNER, Commitment.MadeBy.JOINT)
    return PartnerHistory(
        partner=partner,
        children=children,
        contacts=contacts,
        agreements=agreements,
        we_owe=[c for c in open_commitments if c.made_by in we],
        they_owe=[c for c in open_commitments if c.made_by in they],
        open_has_more=open_commitments.has_more,
        timeline=partner_timeline(user, partner, page=page),
        today=timezone.localdate(now),
    )


# --- Country view ---------------------------------------------------------


def country_or_404(code: str):
    """The django-countries Country for an ISO 3166 alpha-2 code (any case), or a 404."""
    code = (code or "").upper()
    if len(code) != 2 or code not in dict(countries):
        raise Http404("Unknown country code.")
    from django_countries.fields import Country

    return Country(code=code)


@dataclass
class CountryOverview:
    country: object
    partners: Bounded
    engagements: Bounded
    missions: Bounded
    commitments: Bounded
    agreements: Bounded
    today: dt.date


def country_overview(user, code: str, *, now=None) -> CountryOverview:
    """Everything touching one country: its partners and what the user may see of their dealings."""
    country = country_or_404(code)
    code = country.code
    partners = (
        access.partners_for(user)
        .filter(country=code)
        .select_related("owner", "parent")
        .annotate(last_contact=last_contact_subquery(user, now=now))
        .order_by("priority", "name", "id")
    )
    partner_links = Engagement.partners.through.objects.filter(engagement_id=OuterRef("pk"), partner__country=code)
    engagements = (
        engagements_for(user)
        .filter(Exists(partner_links))
        .order_by("-starts_at", "-id")
        .prefetch_related(_partner_names())
    )
    # CountryField(multiple=True) stores "VN,JP": two-letter codes cannot match across a comma.
    missions = TradeMission.objects.visible_to(user).filter(countries__contains=code).order_by("-start_date", "-id")
    commitments = (
        commitments_for(user)
        .open()
        .filter(partner__country=code)
        .select_related("partner", "owner", "engagement")
        .order_by(F("due_date").asc(nulls_last=True), "id")
    )
    agreement_links = Agreement.partners.through.objects.filter(agreement_id=OuterRef("pk"), partner__country=code)
    agreements = (
        access.agreements_for(user)
        .filter(Exists(agreement_links))
        .order_by(F("signed_on").desc(nulls_last=True), "title", "id")
        .prefetch_related(Prefetch("partners", queryset=Partner.objects.only("id", "name").order_by("name", "id")))
    )
    return CountryOverview(
        country=country,
        partners=_bounded(partners, COUNTRY_PARTNERS_LIMIT),
        engagements=_bounded(engagements, COUNTRY_LIMIT),
        missions=_bounded(missions, COUNTRY_LIMIT),
        commitments=_bounded(commitments, COUNTRY_LIMIT),
        agreements=_bounded(agreements, COUNTRY_LIMIT),
        today=timezone.localdate(now),
    )

