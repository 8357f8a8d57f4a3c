"""Mappings in the open, templates without fragments, date-only ends, and the bad-rows file (issue 16)."""

import csv
import datetime as dt
import io
from zoneinfo import ZoneInfo

import pytest

from imports.badrows import bad_rows_file
from imports.importer import (
    TemplateGap,
    _cells_of,
    mapping_rows,
    parse_datetime,
    parse_end_datetime,
    resolve_mapping,
)
from imports.reader import read_table
from tests.integration.import_helpers import csv_bytes, xlsx_bytes

HEADERS = ["name", "kind", "country", "description", "city"]


class TestResolveMapping:
    def test_without_map_every_same_named_column_is_guessed_and_said_so(self):
        mapping, guessed = resolve_mapping("partners", HEADERS, {})
        assert mapping == {h: h for h in HEADERS}
        assert guessed == ["name", "kind", "country", "city", "description"] or set(guessed) == set(HEADERS)

    def test_what_map_states_wins_and_a_dash_leaves_a_field_out(self):
        mapping, guessed = resolve_mapping("partners", HEADERS, {"description": "-", "name": "city"})
        assert "description" not in mapping and mapping["name"] == "city"
        # The city column is used by name: it is not guessed for city as well.
        assert "city" not in mapping
        assert set(guessed) == {"kind", "country"}

    def test_a_column_read_by_a_template_is_not_guessed_for_its_own_field(self):
        mapping, guessed = resolve_mapping("partners", HEADERS, {"name": "{kind} of {country}"})
        assert mapping == {"name": "{kind} of {country}", "description": "description", "city": "city"}
        assert set(guessed) == {"description", "city"}

    def test_mapping_rows_list_every_column_in_file_order_with_what_it_fills(self):
        rows = mapping_rows("partners", HEADERS, {"name": "{kind} of {country}", "city": "city"}, {"kind": "city"})
        assert rows == [
            {"column": "name", "fields": []},
            {"column": "kind", "fields": ["name"]},
            {"column": "country", "fields": ["name"]},
            {"column": "description", "fields": []},
            {"column": "city", "fields": ["city"]},
            {"column": None, "fields": ["kind"], "value": "city"},
        ]


class TestTemplates:
    def cells(self, row, spec="{type} of {country} in {city}"):
        cells_of, names = _cells_of(["type", "country", "city"], {"name": spec}, {})
        return cells_of(row)["name"], names["name"]

    def test_a_full_row_fills_the_template(self):
        assert self.cells(["Embassy", "Cuba", "Havana"])[0] == "Embassy of Cuba in Havana"

    def test_an_empty_cell_leaves_no_fragment_but_an_error_named_by_the_field(self):
        value, name = self.cells(["Embassy", "Cuba", ""])
        assert isinstance(value, TemplateGap) and value.empty == ("city",)
        assert "“city” is empty" in value.message()
        assert name == "name (template “{type} of {country} in {city}”)"

    def test_all_cells_empty_is_no_value_so_a_default_can_fill_it(self):
        cells_of, _ = _cells_of(["type", "country"], {"name": "{type} of {country}"}, {"name": "Unknown"})
        assert cells_of(["", " "])["name"] == "Unknown"

    def test_a_cell_with_braces_in_its_text_is_not_read_as_a_placeholder(self):
        assert self.cells(["{city}", "Cuba", "Havana"])[0] == "{city} of Cuba in Havana"


class TestEndDates:
    def test_a_date_alone_ends_at_the_end_of_that_day_in_the_office_time_zone(self, settings):
        settings.TIME_ZONE = "America/Los_Angeles"
        zone = ZoneInfo("America/Los_Angeles")
        assert parse_end_datetime("2025-03-14") == dt.datetime(2025, 3, 14, 23, 59, 59, tzinfo=zone)
        assert parse_end_datetime(dt.date(2025, 3, 14)) == dt.datetime(2025, 3, 14, 23, 59, 59, tzinfo=zone)
        # The start of the same day is midnight: a one-day visit is valid.
        assert parse_datetime("2025-03-14") < parse_end_datetime("2025-03-14")

    def test_in_the_events_time_zone_when_given(self):
        tokyo = ZoneInfo("Asia/Tokyo")
        assert parse_end_datetime("2025-03-16", zone=tokyo) == dt.datetime(2025, 3, 16, 23, 59, 59, tzinfo=tokyo)

    def test_a_time_or_an_offset_is_kept_as_given(self):
        assert parse_end_datetime("2025-03-14T10:30").hour == 10
        assert parse_end_datetime("2025-03-14T00:00+09:00").utcoffset() == dt.timedelta(hours=9)
        assert parse_end_datetime(dt.datetime(2025, 3, 14, 0, 0)).hour == 0  # a date-time cell at midnight

    def test_a_bad_date_says_so(self):
        with pytest.raises(ValueError, match="not a date"):
            parse_end_datetime("2025-02-30")


class TestBadRowsFile:
    ERRORS = [
        {"row": 3, "column": "country (C)", "message": "“Atlantis” is not a country."},
        {"row": 3, "column": "", "message": "second problem"},
        {"row": 0, "column": "", "message": "a file problem, not a row"},
    ]

    def test_a_csv_comes_back_as_csv_with_its_columns_its_delimiter_and_an_error_column(self):
        data = csv_bytes([["name", "kind", "country"], ["Alpha", "city", "FR"], ["Béta", "city", "Atlantis"]],
                         delimiter=";")
        content, name, content_type = bad_rows_file(read_table(data, "p.csv"), self.ERRORS, "p.csv")
        assert name == "p-bad-rows.csv" and content_type.startswith("text/csv")
        rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig")), delimiter=";"))
        assert rows == [["name", "kind", "country", "import error"],
                        ["Béta", "city", "Atlantis", "country (C): “Atlantis” is not a country. | second problem"]]
        # Ready to import again: the same reader reads it, with the same headers.
        assert read_table(content, name).headers[:3] == ["name", "kind", "country"]

    def test_an_xlsx_comes_back_as_xlsx_with_typed_cells(self):
        data = xlsx_bytes([["name", "day", "import error"], ["Alpha", dt.date(2025, 1, 2), "old"],
                           ["Béta", dt.date(2025, 1, 3), ""]])
        content, name, _ = bad_rows_file(read_table(data, "v.xlsx"), self.ERRORS, "v.xlsx")
        table = read_table(content, name)
        assert name == "v-bad-rows.xlsx"
        assert table.headers == ["name", "day", "import error", "import error 2"]
        assert table.rows[0][1][:2] == ["Béta", dt.date(2025, 1, 3)]
