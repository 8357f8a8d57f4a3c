"""CSV export shared by every list page: streamed, and safe to open in a spreadsheet."""

import csv
import re
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime

from django.http import StreamingHttpResponse

from . import dates

# A cell starting with one of these is a formula to Excel, LibreOffice or
# Sheets (OWASP "CSV injection"; the full-width forms count in East Asian
# locales; NUL after ASVS 1.2.10). A leading apostrophe makes it plain text.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\n", "\x00", "\uff1d", "\uff0b", "\uff0d", "\uff20")
# Inside a cell, a separator some spreadsheet may split on (comma, semicolon,
# tab, pipe, a new line), then optional spaces, then a trigger: were the cell
# split there, its second part would be a formula. Every cell is also quoted
# (QUOTE_ALL), so a reader that honours quotes never splits it at all.
_SPLIT_FORMULA = re.compile(r"([,;\t|\r\n][ ]*)(?=[=+\-@\uff1d\uff0b\uff0d\uff20])")

Column = tuple[str, Callable[[object], object]]


def safe_cell(value) -> str:
    """The text of one cell, neutralised wherever a spreadsheet could read a formula.

    A leading trigger gets an apostrophe in front, and so does a trigger that
    follows a separator inside the cell: "=1+2" is written "'=1+2", and
    "Lunch; =HYPERLINK(…)" is written "Lunch; '=HYPERLINK(…)".
    """
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, datetime):
        value = dates.isoformat(value)  # the office's zone; UTC before standard zones (1876)
    text = str(value)
    text = _SPLIT_FORMULA.sub(r"\1'", text)
    if text.startswith(FORMULA_TRIGGERS):
        return "'" + text
    return text


class _Echo:
    """A file-like object whose write() hands the line back, for streaming."""

    def write(self, value):
        return value


def csv_rows(columns: Sequence[Column], objects: Iterable) -> Iterable[str]:
    writer = csv.writer(_Echo(), quoting=csv.QUOTE_ALL)
    yield writer.writerow([safe_cell(header) for header, _ in columns])
    for obj in objects:
        yield writer.writerow([safe_cell(getter(obj)) for _, getter in columns])


def stream_csv(columns: Sequence[Column], objects: Iterable, filename: str) -> StreamingHttpResponse:
    """A streamed CSV download: `columns` is a list of (header, getter(obj)) pairs.

    Pass `queryset.iterator(chunk_size=...)` as `objects` so that a large
    export never sits in memory; prefetches run per chunk.
    """
    response = StreamingHttpResponse(csv_rows(columns, objects), content_type="text/csv; charset=utf-8")
    safe_name = "".join(c for c in filename if c.isalnum() or c in "-_.") or "export.csv"
    response["Content-Disposition"] = f'attachment; filename="{safe_name}"'
    response["Cache-Control"] = "no-store"
    return response
