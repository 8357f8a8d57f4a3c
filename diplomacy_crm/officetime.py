"""Office time: every "today", "due", "week" and midnight is computed in settings.TIME_ZONE.

The one home of these helpers: reminders and the digest, the dashboard's
windows and charts, the calendar feed, the importer's local times and the
gifts register all read them from here.

A server runs in UTC; the office does not. 23:30 on a Sunday in Los Angeles
is already Monday in UTC, so using UTC dates would put Sunday's run in the
next ISO week. Everything here takes an aware `now` and answers in the
office's zone.
"""

import datetime as dt
import zoneinfo
from functools import lru_cache
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone


def office_tz() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def office_today(now: dt.datetime) -> dt.date:
    return timezone.localtime(now, office_tz()).date()


def iso_week(day: dt.date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def week_start(now: dt.datetime) -> dt.date:
    """The Monday of the office-time ISO week that contains `now`."""
    today = office_today(now)
    return today - dt.timedelta(days=today.weekday())


def local_midnight(day: dt.date) -> dt.datetime:
    # Midnight is never inside a DST gap in the zones we serve (changes happen at 02:00).
    return dt.datetime.combine(day, dt.time.min, tzinfo=office_tz())


def parse_now(value: str | None) -> dt.datetime:
    """An ISO 8601 instant from --now or a task argument; naive means office time."""
    if not value:
        return timezone.now()
    parsed = dt.datetime.fromisoformat(value)
    if timezone.is_naive(parsed):
        parsed = parsed.replace(tzinfo=office_tz())
    return parsed


def human_date(day: dt.date) -> str:
    return f"{day:%a} {day.day} {day:%b %Y}"


def human_datetime(value: dt.datetime) -> str:
    local = timezone.localtime(value, office_tz())
    return f"{local:%a} {local.day} {local:%b %Y}, {local:%H:%M}"


# --- Venue time: the local time where an engagement takes place --------------
#
# An engagement may carry its venue's IANA zone (Engagement.venue_timezone).
# Every surface shows the office time first, as always, then, when the venue's
# clock reads differently at that instant, the venue's: "16:00 (America/Los_Angeles)
# · Tue Apr 14, 01:00 Rome time". The venue's date is written only when it
# differs from the office's.


@lru_cache(maxsize=1)
def _zone_names() -> frozenset:
    return frozenset(zoneinfo.available_timezones())


def validate_time_zone(value: str) -> None:
    """An IANA time zone name known to zoneinfo ("Europe/Rome"), or empty."""
    if value and value not in _zone_names():
        raise ValidationError(
            "Enter a time zone by its IANA name, e.g. Europe/Rome or Asia/Tokyo.", code="invalid_time_zone"
        )


def zone_or_none(name: str | None) -> ZoneInfo | None:
    if not name or name not in _zone_names():
        return None
    return ZoneInfo(name)


def zone_place(name: str) -> str:
    """How a zone is named in a sentence: "Europe/Rome" → "Rome", "America/Argentina/Buenos_Aires" → "Buenos Aires"."""
    if "/" not in name or name.startswith("Etc/"):
        return name.split("/")[-1]
    return name.rsplit("/", 1)[-1].replace("_", " ")


def venue_local(value: dt.datetime | None, zone_name: str | None) -> dt.datetime | None:
    """`value` on the venue's clock, or None when there is no venue zone or its clock reads as the office's then."""
    zone = zone_or_none(zone_name)
    if value is None or zone is None:
        return None
    local = timezone.localtime(value, zone)
    if local.utcoffset() == timezone.localtime(value, office_tz()).utcoffset():
        return None
    return local


def venue_phrase(starts_at: dt.datetime | None, zone_name: str | None, ends_at: dt.datetime | None = None) -> str:
    """"Tue Apr 14, 10:00–11:00 Rome time", or "" when the venue keeps the office's time (or has no zone).

    The venue's date leads only when it is not the office's date at that instant.
    """
    local = venue_local(starts_at, zone_name)
    if local is None:
        return ""
    office = timezone.localtime(starts_at, office_tz())
    text = f"{local:%H:%M}"
    if ends_at is not None:
        end = timezone.localtime(ends_at, local.tzinfo)
        text += f"–{end:%H:%M}" if end.date() == local.date() else f"–{end:%a %b} {end.day}, {end:%H:%M}"
    if local.date() != office.date():
        text = f"{local:%a %b} {local.day}, {text}"
    place = zone_place(zone_name)
    return f"{text} {place} time" if place != "UTC" else f"{text} UTC"
