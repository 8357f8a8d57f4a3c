"""Reading uploads: every malformed CSV or XLSX gives a clear ImportFileError, never a crash."""

import io
import random
import zipfile

import pytest

from imports.reader import MAX_COLUMNS, ImportFileError, read_table
from tests.integration.import_helpers import csv_bytes, xlsx_bytes


def test_it_reads_a_plain_csv_with_spreadsheet_row_numbers():
    table = read_table(b"name,kind\nSeoul,city\n\nTokyo,city\n", "p.csv")
    assert table.headers == ["name", "kind"]
    # Row numbers are the spreadsheet's: the header is row 1, the blank line is skipped but counted.
    assert table.rows == [(2, ["Seoul", "city"]), (4, ["Tokyo", "city"])]


@pytest.mark.parametrize("data", [b"", b"   \n\n  ", b"\n\n"])
def test_an_empty_file_is_refused(data):
    with pytest.raises(ImportFileError, match="empty"):
        read_table(data, "x.csv")


def test_a_header_without_rows_is_refused():
    with pytest.raises(ImportFileError, match="no data rows"):
        read_table(b"name,kind\n", "x.csv")


def test_utf8_with_bom_is_read_without_the_bom():
    table = read_table("\ufeffname,city\nSão Paulo,São Paulo\n".encode("utf-8"), "x.csv")
    assert table.headers[0] == "name"
    assert table.rows[0][1][0] == "São Paulo"
    assert table.encoding == "UTF-8"
    assert not table.warnings


@pytest.mark.parametrize("encoding,label", [("cp1252", "Windows-1252"), ("latin-1", "Windows-1252")])
def test_windows_and_latin1_files_are_read_with_a_warning(encoding, label):
    table = read_table("name,city\nMalmö,Genève – “centre”\n".encode(encoding, errors="replace"), "x.csv")
    assert table.rows[0][1][0] == "Malmö"
    assert table.encoding == label
    assert "not UTF-8" in table.warnings[0]


def test_latin1_bytes_undefined_in_cp1252_still_decode():
    table = read_table(b"name\nA\x81B\n", "x.csv")
    assert table.encoding == "Latin-1"


def test_utf16_with_bom_is_read():
    table = read_table("name,city\nHà Nội,Hà Nội\n".encode("utf-16"), "x.csv")
    assert table.rows[0][1] == ["Hà Nội", "Hà Nội"]


def test_nul_bytes_are_refused_clearly():
    with pytest.raises(ImportFileError, match="NUL bytes"):
        read_table(b"name,kind\nSeo\x00ul,city\n", "x.csv")


def test_binary_garbage_is_refused():
    garbage = bytes(random.Random(1).getrandbits(8) for _ in range(4096))
    with pytest.raises(ImportFileError):
        read_table(garbage, "x.csv")


def test_binary_without_nul_bytes_is_refused_as_not_text():
    rng = random.Random(2)
    garbage = bytes(rng.choice([*range(1, 9), *range(14, 32)]) for _ in range(4096))
    with pytest.raises(ImportFileError, match="does not look like text"):
        read_table(garbage, "x.csv")


def test_a_row_with_10001_columns_is_refused():
    data = b"name,kind\n" + b",".join([b"x"] * 10_001) + b"\n"
    with pytest.raises(ImportFileError, match="10,001 columns"):
        read_table(data, "x.csv")


def test_a_header_with_10001_columns_is_refused_in_xlsx_too():
    data = xlsx_bytes([[f"h{i}" for i in range(MAX_COLUMNS + 5)], ["x"]])
    with pytest.raises(ImportFileError, match="columns"):
        read_table(data, "x.xlsx")


def test_a_huge_cell_is_refused():
    data = b"name\n\"" + b"x" * 200_000 + b"\"\n"
    with pytest.raises(ImportFileError, match="cannot be read as CSV"):
        read_table(data, "x.csv")


def test_duplicate_headers_are_refused():
    with pytest.raises(ImportFileError, match="appears twice"):
        read_table(b"name,Name\nA,B\n", "x.csv")


@pytest.mark.parametrize("delimiter", ["\t", ";"])
def test_tab_and_semicolon_separated_files_are_sniffed(delimiter):
    table = read_table(csv_bytes([["name", "kind"], ["Seoul, Korea", "city"]], delimiter=delimiter), "x.txt")
    assert table.rows[0][1] == ["Seoul, Korea", "city"]


def test_an_xlsx_sheet_is_read_with_typed_cells():
    import datetime as dt

    table = read_table(xlsx_bytes([["name", "priority", "starts_at"], ["Seoul", 1, dt.datetime(2025, 4, 1, 10)]]), "x.xlsx")
    assert table.rows == [(2, ["Seoul", 1, dt.datetime(2025, 4, 1, 10)])]


def test_formulas_are_kept_as_formulas_for_the_row_to_refuse():
    from imports.reader import Formula

    table = read_table(xlsx_bytes([["name", "priority"], ["Seoul", "=1+1"]]), "x.xlsx")
    assert isinstance(table.rows[0][1][1], Formula)


def test_a_file_named_xlsx_that_is_not_a_zip_is_refused():
    with pytest.raises(ImportFileError, match="not a valid XLSX"):
        read_table(b"name\nSeoul\n", "x.xlsx")


def test_a_zip_that_is_not_a_workbook_is_refused():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("hello.txt", "hi")
    with pytest.raises(ImportFileError, match="not an Excel workbook"):
        read_table(buffer.getvalue(), "x.xlsx")


def test_a_damaged_workbook_is_refused():
    data = xlsx_bytes([["name"], ["Seoul"]])
    with pytest.raises(ImportFileError, match="cannot be read"):
        read_table(data[: len(data) // 2], "x.xlsx")


def test_old_xls_files_are_refused_with_advice():
    with pytest.raises(ImportFileError, match=r"\.xls"):
        read_table(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, "x.xls")
