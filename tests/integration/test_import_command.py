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


class TestGoodRowsAndMappings:
    """Issue 16: --skip-invalid and the bad-rows file; --map states the whole mapping and the run shows it."""

    BAD = ["Atlantis City", "city", "Atlantis", "", "", "", ""]

    @pytest.fixture
    def mixed(self, tmp_path, topics):
        path = tmp_path / "partners.csv"
        path.write_bytes(csv_bytes([PARTNER_HEADER, PARTNER_ROWS[0], self.BAD, *PARTNER_ROWS[1:]]))
        return path

    def test_skip_invalid_imports_the_good_rows_and_writes_the_bad_ones_beside_the_file(self, mixed):
        out, err = call("partners", mixed, "--skip-invalid")
        bad_file = mixed.with_name("partners-bad-rows.csv")
        assert f"1 bad row(s) written to {bad_file}" in out
        assert "Imported: 3 created, 0 updated, 0 unchanged; 1 bad row(s) left out." in out
        assert "Row 3, column country (C)" in err
        assert sorted(Partner.objects.values_list("name", flat=True)) == sorted(r[0] for r in PARTNER_ROWS)
        import csv as csv_module

        rows = list(csv_module.reader(bad_file.read_text(encoding="utf-8-sig").splitlines()))
        assert rows[0] == [*PARTNER_HEADER, "import error"] and rows[1][:7] == self.BAD
        # Fixed and imported again: the last row goes in, the others are unchanged.
        bad_file.write_text(bad_file.read_text(encoding="utf-8-sig").replace("Atlantis,", "FR,", 1), encoding="utf-8")
        out, _ = call("partners", bad_file)
        assert "Imported: 1 created" in out and Partner.objects.count() == 4

    def test_without_skip_invalid_nothing_is_written_but_the_bad_rows_file_is(self, mixed, tmp_path):
        target = tmp_path / "fix-me.csv"
        with pytest.raises(CommandError, match="nothing was imported") as excinfo:
            call("partners", mixed, "--bad-rows", target)
        assert excinfo.value.returncode == 1 and not Partner.objects.exists()
        assert "Atlantis City" in target.read_text(encoding="utf-8-sig")

    def test_a_dry_run_with_skip_invalid_says_what_would_be_left_out(self, mixed):
        out, _ = call("partners", mixed, "--skip-invalid", "--dry-run")
        assert "Dry run: 1 bad row(s) would be left out; 3 records would be created." in out
        assert not Partner.objects.exists()

    def test_the_mapping_is_printed_before_the_run_with_what_was_guessed(self, tmp_path, topics):
        path = tmp_path / "p.csv"
        path.write_bytes(csv_bytes([["name", "kind", "country", "description", "Notes"],
                                    ["Paris", "city", "FR", "The capital", "x"]]))
        out, _ = call("partners", path, "--map", "description=-", "--map", "country=country")
        lines = out.splitlines()
        assert lines[0] == "Mapping (column → field):"
        assert "  name → name (guessed)" in lines and "  country → country" in lines
        assert "  description → not imported" in lines and "  Notes → not imported" in lines
        assert any(line.startswith("Guessed from the column names: name, kind") for line in lines)
        assert Partner.objects.get().description == ""

    def test_map_states_the_whole_mapping_a_used_column_is_not_guessed_again(self, tmp_path, topics):
        # "country" feeds the name template: it is not also guessed as the partner's country.
        path = tmp_path / "embassies.csv"
        path.write_bytes(csv_bytes([["type", "country", "name"], ["Embassy", "Cuba", "ignored"]]))
        out, _ = call("partners", path, "--map", "name={type} of {country}", "--map", "kind=-",
                      "--set", "kind=diplomatic_mission")
        assert "  template '{type} of {country}' → name" in out and "  name → not imported" in out
        partner = Partner.objects.get()
        assert partner.name == "Embassy of Cuba" and not partner.country


class TestRealSlicesEndToEnd:
    """Issue 16: the command on an XLSX and a CSV of tests/data/imports with --skip-invalid prints the mapping,
    the guessed columns, the counts and the path of the bad-rows file (in the input's own format)."""

    def test_a_csv_slice_with_one_bad_row(self, tmp_path, officer):
        import csv as csv_module

        from tests.integration.import_helpers import fixture_bytes

        path = tmp_path / "leader_visits.csv"
        text = fixture_bytes("leader_visits_slice.csv").decode("utf-8")
        path.write_text(text.rstrip("\n") + "\n9999,1900-01-01,1900-01-02,King Nobody,atlantis,Atlantis,x,y\n",
                        encoding="utf-8")
        out, err = call("partners", path, "--skip-invalid", "--user", officer.username, "--map", "name=country",
                        "--map", "country=country", "--map", "description=-", "--set", "kind=national_government")
        lines = out.splitlines()
        assert lines[0] == "Mapping (column → field):"
        assert "  country → name, country" in lines and "  description → not imported" in lines
        assert "  visitor → not imported" in lines
        assert not any(line.startswith("Guessed") for line in lines)  # the whole mapping stated
        assert "51 rows read from leader_visits.csv" in out
        created = Partner.objects.count()
        assert created == 34  # one per spelling: "Korea", "Korea, South" and "South Korea" are three names in KR
        assert f"Imported: {created} created" in out and "; 1 bad row(s) left out." in out
        bad_file = tmp_path / "leader_visits-bad-rows.csv"
        assert f"1 bad row(s) written to {bad_file}" in out
        assert "Row 52, column country (F): “Atlantis” is not a country name or ISO code." in err
        rows = list(csv_module.reader(bad_file.read_text(encoding="utf-8-sig").splitlines()))
        assert rows[0][-1] == "import error" and rows[1][3] == "King Nobody"

    def test_an_xlsx_slice_with_one_bad_row(self, tmp_path, officer):
        import csv as csv_module
        import io

        from openpyxl import load_workbook

        from tests.integration.import_helpers import fixture_bytes, xlsx_bytes

        rows = list(csv_module.reader(io.StringIO(fixture_bytes("diplomatic_missions_slice.csv").decode("utf-8"))))
        city = rows[0].index("city")
        rows[5][city] = ""  # a mission without its city: the name template cannot be filled
        path = tmp_path / "missions.xlsx"
        path.write_bytes(xlsx_bytes(rows))
        out, err = call("partners", path, "--skip-invalid", "--user", officer.username,
                        "--map", "name={operator} {type} in {city}", "--map", "country=operator",
                        "--map", "external_id=QID", "--set", "kind=diplomatic_mission")
        lines = out.splitlines()
        assert "  template '{operator} {type} in {city}' → name" in lines and "  QID → external_id" in lines
        # A column the stated mapping reads (city, in the template) is not guessed for another field.
        assert "  city → name" in lines and "  website → website (guessed)" in lines
        assert any(line.startswith("Guessed from the column names: website (") for line in lines)
        assert "Imported: 39 created, 0 updated, 0 unchanged; 1 bad row(s) left out." in out
        bad_file = tmp_path / "missions-bad-rows.xlsx"
        assert f"1 bad row(s) written to {bad_file}" in out
        assert "Row 6, column name" in err and "“city” is empty" in err
        sheet = load_workbook(bad_file).active
        header = [c.value for c in sheet[1]]
        assert header[-1] == "import error" and sheet.max_row == 2
        assert [c.value for c in sheet[2]][0] == rows[5][0]
        assert Partner.objects.filter(kind="diplomatic_mission").count() == 39
