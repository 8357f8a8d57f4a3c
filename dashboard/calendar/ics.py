"""Calendars: a personal ICS feed per user, and an "add to calendar" file for one engagement.

The feed (`/calendar.ics?token=…`) needs no login: calendar applications
cannot log in, so the token on the user's Profile is the credential; the
preferences page rotates it, and an unknown or rotated token is a 404. It
holds what that user may see: engagements from 90 days ago to a year ahead
(not cancelled), and the user's own open commitments on their due dates as
all-day events (VTODO is ignored by most calendar applications).

Times are written in the office's zone, or the venue's when the engagement
names one (`venue_timezone`), with a VTIMEZONE for each zone used (icalendar
builds them from zoneinfo), except a time in the hour a clock change repeats: a local
time with a TZID names the first of the two instants for every reader
(RFC 5545, 3.3.5), so such a start or end is written in UTC. Each event's
UID is `<kind>-<id>@CALENDAR_UID_DOMAIN`, stable per record and independent
of SITE_URL; DTSTAMP and LAST-MODIFIED are the record's updated_at, and
SEQUENCE grows with it.

Only those who may see a restricted engagement get it in their feed (as
everywhere, accounts.access). There it carries CLASS:CONFIDENTIAL, its title,
time, location and partners, and in place of its summary the line
"Restricted: see the CRM for details.": its notes (summary, outcomes) never
leave the building in calendar applications.
"""

import datetime as dt
import re

from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from icalendar import Calendar, Event

from diplomacy_crm.links import site_url
from diplomacy_crm.officetime import human_datetime, office_tz, zone_or_none
from engagements.models import Engagement
from engagements.selectors import commitments_for, engagements_for

FEED_PAST_DAYS = 90
FEED_FUTURE_DAYS = 365
FEED_MAX_EVENTS = 2000
FEED_MAX_COMMITMENTS = 1000
DEFAULT_DURATION = dt.timedelta(hours=1)
DESCRIPTION_MAX = 2000
PRODID = "-//City Office of International Affairs//Diplomacy CRM//EN"


# iCalendar values may hold no control character but tab (RFC 5545, 3.3.11);
# icalendar escapes , ; \ and new lines in TEXT values, but not in X- names.
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]+")


def _line(value: str) -> str:
    """A one-line property (summary, location, calendar name): each run of control characters becomes a space."""
    return _CONTROL.sub(" ", value or "").strip()


def _text(value: str) -> str:
    """A multi-line property (description): new lines kept (icalendar escapes them), other controls dropped."""
    lines = (value or "").replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return "\n".join(_CONTROL.sub("", line) for line in lines)


def _uid(kind: str, pk: int) -> str:
    return f"{kind}-{pk}@{settings.CALENDAR_UID_DOMAIN}"


def _wall_time(value: dt.datetime, tz) -> dt.datetime:
    """`value` in the office's zone, or in UTC when that local time occurs twice (a clock change's repeated hour)."""
    local = timezone.localtime(value, tz)
    if local.replace(fold=1 - local.fold).utcoffset() != local.utcoffset():
        return value.astimezone(dt.UTC)
    return local


def _sequence(record) -> int:
    """Grows with every save: seconds between creation and the last change."""
    if not record.updated_at or not record.created_at:
        return 0
    return max(0, int((record.updated_at - record.created_at).total_seconds()))


def new_calendar(name: str) -> Calendar:
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", _line(name))
    cal.add("x-wr-timezone", settings.TIME_ZONE)
    return cal


def engagement_event(engagement: Engagement, partners: list) -> Event:
    # The venue's zone when the engagement has one (a calendar application then shows both clocks correctly
    # to a traveller and to the office), else the office's.
    tz = zone_or_none(engagement.venue_timezone) or office_tz()
    starts = _wall_time(engagement.starts_at, tz)
    ends = _wall_time(engagement.ends_at or engagement.starts_at + DEFAULT_DURATION, tz)
    event = Event()
    event.add("uid", _uid("engagement", engagement.pk))
    event.add("dtstamp", engagement.updated_at)
    event.add("last-modified", engagement.updated_at)
    event.add("created", engagement.created_at)
    event.add("sequence", _sequence(engagement))
    event.add("dtstart", starts)
    event.add("dtend", ends)
    event.add("summary", _line(engagement.title))
    if engagement.location:
        event.add("location", _line(engagement.location))
    event.add("status", "CONFIRMED")
    event.add("categories", [engagement.get_kind_display()])
    url = site_url(reverse("engagements:detail", args=[engagement.pk]))
    event.add("url", url)
    lines = []
    venue = engagement.venue_time
    if venue:
        lines.append(f"{venue}; office time {human_datetime(engagement.starts_at)} ({settings.TIME_ZONE})")
    if partners:
        lines.append("Partners: " + "; ".join(p.name for p in partners))
    if engagement.is_restricted:
        event.add("class", "CONFIDENTIAL")
        lines.append("Restricted: see the CRM for details.")
    else:
        event.add("class", "PRIVATE" if engagement.confidentiality == "internal" else "PUBLIC")
        if engagement.summary:
            lines.append(engagement.summary[:DESCRIPTION_MAX])
    lines.append(url)
    event.add("description", _text("\n\n".join(lines)))
    return event


def commitment_event(commitment) -> Event:
    event = Event()
    event.add("uid", _uid("commitment", commitment.pk))
    event.add("dtstamp", commitment.updated_at)
    event.add("last-modified", commitment.updated_at)
    event.add("sequence", _sequence(commitment))
    event.add("dtstart", commitment.due_date)  # a date: an all-day event
    event.add("dtend", commitment.due_date + dt.timedelta(days=1))
    event.add("transp", "TRANSPARENT")
    partner = f" ({commitment.partner.name})" if commitment.partner_id else ""
    event.add("summary", _line(f"Due: {commitment.description[:120]}{partner}"))
    url = site_url(reverse("engagements:commitment-detail", args=[commitment.pk]))
    event.add("url", url)
    event.add("categories", ["Commitment"])
    event.add("description", _text(f"{commitment.description[:DESCRIPTION_MAX]}\n\n{commitment.get_made_by_display()} · {commitment.get_status_display()}\n{url}"))
    return event


def add_timezone(cal: Calendar, first: dt.datetime, last: dt.datetime) -> None:
    """The VTIMEZONE of each zone the events use (the office's, venues'), with transitions from a year before `first` to a year after `last`."""
    cal.add_missing_timezones(
        first_date=(first - dt.timedelta(days=366)).date(), last_date=(last + dt.timedelta(days=366)).date()
    )


def _partner_names_by_engagement(engagements: list) -> dict[int, list]:
    through = Engagement.partners.through
    names: dict[int, list] = {}
    rows = (
        through.objects.filter(engagement_id__in=[e.pk for e in engagements])
        .select_related("partner")
        .only("engagement_id", "partner__id", "partner__name")
        .order_by("partner__name", "partner_id")
    )
    for link in rows:
        names.setdefault(link.engagement_id, []).append(link.partner)
    return names


def user_feed(user, *, now=None) -> Calendar:
    """The user's calendar: visible engagements in the window, and their own open commitments' due dates.

    Four queries (the user's groups, engagements, their partners, commitments), whatever the sizes.
    """
    now = now or timezone.now()
    engagements = list(
        engagements_for(user)
        .held()
        .filter(starts_at__gte=now - dt.timedelta(days=FEED_PAST_DAYS), starts_at__lt=now + dt.timedelta(days=FEED_FUTURE_DAYS))
        .order_by("starts_at", "pk")[:FEED_MAX_EVENTS]
    )
    partners = _partner_names_by_engagement(engagements) if engagements else {}
    today = timezone.localdate(now)
    commitments = list(
        commitments_for(user)
        .open()
        .filter(owner=user, due_date__gte=today - dt.timedelta(days=FEED_PAST_DAYS))
        .select_related("partner")
        .order_by("due_date", "pk")[:FEED_MAX_COMMITMENTS]
    )
    cal = new_calendar(f"CRM: {user.get_full_name() or user.get_username()}")
    cal.add("x-published-ttl", "PT1H")
    cal.add("refresh-interval", dt.timedelta(hours=1), parameters={"VALUE": "DURATION"})
    for engagement in engagements:
        cal.add_component(engagement_event(engagement, partners.get(engagement.pk, [])))
    for commitment in commitments:
        cal.add_component(commitment_event(commitment))
    add_timezone(cal, now - dt.timedelta(days=FEED_PAST_DAYS), now + dt.timedelta(days=FEED_FUTURE_DAYS))
    return cal
