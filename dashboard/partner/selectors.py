"""A partner's page: its history (timeline), contacts, children, agreements and open commitments."""

import datetime as dt
from dataclasses import dataclass

from django.db.models import DateField, DateTimeField, F, IntegerField, TextField, Value
from django.db.models.functions import Cast, Coalesce, Concat, NullIf, Trim, TruncDate
from django.http import Http404
from django.utils import timezone

from accounts import access
from dashboard.common import Bounded, _bounded, _last_contact_with, _probed_commitments, _probed_engagements, _sliced_branch
from diplomacy_crm.officetime import office_tz, venue_phrase
from engagements.models import Commitment, Engagement, TradeMission
from engagements.selectors import commitments_for
from partners.models import Partner

TIMELINE_PAGE_SIZE = 20
TIMELINE_MAX_PAGE = 500  # deeper pages are refused: OFFSET cost grows with the page
HISTORY_CONTACTS_LIMIT = 100
HISTORY_CHILDREN_LIMIT = 50
HISTORY_AGREEMENTS_LIMIT = 50
HISTORY_OPEN_LIMIT = 50


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
    venue_timezone: str = ""

    @property
    def venue_time(self) -> str:
        """An engagement's time on its venue's clock when that differs from the office's, else ""."""
        return venue_phrase(self.at, self.venue_timezone) if self.at and self.venue_timezone else ""

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
    "t_owner", "t_tz",
)  # fmt: skip


def _timeline_columns(queryset, *, day, rank, at, type_, title, status, kind, place, conf, end, owner, tz=None):
    """One member of the timeline's UNION: `queryset` with the TIMELINE_COLUMNS, in that order."""
    text = TextField()
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
            t_tz=Cast(tz, output_field=text) if tz else Value("", output_field=text),
        )
        .values_list(*TIMELINE_COLUMNS)
    )


def _timeline_union(user, partner: Partner, *, limit: int):
    """(date, type, id, …) rows of the partner's engagements, missions and commitments, as one UNION ALL.

    Only the first `limit` rows of the whole order are asked for, so each
    member is cut to its own first `limit` rows in the same order (see
    `_sliced_branch`): the engagements walk the starts_at index instead of
    reading and sorting every engagement of a busy partner.
    """
    tz = office_tz()
    text = TextField()
    columns = _timeline_columns
    engagements = columns(
        _probed_engagements(user).filter(partners=partner),
        tz="venue_timezone",
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
        # Shown by name, like everywhere else ("owner Marco Rossi"); the username only when no name is set.
        owner=Coalesce(
            NullIf(Trim(Concat("owner__first_name", Value(" "), "owner__last_name", output_field=text)), Value("")),
            "owner__username",
            output_field=text,
        ),
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
    for day, _rank, at, type_, pk, title, status, kind, place, conf, end, owner, venue_tz in rows[:TIMELINE_PAGE_SIZE]:
        if isinstance(day, dt.datetime):  # SQLite may hand back a datetime for a date expression
            day = day.date()
        if isinstance(day, str):
            day = dt.date.fromisoformat(day[:10])
        if isinstance(end, str):
            end = dt.date.fromisoformat(end[:10])
        items.append(
            TimelineItem(
                type=type_, id=pk, day=day, at=at, title=title, status=status, kind=kind, place=place or "",
                confidentiality=conf or "", end=end, owner=owner or "", venue_timezone=venue_tz or "",
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
