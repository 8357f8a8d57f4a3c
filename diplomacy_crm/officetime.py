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
from zoneinfo import ZoneInfo

from django.conf import settings
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
