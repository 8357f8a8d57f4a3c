"""`manage.py import_data`: summary, exit codes, every error with its row, nothing written on error."""

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from partners.models import Partner
from tests.integration.import_helpers import PARTNER_HEADER, PARTNER_ROWS, csv_bytes, snapshot

pytestmark = pytest.mark.django_db


@pytest.fixture
def good_file(tmp_path, topics):
    path = tmp_path / "partners.csv"
    path.write_bytes(csv_bytes([PARTNER_HEADER, *PARTNER_ROWS]))
    return path


def call(*args):
    import io

    out, err = io.StringIO(), io.StringIO()
    call_command("import_data", *map(str, args), stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_it_imports_and_prints_a_summary(good_file, officer):
    out, _ = call("partners", good_file, "--user", officer.username)
    assert "3 rows read" in out and "3 created" in out
    assert Partner.objects.count() == 3
    assert Partner.objects.first().history.first().history_user == officer


def test_importing_the_same_file_twice_creates_nothing_new(good_file):
    call("partners", good_file)
    out, _ = call("partners", good_file)
    assert "0 created, 0 updated, 3 unchanged" in out
    assert Partner.objects.count() == 3


def test_a_dry_run_writes_nothing(good_file):
    out, _ = call("partners", good_file, "--dry-run")
    assert "Dry run" in out and "3 records would be created" in out
    assert not Partner.objects.exists()


def test_bad_rows_exit_1_print_each_error_with_its_row_and_write_nothing(tmp_path, topics):
    path = tmp_path / "bad.csv"
    path.write_bytes(csv_bytes([PARTNER_HEADER, PARTNER_ROWS[0],
                                ["Königsberg", "city", "Prussia", "", "", "", ""],
                                ["Nowhere", "planet", "JP", "", "", "", ""]]))
    before = snapshot()
    with pytest.raises(CommandError) as excinfo:
        call("partners", path)
    assert excinfo.value.returncode == 1
    assert "2 error(s) in 2 row(s)" in str(excinfo.value)
    assert snapshot() == before


def test_errors_go_to_stderr_one_per_line(tmp_path, topics, capsys):
    path = tmp_path / "bad.csv"
    path.write_bytes(csv_bytes([["name", "kind"], ["A", "planet"], ["", "city"]]))
    import io

    err = io.StringIO()
    with pytest.raises(CommandError):
        call_command("import_data", "partners", str(path), stdout=io.StringIO(), stderr=err)
    lines = err.getvalue().strip().splitlines()
    assert lines[0].startswith("Row 2, column kind (B):")
    assert lines[1].startswith("Row 3, column name (A):")


@pytest.mark.parametrize("content,message", [
    (b"", "empty"),
    (b"name,kind\n", "no data rows"),
    (b"\x00\x01\x02binary", "NUL bytes"),
])
def test_an_unreadable_file_exits_2_with_a_clear_message(tmp_path, content, message):
    path = tmp_path / "x.csv"
    path.write_bytes(content)
    with pytest.raises(CommandError, match=message) as excinfo:
        call("partners", path)
    assert excinfo.value.returncode == 2


def test_a_missing_file_or_user_exits_2(tmp_path, good_file):
    with pytest.raises(CommandError, match="No such file") as excinfo:
        call("partners", tmp_path / "nope.csv")
    assert excinfo.value.returncode == 2
    with pytest.raises(CommandError, match="No active user"):
        call("partners", good_file, "--user", "ghost")


def test_columns_can_be_mapped_and_defaulted_on_the_command_line(tmp_path, topics):
    path = tmp_path / "sister.tsv"
    path.write_bytes(csv_bytes([["sistercityLabel", "destination_countryLabel"], ["Hội An", "Vietnam"]], delimiter="\t"))
    call("partners", path, "--map", "name=sistercityLabel", "--map", "country=destination_countryLabel", "--set", "kind=city")
    partner = Partner.objects.get()
    assert (partner.name, partner.country.code, partner.kind) == ("Hội An", "VN", "city")


def test_a_mapping_to_an_unknown_column_exits_2(good_file):
    with pytest.raises(CommandError, match="no column") as excinfo:
        call("partners", good_file, "--map", "name=Nom")
    assert excinfo.value.returncode == 2
