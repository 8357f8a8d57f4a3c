"""Bounded readers (issue 16): a file costs what its bytes cost, never what it declares; every limit is a setting.

The hostile XLSX files here are built by hand, a few KB each: one cell at
row 1,048,576, a `<dimension ref="A1:XFD1048576">`, a value in column XFD.
"""

import io
import time
import zipfile

import pytest

from imports.reader import ImportFileError, limits, read_table
from tests.integration.import_helpers import csv_bytes, xlsx_bytes

CONTENT_TYPES = (
    '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    "</Types>"
)
ROOT_RELS = (
    '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
    'Target="xl/workbook.xml"/></Relationships>'
)
WORKBOOK = (
    '<?xml version="1.0"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
    '<sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
WORKBOOK_RELS = (
    '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" '
    'Target="worksheets/sheet1.xml"/></Relationships>'
)


def cell(ref: str, text: str) -> str:
    return f'<c r="{ref}" t="inlineStr"><is><t>{text}</t></is></c>'


def handmade_xlsx(rows_xml: str, dimension: str = "A1:B2", padding: int = 0) -> bytes:
    sheet = (
        '<?xml version="1.0"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        f'<dimension ref="{dimension}"/><sheetData>{rows_xml}</sheetData>'
        # Bytes that do not compress, so the file is a few KB like the one in the issue.
        + (f"<!-- {padding_text(padding)} -->" if padding else "")
        + "</worksheet>"
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", CONTENT_TYPES)
        archive.writestr("_rels/.rels", ROOT_RELS)
        archive.writestr("xl/workbook.xml", WORKBOOK)
        archive.writestr("xl/_rels/workbook.xml.rels", WORKBOOK_RELS)
        archive.writestr("xl/worksheets/sheet1.xml", sheet)
    return buffer.getvalue()


def padding_text(n: int) -> str:
    import random

    rng = random.Random(16)
    return "".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(n))


HEADER = '<row r="1">' + cell("A1", "name") + cell("B1", "kind") + "</row>"


@pytest.fixture(autouse=True, scope="module")
def openpyxl_loaded():
    """Import openpyxl once before timing anything (its first import alone takes a good part of a second)."""
    read_table(xlsx_bytes([["name"], ["warm"]]), "warm.xlsx")


def timed_read(data: bytes):
    started = time.perf_counter()
    try:
        return read_table(data, "bomb.xlsx"), time.perf_counter() - started
    except ImportFileError as exc:
        return exc, time.perf_counter() - started


def test_one_cell_at_the_last_row_of_a_sheet_is_read_fast_as_one_row():
    data = handmade_xlsx(
        HEADER + '<row r="1048576">' + cell("A1048576", "Far away") + cell("B1048576", "city") + "</row>",
        dimension="A1:XFD1048576", padding=5500,
    )
    assert 4_000 < len(data) < 6_000  # the size of the file in the issue (4.7 KB), which cost 82 s of CPU
    table, took = timed_read(data)
    assert took < 0.5, f"took {took:.2f} s"
    # The last row read is the last row with data; the rows between were never made up.
    assert table.headers == ["name", "kind"] and table.rows == [(1_048_576, ["Far away", "city"])]


def test_a_declared_dimension_of_the_whole_sheet_costs_nothing():
    data = handmade_xlsx(HEADER + '<row r="2">' + cell("A2", "Seoul") + cell("B2", "city") + "</row>",
                         dimension="A1:XFD1048576", padding=3000)
    table, took = timed_read(data)
    assert took < 0.5 and table.rows == [(2, ["Seoul", "city"])]


def test_a_value_beyond_the_column_limit_is_refused_at_once():
    data = handmade_xlsx(HEADER + '<row r="2">' + cell("A2", "Seoul") + cell("XFD2", "far right") + "</row>",
                         dimension="A1:XFD2")
    error, took = timed_read(data)
    assert isinstance(error, ImportFileError) and took < 0.5
    assert "column XFD" in str(error) and f"at most {limits().columns}" in str(error)


def test_formatted_empty_cells_far_to_the_right_are_not_columns():
    # Excel writes styled blank cells; only values count.
    data = handmade_xlsx(HEADER + '<row r="2">' + cell("A2", "Seoul") + cell("B2", "city") + '<c r="XFD2" s="0"/></row>')
    table, _ = timed_read(data)
    assert table.rows == [(2, ["Seoul", "city"])]


def test_the_row_limit_is_a_setting(settings):
    settings.IMPORT_MAX_ROWS = 3
    read_table(csv_bytes([["name"], *[[f"P{i}"] for i in range(3)]]), "ok.csv")
    with pytest.raises(ImportFileError, match="more than 3 rows"):
        read_table(csv_bytes([["name"], *[[f"P{i}"] for i in range(4)]]), "big.csv")
    with pytest.raises(ImportFileError, match="more than 3 rows"):
        read_table(xlsx_bytes([["name"], *[[f"P{i}"] for i in range(4)]]), "big.xlsx")


def test_the_column_limit_is_a_setting(settings):
    settings.IMPORT_MAX_COLUMNS = 4
    with pytest.raises(ImportFileError, match="at most 4"):
        read_table(csv_bytes([[f"h{i}" for i in range(5)], list("abcde")]), "wide.csv")
    with pytest.raises(ImportFileError, match="at most 4"):
        read_table(xlsx_bytes([[f"h{i}" for i in range(5)], list("abcde")]), "wide.xlsx")


def test_the_cell_limit_is_a_setting(settings):
    settings.IMPORT_MAX_CELLS = 10
    rows = [["a", "b", "c"], *[["1", "2", "3"]] * 4]  # 15 filled cells
    for data, name in ((csv_bytes(rows), "c.csv"), (xlsx_bytes(rows), "c.xlsx")):
        with pytest.raises(ImportFileError, match="more than 10 filled cells"):
            read_table(data, name)


def test_the_uncompressed_size_limit_is_a_setting_and_checked_before_inflating(settings):
    settings.IMPORT_MAX_UNCOMPRESSED_BYTES = 50_000
    data = handmade_xlsx(HEADER, padding=60_000)
    error, took = timed_read(data)
    assert isinstance(error, ImportFileError) and took < 0.5
    assert "expands to 60 KB; at most 49 KB can be read" in str(error)


def test_a_date_cell_without_a_time_is_a_date_and_a_date_time_stays_one():
    import datetime as dt

    table = read_table(xlsx_bytes([["title", "day", "when"], ["Visit", dt.date(2025, 3, 14), dt.datetime(2025, 3, 14, 10)]]), "v.xlsx")
    assert table.rows[0][1] == ["Visit", dt.date(2025, 3, 14), dt.datetime(2025, 3, 14, 10)]
