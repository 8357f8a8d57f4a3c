"""The range of dates and times the CRM accepts, the same for the model, the forms, the API and the import.

Real diplomatic records go back well before 1900 (visits of 1876 in the
public data sets), so the range starts in 1800. It stops before 2200: an
instant near year 1 or 9999 overflows Python's datetime when moved between
time zones, which would be a 500 rather than a clear error.
"""

import datetime as dt

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone

EARLIEST_YEAR = 1800
LATEST_YEAR = 2199
OUT_OF_RANGE = f"Enter a date and time between {EARLIEST_YEAR} and {LATEST_YEAR}."


def year_in_range(value: dt.date | dt.datetime | None) -> bool:
    """True for None and for a date or time whose year is in the accepted range."""
    return value is None or EARLIEST_YEAR <= value.year <= LATEST_YEAR


DATE_OUT_OF_RANGE = f"Enter a date between {EARLIEST_YEAR} and {LATEST_YEAR}."
# The same range for the browser's date pickers (HTML min and max).
INPUT_MIN = f"{EARLIEST_YEAR}-01-01"
INPUT_MAX = f"{LATEST_YEAR}-12-31"
DATETIME_INPUT_MIN = f"{INPUT_MIN}T00:00"
DATETIME_INPUT_MAX = f"{INPUT_MAX}T23:59"


def validate_date(value) -> None:
    """The validator of every date field (model, form, API, filter): a year in the accepted range."""
    if not year_in_range(value):
        raise ValidationError(DATE_OUT_OF_RANGE, code="out_of_range")


def date_input(attrs: dict | None = None) -> forms.DateInput:
    """A browser date picker limited to the accepted range."""
    return forms.DateInput(attrs={"type": "date", "min": INPUT_MIN, "max": INPUT_MAX, **(attrs or {})})


def isoformat(value: dt.datetime) -> str:
    """An aware time as RFC 3339 / ISO 8601 text, in the office's zone.

    Before standard time zones (the office's zone in 1876 is local mean time,
    -07:52:58 in Los Angeles) the offset has seconds, which ISO 8601 and RFC 3339
    do not allow and many readers refuse: such a time is written in UTC instead,
    the same instant.
    """
    local = timezone.localtime(value)
    if int(local.utcoffset().total_seconds()) % 60:
        return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")
    return local.isoformat()
