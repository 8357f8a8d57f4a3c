"""Read an uploaded CSV/TSV or XLSX file into a header and rows, or say clearly why not.

Everything a user can upload ends here, so every failure is an ImportFileError
with a message fit for the page and the command: never a 500, never a
traceback. Limits keep a hostile file (a 10,001-column row, a zip bomb, a
binary blob renamed .csv) from costing more than reading it once.

The limits are settings (defaults below; the import page and docs/importing.md
state them): IMPORT_MAX_ROWS data rows, IMPORT_MAX_COLUMNS columns,
IMPORT_MAX_CELLS non-empty cells, IMPORT_MAX_UNCOMPRESSED_BYTES for what a
workbook's zip expands to. An XLSX sheet is read from its XML rows as they
are (never from the size the sheet declares, nor by filling the gaps between
rows), so one cell at row 1,048,576 or `<dimension ref="A1:XFD1048576">`
costs what the file's bytes cost; the last row read is the last row with data.
"""

import csv
import datetime as dt
import io
import zipfile
import re
from dataclasses import dataclass, field

from django.conf import settings

MAX_COLUMNS = 200
MAX_ROWS = 100_000
MAX_CELLS = 2_000_000
MAX_UNCOMPRESSED_BYTES = 100 * 1024 * 1024
MAX_CELL_CHARS = 100_000
# Bytes that start a zip (XLSX) and an OLE2 compound file (old .xls).
ZIP_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


class ImportFileError(Exception):
    """The file as a whole cannot be read; the message says why, for the user."""


@dataclass(frozen=True)
class Formula:
    """An XLSX cell holding a formula: imports take values, so the row reports an error."""

    text: str

    def __str__(self):
        return self.text


@dataclass
class Table:
    headers: list[str]
    rows: list[tuple[int, list]]  # (row number as a spreadsheet shows it, cells)
    encoding: str = ""
    warnings: list[str] = field(default_factory=list)
    delimiter: str = ""  # a CSV's: "," ";" or a tab

    def __len__(self):
        return len(self.rows)


@dataclass(frozen=True)
class Limits:
    rows: int
    columns: int
    cells: int
    uncompressed_bytes: int

    @classmethod
    def current(cls) -> "Limits":
        return cls(
            rows=getattr(settings, "IMPORT_MAX_ROWS", MAX_ROWS),
            columns=getattr(settings, "IMPORT_MAX_COLUMNS", MAX_COLUMNS),
            cells=getattr(settings, "IMPORT_MAX_CELLS", MAX_CELLS),
            uncompressed_bytes=getattr(settings, "IMPORT_MAX_UNCOMPRESSED_BYTES", MAX_UNCOMPRESSED_BYTES),
        )


def limits() -> Limits:
    """The reader's limits as the settings give them now (the page states them)."""
    return Limits.current()


def size_text(n: int) -> str:
    """12 MB, 300 KB: a size as the page says it."""
    if n >= 1_048_576:
        return f"{n / 1_048_576:,.0f} MB"
    return f"{max(1, round(n / 1024)):,} KB"


def column_letter(index: int) -> str:
    """0 → A, 25 → Z, 26 → AA: how a spreadsheet names a column."""
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def read_table(data: bytes, filename: str = "") -> Table:
    """Parse `data` (the whole upload) as XLSX when it is a zip, else as delimited text."""
    if not data or not data.strip():
        raise ImportFileError("The file is empty.")
    name = (filename or "").lower()
    if data.startswith(OLE_MAGIC) or name.endswith(".xls"):
        raise ImportFileError("Old Excel .xls files cannot be read: save the sheet as .xlsx or CSV (UTF-8).")
    if data.startswith(ZIP_MAGIC):
        return _read_xlsx(data)
    if name.endswith((".xlsx", ".xlsm")):
        raise ImportFileError("This file is not a valid XLSX workbook (it is not a zip archive). Save it again from Excel, or as CSV.")
    return _read_delimited(data)


# --- CSV / TSV ---------------------------------------------------------------


def _decode(data: bytes) -> tuple[str, str]:
    """Text and the encoding used: UTF-8 (with or without BOM), UTF-16 with BOM, else Windows-1252."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16"), "UTF-16"
        except UnicodeDecodeError:
            raise ImportFileError("The file says it is UTF-16 but is not valid UTF-16. Save it as CSV (UTF-8).") from None
    if b"\x00" in data:
        raise ImportFileError(
            "The file contains NUL bytes, so it is not a text CSV: it may be a binary file, "
            "or UTF-16 without a byte-order mark. Save it as CSV (UTF-8) or XLSX."
        )
    try:
        return data.decode("utf-8-sig"), "UTF-8"
    except UnicodeDecodeError:
        pass
    # Excel on Windows saves "CSV" in the ANSI code page; Latin-1 covers the 5 bytes cp1252 leaves undefined.
    try:
        return data.decode("cp1252"), "Windows-1252"
    except UnicodeDecodeError:
        return data.decode("latin-1"), "Latin-1"


def _looks_binary(text: str) -> bool:
    sample = text[:8192]
    controls = sum(1 for c in sample if (ord(c) < 32 and c not in "\t\r\n") or 0x7F <= ord(c) < 0xA0)
    return controls > max(2, len(sample) // 100)


def _sniff_delimiter(text: str) -> str:
    first_line = text.split("\n", 1)[0]
    counts = {d: first_line.count(d) for d in (",", "\t", ";")}
    best = max(counts, key=counts.get)
    return best if counts[best] else ","


def _read_delimited(data: bytes) -> Table:
    text, encoding = _decode(data)
    if _looks_binary(text):
        raise ImportFileError("The file does not look like text: it may be a binary file. Upload a CSV (UTF-8) or an XLSX file.")
    warnings = []
    if encoding not in ("UTF-8",):
        warnings.append(f"The file is not UTF-8; it was read as {encoding}. Check accented letters in the preview.")
    delimiter = _sniff_delimiter(text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=False)
    csv.field_size_limit(MAX_CELL_CHARS)
    bounds = limits()
    headers, rows = None, []
    record = filled = 0
    try:
        for cells in reader:
            record += 1
            _check_width(len(cells), record, bounds)
            if headers is None:
                if not any(c.strip() for c in cells):
                    continue  # blank lines above the header
                headers = _clean_headers(cells)
                continue
            non_empty = sum(1 for c in cells if c.strip())
            if non_empty:
                rows.append((record, cells))
                filled += non_empty
                _check_size(len(rows), filled, bounds)
    except csv.Error as exc:
        raise ImportFileError(f"Row {record + 1} cannot be read as CSV: {exc}.") from None
    table = _finish(headers, rows, encoding, warnings)
    table.delimiter = delimiter
    return table


def _check_width(width: int, row_number: int, bounds: Limits) -> None:
    if width > bounds.columns:
        raise ImportFileError(
            f"Row {row_number} has {width:,} columns; at most {bounds.columns:,} are allowed. Is this the right file?"
        )


def _check_size(rows: int, cells: int, bounds: Limits) -> None:
    if rows > bounds.rows:
        raise ImportFileError(f"The file has more than {bounds.rows:,} rows. Split it into smaller files.")
    if cells > bounds.cells:
        raise ImportFileError(
            f"The file has more than {bounds.cells:,} filled cells. Split it into smaller files, or leave out columns."
        )


def _clean_headers(cells: list) -> list[str]:
    headers = []
    seen = {}
    for index, cell in enumerate(cells):
        header = ("" if cell is None else str(cell)).replace("\x00", "").strip()
        if not header:
            header = f"(column {column_letter(index)})"
        key = header.casefold()
        if key in seen:
            raise ImportFileError(
                f"The header “{header}” appears twice (columns {column_letter(seen[key])} and "
                f"{column_letter(index)}). Rename one of them."
            )
        seen[key] = index
        headers.append(header)
    # Trailing unnamed, empty header cells are spreadsheet noise.
    while headers and headers[-1].startswith("(column "):
        headers.pop()
    return headers


def _finish(headers, rows, encoding, warnings) -> Table:
    if headers is None:
        raise ImportFileError("The file is empty.")
    if not headers:
        raise ImportFileError("The first row holds no column headers.")
    if not rows:
        raise ImportFileError("The file has a header row but no data rows.")
    return Table(headers=headers, rows=rows, encoding=encoding, warnings=warnings)


# --- XLSX --------------------------------------------------------------------


def _read_xlsx(data: bytes) -> Table:
    # Imported here: openpyxl is only needed for spreadsheets.
    from openpyxl import load_workbook

    bounds = limits()
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            # A zip bomb is refused before anything is inflated (a member's reads stop at its stated size).
            inflated = sum(info.file_size for info in archive.infolist())
            if inflated > bounds.uncompressed_bytes:
                raise ImportFileError(
                    f"The workbook expands to {size_text(inflated)}; at most {size_text(bounds.uncompressed_bytes)} "
                    "can be read. Save a smaller sheet, or CSV."
                )
            if "xl/workbook.xml" not in archive.namelist():
                raise ImportFileError("This zip file is not an Excel workbook (.xlsx).")
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except ImportFileError:
        raise
    except Exception as exc:  # openpyxl raises many types on a damaged file; all mean "cannot read"
        raise ImportFileError(f"The workbook cannot be read ({type(exc).__name__}). Save it again from Excel, or as CSV.") from None
    warnings = []
    try:
        sheets = workbook.worksheets
        if not sheets:
            raise ImportFileError("The workbook has no sheets.")
        if len(sheets) > 1:
            warnings.append(f"The workbook has {len(sheets)} sheets; only the first, “{sheets[0].title}”, was read.")
        headers, rows = None, []
        for row_number, values in _sheet_rows(workbook, sheets[0], bounds):
            if headers is None:
                headers = _clean_headers(values)
                continue
            rows.append((row_number, values))
    except ImportFileError:
        raise
    except Exception as exc:
        raise ImportFileError(f"The workbook cannot be read ({type(exc).__name__}). Save it again from Excel, or as CSV.") from None
    finally:
        workbook.close()
    return _finish(headers, rows, "XLSX", warnings)


def _sheet_rows(workbook, sheet, bounds: Limits):
    """(row number, values) of each row of `sheet` that holds data, as the XML has them.

    openpyxl's own iteration fills every missing row up to the declared
    dimension (and pads each row to the widest column): one cell at
    r="1048576" then costs a million rows. Here only the rows present are
    parsed, a cell beyond the column limit is refused as soon as it is seen,
    and the filled cells and rows are counted against their limits as they come.
    """
    from openpyxl.worksheet._reader import WorkSheetParser

    date_only = _date_only_styles(workbook)
    elements = filled = data_rows = 0
    with sheet._get_source() as source:
        parser = WorkSheetParser(
            source, sheet._shared_strings, data_only=False, epoch=workbook.epoch,
            date_formats=workbook._date_formats, timedelta_formats=workbook._timedelta_formats,
        )
        for row_number, cells in parser.parse():
            elements += 1 + len(cells)
            if elements > 4 * bounds.cells + bounds.rows:
                raise ImportFileError(
                    f"The sheet has more than {bounds.cells:,} cells (counting formatted empty ones). "
                    "Save only the rows and columns with data, or CSV."
                )
            present = {}
            for cell in cells:
                value = _cell_value(cell, date_only)
                if value is None or value == "":
                    continue
                column = cell["column"]
                if column > bounds.columns:
                    raise ImportFileError(
                        f"Row {row_number} has a value in column {column_letter(column - 1)} (column {column:,}); "
                        f"at most {bounds.columns:,} columns are allowed. Is this the right file?"
                    )
                present[column] = value
            if not present:
                continue
            values = [None] * max(present)
            for column, value in present.items():
                values[column - 1] = value
            filled += len(present)
            data_rows += 1
            _check_size(data_rows - 1, filled, bounds)
            yield row_number, values


_QUOTED_OR_BRACKETED = re.compile(r'"[^"]*"|\[[^\]]*\]|\\.')


def _date_only_styles(workbook) -> set:
    """Ids of the cell styles whose number format shows a date without a time (dd/mm/yyyy, not …hh:mm)."""
    from openpyxl.styles.numbers import BUILTIN_FORMATS_MAX_SIZE, builtin_format_code

    found = set()
    styles = getattr(workbook, "_cell_styles", [])
    for idx in workbook._date_formats:
        try:
            num_fmt = styles[idx].numFmtId
            fmt = (builtin_format_code(num_fmt) if num_fmt < BUILTIN_FORMATS_MAX_SIZE
                   else workbook._number_formats[num_fmt - BUILTIN_FORMATS_MAX_SIZE])
        except (IndexError, KeyError, TypeError, AttributeError):
            continue
        bare = _QUOTED_OR_BRACKETED.sub("", fmt or "").lower()
        if "h" not in bare and "s" not in bare:
            found.add(idx)
    return found


def _cell_value(cell: dict, date_only: set = frozenset()):
    """A parsed cell (openpyxl's dict: value, data_type, style_id) → what the importer reads.

    A date cell whose format shows no time is a date (so an end date can mean the whole day).
    """
    value = cell.get("value")
    if cell.get("data_type") == "f":
        return Formula(str(getattr(value, "text", value)))
    if isinstance(value, str):
        return value
    if isinstance(value, dt.datetime) and cell.get("style_id") in date_only and value.time() == dt.time():
        return value.date()
    if isinstance(value, (dt.datetime, dt.date, dt.time, bool, int, float)) or value is None:
        return value
    # ArrayFormula, DataTableFormula and the like.
    return Formula(str(getattr(value, "text", value)))
