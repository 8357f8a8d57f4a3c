"""Read an uploaded CSV/TSV or XLSX file into a header and rows, or say clearly why not.

Everything a user can upload ends here, so every failure is an ImportFileError
with a message fit for the page and the command: never a 500, never a
traceback. Limits keep a hostile file (a 10,001-column row, a zip bomb, a
binary blob renamed .csv) from costing more than reading it once.
"""

import csv
import datetime as dt
import io
import zipfile
from dataclasses import dataclass, field

MAX_COLUMNS = 200
MAX_ROWS = 100_000
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

    def __len__(self):
        return len(self.rows)


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
    headers, rows = None, []
    record = 0
    try:
        for cells in reader:
            record += 1
            _check_width(len(cells), record)
            if headers is None:
                if not any(c.strip() for c in cells):
                    continue  # blank lines above the header
                headers = _clean_headers(cells)
                continue
            if any(c.strip() for c in cells):
                rows.append((record, cells))
                if len(rows) > MAX_ROWS:
                    raise ImportFileError(f"The file has more than {MAX_ROWS:,} rows. Split it into smaller files.")
    except csv.Error as exc:
        raise ImportFileError(f"Row {record + 1} cannot be read as CSV: {exc}.") from None
    return _finish(headers, rows, encoding, warnings)


def _check_width(width: int, row_number: int) -> None:
    if width > MAX_COLUMNS:
        raise ImportFileError(
            f"Row {row_number} has {width:,} columns; at most {MAX_COLUMNS} are allowed. Is this the right file?"
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

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            # A zip bomb is refused before openpyxl inflates it.
            inflated = sum(info.file_size for info in archive.infolist())
            if inflated > 200 * 1024 * 1024:
                raise ImportFileError("The workbook expands to more than 200 MB. Save a smaller sheet, or CSV.")
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
        row_number = 0
        for cells in sheets[0].iter_rows(max_col=MAX_COLUMNS + 1):
            row_number += 1
            values = [_cell_value(c) for c in cells]
            while values and values[-1] in (None, ""):
                values.pop()
            _check_width(len(values), row_number)
            if headers is None:
                if not values:
                    continue
                headers = _clean_headers(values)
                continue
            if any(v not in (None, "") for v in values):
                rows.append((row_number, values))
                if len(rows) > MAX_ROWS:
                    raise ImportFileError(f"The sheet has more than {MAX_ROWS:,} rows. Split it into smaller files.")
    except ImportFileError:
        raise
    except Exception as exc:
        raise ImportFileError(f"The workbook cannot be read ({type(exc).__name__}). Save it again from Excel, or as CSV.") from None
    finally:
        workbook.close()
    return _finish(headers, rows, "XLSX", warnings)


def _cell_value(cell):
    value = getattr(cell, "value", None)
    if getattr(cell, "data_type", None) == "f":
        return Formula(str(value))
    if isinstance(value, str):
        return value
    if isinstance(value, (dt.datetime, dt.date, dt.time, bool, int, float)) or value is None:
        return value
    # ArrayFormula, DataTableFormula and the like.
    return Formula(str(getattr(value, "text", value)))
