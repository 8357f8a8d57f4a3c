"""The bad rows of an import, given back as a file to fix and import again.

The file has the uploaded file's columns, in their order, with each bad row's
cells as they were, plus one last column saying what is wrong. A CSV comes back
as CSV (UTF-8, the same delimiter), an XLSX as XLSX (dates stay dates), so the
fixed file goes through the same mapping again.
"""

import csv
import io
from collections import defaultdict

from .reader import Formula, Table

ERROR_HEADER = "import error"


def _error_header(headers: list[str]) -> str:
    taken = {h.casefold() for h in headers}
    header, n = ERROR_HEADER, 1
    while header.casefold() in taken:
        n += 1
        header = f"{ERROR_HEADER} {n}"
    return header


def _messages_by_row(errors: list[dict]) -> dict[int, str]:
    by_row = defaultdict(list)
    for error in errors:
        row = error.get("row") or 0
        if row:
            text = f"{error['column']}: {error['message']}" if error.get("column") else error["message"]
            by_row[row].append(text)
    return {row: " | ".join(texts) for row, texts in by_row.items()}


def bad_rows(table: Table, errors: list[dict]) -> tuple[list[str], list[list]]:
    """(headers + error header, [cells of each bad row + its errors]) in the file's order."""
    messages = _messages_by_row(errors)
    width = len(table.headers)
    out = []
    for number, cells in table.rows:
        if number in messages:
            row = list(cells[:width]) + [None] * (width - len(cells))
            out.append([*row, messages[number]])
    return [*table.headers, _error_header(table.headers)], out


def bad_rows_file(table: Table, errors: list[dict], filename: str) -> tuple[bytes, str, str]:
    """(content, file name, content type) of the bad rows, in the uploaded file's format."""
    headers, rows = bad_rows(table, errors)
    stem = filename.rsplit(".", 1)[0] if "." in filename else filename
    if table.encoding == "XLSX":
        return _xlsx(headers, rows), f"{stem}-bad-rows.xlsx", (
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        )
    delimiter = table.delimiter or ","
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(headers)
    for row in rows:
        writer.writerow(["" if v is None else str(v) for v in row])
    extension = "tsv" if delimiter == "\t" else "csv"
    return buffer.getvalue().encode("utf-8-sig"), f"{stem}-bad-rows.{extension}", "text/csv; charset=utf-8"


def _xlsx(headers: list[str], rows: list[list]) -> bytes:
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Bad rows")
    sheet.append(headers)
    for row in rows:
        sheet.append([f"={v.text.lstrip('=')}" if isinstance(v, Formula) else v for v in row])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
