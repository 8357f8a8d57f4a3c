"""The range of dates and times the CRM accepts, the same for the model, the forms, the API and the import.

Real diplomatic records go back well before 1900 (visits of 1876 in the
public data sets), so the range starts in 1800. It stops before 2200: an
instant near year 1 or 9999 overflows Python's datetime when moved between
time zones, which would be a 500 rather than a clear error.
"""

import datetime as dt

EARLIEST_YEAR = 1800
LATEST_YEAR = 2199
OUT_OF_RANGE = f"Enter a date and time between {EARLIEST_YEAR} and {LATEST_YEAR}."


def year_in_range(value: dt.date | dt.datetime | None) -> bool:
    """True for None and for a date or time whose year is in the accepted range."""
    return value is None or EARLIEST_YEAR <= value.year <= LATEST_YEAR
