"""The importer's cell conversions: a cell's text or value into a date, a time, a choice, a number, a list, a name's parts.

Each parser raises ValueError with a message for the row's error list (imports/run.py).
"""

import datetime as dt
import re

from django.conf import settings

from diplomacy_crm.officetime import office_tz

from .text import name_key


def _header_key(text: str) -> str:
    return re.sub(r"[\s\-]+", "_", name_key(text))


# --- Cell conversion ---------------------------------------------------------------------

TRUE = {"1", "true", "yes", "y", "t", "x", "on", "✓"}
FALSE = {"0", "false", "no", "n", "f", "off", "-"}
_ID = re.compile(r"#?(\d{1,18})")


def _is_empty(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _as_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value.isoformat()
    return str(value).strip()


def split_list(text: str, *, commas: bool) -> list[str]:
    parts = re.split(r"[;\n]" if not commas else r"[;,\n]", text)
    seen, items = set(), []
    for part in (p.strip() for p in parts):
        if part and part.casefold() not in seen:
            seen.add(part.casefold())
            items.append(part)
    return items


def parse_datetime(value, zone=None) -> dt.datetime:
    """An aware datetime from an ISO 8601 string or a spreadsheet date-time; ValueError with a reason.

    Without an offset it is a wall-clock time in `zone` (default: the office's).
    """
    if isinstance(value, dt.datetime):
        naive = value
    elif isinstance(value, dt.date):
        naive = dt.datetime.combine(value, dt.time())
    else:
        text = _as_text(value)
        try:
            naive = dt.datetime.fromisoformat(text)
        except ValueError:
            raise ValueError(
                f"“{text[:60]}” is not an ISO 8601 date-time (e.g. 2025-03-14T10:00 or 2025-03-14T10:00-07:00)."
            ) from None
    if naive.tzinfo is not None:
        return naive
    zone = zone or office_tz()
    aware = naive.replace(tzinfo=zone)
    if aware.astimezone(dt.UTC).astimezone(zone).replace(tzinfo=None) != naive:
        raise ValueError(
            f"{naive.isoformat(timespec='minutes')} does not exist in {getattr(zone, 'key', settings.TIME_ZONE)}: the clocks jump "
            "forward then. Give the offset, or another time."
        )
    return aware


_DATE_ONLY = re.compile(r"\s*\d{4}-\d{2}-\d{2}\s*")


def parse_end_datetime(value, zone=None) -> dt.datetime:
    """Like parse_datetime, but a date without a time means the END of that day (23:59:59).

    In the office's time zone, or `zone` (the event's) when given: a one-day
    visit with starts = ends = 2025-03-14 is valid, and a visit 14–16 March
    keeps the 16th.
    """
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        day = value
    elif isinstance(value, str) and _DATE_ONLY.fullmatch(value):
        try:
            day = dt.date.fromisoformat(value.strip())
        except ValueError:
            raise ValueError(f"“{value.strip()[:60]}” is not a date (YYYY-MM-DD).") from None
    else:
        return parse_datetime(value, zone=zone)
    return parse_datetime(dt.datetime.combine(day, dt.time(23, 59, 59)), zone=zone)


def parse_date(value) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = _as_text(value)
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"“{text[:60]}” is not a date (YYYY-MM-DD).") from None


def parse_choice(value, choices) -> str:
    text = _as_text(value)
    wanted = _header_key(text)
    for choice_value, label in choices:
        if wanted in (_header_key(str(choice_value)), _header_key(str(label))):
            return choice_value
    allowed = ", ".join(str(v) for v, _ in choices)
    raise ValueError(f"“{text[:60]}” is not one of: {allowed}.")


def parse_priority(value) -> int:
    words = {"high": 1, "medium": 2, "normal": 2, "low": 3}
    text = _as_text(value).casefold()
    if text in words:
        return words[text]
    if text in ("1", "2", "3"):
        return int(text)
    raise ValueError(f"“{text[:20]}” is not a priority: use 1 (high), 2 or 3 (low).")


def parse_bool(value) -> bool:
    if isinstance(value, bool):
        return value
    text = _as_text(value).casefold()
    if text in TRUE:
        return True
    if text in FALSE:
        return False
    raise ValueError(f"“{text[:20]}” is not yes or no.")


# Titles written before a name in real lists ("Prime Minister Kyriakos Mitsotakis", "H.E. …").
HONORIFICS = [
    "His Excellency", "Her Excellency", "H.E.", "HE", "The Right Honourable", "The Right Honorable", "The Rt. Hon.",
    "Rt. Hon.", "The Honourable", "The Honorable", "The Hon.", "Hon.", "His Majesty", "Her Majesty",
    "His Royal Highness", "Her Royal Highness", "HRH", "His Holiness", "His Highness", "Her Highness",
    "Dr.", "Dr", "Prof.", "Professor", "Mr.", "Mrs.", "Ms.", "Mr", "Mrs", "Ms", "Sir", "Dame",
]
TITLES = [
    "Interim President", "Acting President", "Vice President", "President-elect", "President",
    "Prime Minister", "Deputy Prime Minister", "First Minister", "Chancellor", "Premier", "Governor General",
    "Governor", "Lieutenant Governor", "Mayor", "Deputy Mayor", "Lord Mayor", "Secretary General",
    "Secretary-General", "Foreign Minister", "Minister", "Ambassador", "Consul General", "Consul",
    "Crown Prince", "Crown Princess", "Grand Duke", "Grand Duchess", "King", "Queen", "Emperor", "Empress",
    "Sultan", "Emir", "Amir", "Sheikh", "Prince", "Princess", "Chairman", "Chairwoman", "Chair", "Pope",
    "General", "Archbishop", "Cardinal",
]
_HONORIFIC_RE = re.compile(r"^(" + "|".join(re.escape(h) for h in sorted(HONORIFICS, key=len, reverse=True)) + r")\s+", re.I)
_TITLE_RE = re.compile(r"^(" + "|".join(re.escape(t) for t in sorted(TITLES, key=len, reverse=True)) + r")\s+", re.I)


def split_titles(full_name: str) -> tuple[str, str, str]:
    """("H.E. Prime Minister Jane Doe") → ("H.E.", "Prime Minister", "Jane Doe"); a bare name stays whole."""
    honorific = title = ""
    rest = full_name.strip()
    match = _HONORIFIC_RE.match(rest)
    if match and rest[match.end():].strip():
        honorific, rest = match.group(1), rest[match.end():].strip()
    match = _TITLE_RE.match(rest)
    if match and len(rest[match.end():].split()) >= 1:
        title, rest = match.group(1), rest[match.end():].strip()
    return honorific, title, rest
