"""The importer against the database: dry run, commit, row errors, idempotent re-imports, the real files."""

import datetime as dt

import pytest

from engagements.models import Commitment, Engagement
from imports.importer import MappingError
from imports.reader import read_table
from imports.run import run_import
from partners.models import Contact, Partner
from tests.factories import ContactFactory, EngagementFactory, PartnerFactory
from tests.integration.import_helpers import (
    csv_bytes,
    fixture_bytes,
    snapshot,
    xlsx_bytes,
)

pytestmark = pytest.mark.django_db


def run(kind, data, name="f.csv", **kwargs):
    return run_import(kind=kind, table=read_table(data, name), **kwargs)


class TestPartners:
    def test_a_dry_run_reports_what_it_would_do_and_writes_nothing(self, partners_csv, officer):
        before = snapshot()
        result = run("partners", partners_csv, actor=officer)
        assert result.ok and not result.committed
        assert result.counts == {"partner": {"created": 3, "updated": 0, "unchanged": 0}}
        assert [p["outcomes"][0]["action"] for p in result.preview] == ["created"] * 3
        assert snapshot() == before

    def test_a_commit_writes_through_the_services_with_the_importer_in_history(self, partners_csv, officer):
        result = run("partners", partners_csv, actor=officer, commit=True)
        assert result.committed
        seoul = Partner.objects.get(name="Seoul")
        assert seoul.country.code == "KR"
        assert seoul.priority == 2  # empty cell: the model's default
        assert sorted(seoul.topics.values_list("slug", flat=True)) == ["climate", "trade"]
        assert Partner.objects.get(external_id="Q1").country.code == "JP"
        assert seoul.history.first().history_user == officer

    def test_importing_the_same_file_twice_creates_nothing_new(self, partners_csv, officer):
        run("partners", partners_csv, actor=officer, commit=True)
        before = snapshot()
        again = run("partners", partners_csv, actor=officer, commit=True)
        assert again.counts["partner"] == {"created": 0, "updated": 0, "unchanged": 3}
        assert snapshot() == before  # not even a history row

    def test_a_re_import_matches_accents_and_case_and_updates_changed_fields(self, topics, officer):
        PartnerFactory(name="São Paulo", country="BR", kind="city", priority=2)
        data = csv_bytes([["name", "country", "priority"], ["SAO PAULO", "Brazil", "1"]])
        result = run("partners", data, actor=officer, commit=True)
        assert result.counts["partner"]["updated"] == 1
        partner = Partner.objects.get()
        assert (partner.name, partner.priority) == ("São Paulo", 1)  # the record keeps its spelling

    def test_external_id_wins_over_the_natural_key(self, officer, topics):
        PartnerFactory(name="Old name", country="JP", external_id="Q1")
        result = run("partners", csv_bytes([["name", "country", "external_id"], ["Embassy of Japan", "JP", "Q1"]]),
                     actor=officer, commit=True)
        assert result.counts["partner"]["updated"] == 1
        assert Partner.objects.get().name == "Embassy of Japan"

    def test_an_empty_cell_never_blanks_an_existing_field(self, officer, topics):
        PartnerFactory(name="Seoul", country="KR", city="Seoul", website="https://seoul.go.kr/")
        run("partners", csv_bytes([["name", "country", "city", "website"], ["Seoul", "KR", "", ""]]),
            actor=officer, commit=True)
        assert Partner.objects.get().website == "https://seoul.go.kr/"

    def test_errors_name_the_row_and_column_and_nothing_is_half_written(self, topics, officer):
        data = csv_bytes([
            ["name", "kind", "country", "priority", "topics", "owner", "website"],
            ["Good one", "city", "JP", "1", "trade", "", ""],
            ["Bad country", "city", "Prussia", "1", "", "", ""],
            ["Bad kind", "embassy", "JP", "1", "", "", ""],
            ["Bad priority", "city", "JP", "7", "nope", "ghost", "not a url"],
            ["", "city", "JP", "", "", "", ""],
        ])
        before = snapshot()
        result = run("partners", data, actor=officer, commit=True)
        assert not result.committed
        where = {(e.row, e.column.split(" ")[0]) for e in result.errors}
        assert {(3, "country"), (4, "kind"), (5, "priority"), (5, "topics"), (5, "owner"), (6, "name")} <= where
        assert any(e.row == 5 and e.column.startswith("website") for e in result.errors) is False  # checked after parse errors
        assert snapshot() == before

    def test_a_model_rule_broken_by_a_row_is_reported_on_its_column(self, officer, topics):
        data = csv_bytes([["name", "kind", "website"], ["Seoul", "city", "not a url"]])
        result = run("partners", data, actor=officer, commit=True)
        assert [(e.row, e.column) for e in result.errors] == [(2, "website (C)")]
        assert not Partner.objects.exists()

    def test_formulas_are_row_errors(self, officer, topics):
        result = run("partners", xlsx_bytes([["name", "kind"], ["=HYPERLINK(\"x\")", "city"]]), "p.xlsx", actor=officer)
        assert "formula" in result.errors[0].message

    def test_nul_in_an_xlsx_cell_cannot_reach_the_database(self, officer, topics):
        from imports.reader import Table

        table = Table(headers=["name", "kind"], rows=[(2, ["Se\x00oul", "city"])])
        result = run_import(kind="partners", table=table, actor=officer, commit=True)
        assert "NUL" in result.errors[0].message

    def test_formula_like_text_in_a_csv_is_stored_as_text(self, officer, topics):
        run("partners", csv_bytes([["name", "kind"], ["=1+1 Foundation", "civil_society"]]), actor=officer, commit=True)
        assert Partner.objects.get().name == "=1+1 Foundation"

    def test_parents_resolve_by_name_including_rows_earlier_in_the_file(self, officer, topics):
        data = csv_bytes([["name", "kind", "country", "parent"],
                          ["Japan", "national_government", "JP", ""],
                          ["Consulate-General of Japan in Los Angeles", "diplomatic_mission", "JP", "japan"]])
        run("partners", data, actor=officer, commit=True)
        assert Partner.objects.get(kind="diplomatic_mission").parent.name == "Japan"

    def test_staff_may_add_partners_but_not_change_them(self, staff_user, topics):
        PartnerFactory(name="Seoul", country="KR", priority=2)
        data = csv_bytes([["name", "kind", "country", "priority"], ["Seoul", "city", "KR", "1"], ["Busan", "city", "KR", ""]])
        result = run("partners", data, actor=staff_user, commit=True)
        assert [e.row for e in result.errors] == [2]
        assert "may add partners but not change" in result.errors[0].message
        assert Partner.objects.count() == 1

    def test_a_mapping_to_a_missing_column_is_refused(self, partners_csv):
        with pytest.raises(MappingError, match="no column"):
            run("partners", partners_csv, mapping={"name": "Nom"})

    def test_an_unmapped_key_field_is_refused(self):
        with pytest.raises(MappingError, match="identifies each record"):
            run("partners", csv_bytes([["nom", "kind"], ["Seoul", "city"]]))

    def test_templates_and_defaults_build_values_from_several_columns(self, officer, topics):
        data = csv_bytes([["operator", "type", "city"], ["Japan", "consulate general", "Los Angeles"]])
        run("partners", data, mapping={"name": "{type} of {operator}, {city}", "country": "operator", "city": "city"},
            defaults={"kind": "diplomatic_mission"}, actor=officer, commit=True)
        partner = Partner.objects.get()
        assert (partner.name, partner.kind, partner.country.code) == (
            "consulate general of Japan, Los Angeles", "diplomatic_mission", "JP")


class TestContacts:
    def test_contacts_match_on_partner_and_name_and_titles_move_out_of_the_name(self, officer):
        japan = PartnerFactory(name="Japan", country="JP", kind="national_government")
        data = csv_bytes([["partner", "full_name", "email"], ["Japan", "Prime Minister Fumio Kishida", "pm@example.jp"]])
        first = run("contacts", data, actor=officer, commit=True)
        contact = Contact.objects.get()
        assert (contact.partner, contact.full_name, contact.title) == (japan, "Fumio Kishida", "Prime Minister")
        assert first.warnings
        again = run("contacts", data, actor=officer, commit=True)
        assert again.counts["contact"] == {"created": 0, "updated": 0, "unchanged": 1}

    def test_an_ambiguous_partner_name_asks_for_the_id(self, officer):
        a = PartnerFactory(name="Embassy of Chile", country="CL")
        PartnerFactory(name="Embassy of Chile", country="US")
        data = csv_bytes([["partner", "full_name"], ["Embassy of Chile", "Ana"], [f"#{a.pk}", "Beto"]])
        result = run("contacts", data, actor=officer, commit=True)
        assert [e.row for e in result.errors] == [2]
        assert "give the id" in result.errors[0].message


class TestEngagements:
    HEADER = ["title", "kind", "starts_at", "partners", "staff", "confidentiality",
              "commitment_description", "commitment_due_date", "commitment_made_by"]

    @pytest.fixture
    def seoul(self):
        return PartnerFactory(name="Seoul Metropolitan Government", country="KR")

    def rows(self):
        return [
            self.HEADER,
            ["Courtesy visit, Mayor of Seoul", "visit_received", "2014-09-24T17:30:00-04:00",
             "Seoul Metropolitan Government", "sam_staff", "internal", "Send the MOU draft", "2014-10-15", "city"],
            ["Courtesy visit, Mayor of Seoul", "", "2014-09-24T17:30:00-04:00", "", "", "",
             "Host a return visit", "2015-03-01", "partner"],
            ["Trade call", "call", "2014-10-01T09:00", "", "", "", "", "", ""],
        ]

    def test_repeated_rows_add_commitments_to_one_engagement(self, seoul, staff_user, officer):
        result = run("engagements", csv_bytes(self.rows()), actor=officer, commit=True)
        assert result.counts == {"engagement": {"created": 2, "updated": 0, "unchanged": 0},
                                 "commitment": {"created": 2, "updated": 0, "unchanged": 0}}
        visit = Engagement.objects.get(kind="visit_received")
        assert visit.starts_at == dt.datetime(2014, 9, 24, 21, 30, tzinfo=dt.UTC)
        assert list(visit.staff.all()) == [staff_user]
        made_by = dict(visit.commitments.values_list("description", "made_by"))
        assert made_by == {"Send the MOU draft": "city", "Host a return visit": "partner"}
        # The engagement's only partner is each commitment's partner.
        assert set(visit.commitments.values_list("partner", flat=True)) == {seoul.pk}
        # Without an offset: the office's time zone.
        call = Engagement.objects.get(kind="call")
        assert call.starts_at == dt.datetime(2014, 10, 1, 16, 0, tzinfo=dt.UTC)

    def test_re_importing_engagements_and_commitments_creates_nothing(self, seoul, staff_user, officer):
        run("engagements", csv_bytes(self.rows()), actor=officer, commit=True)
        before = snapshot()
        again = run("engagements", csv_bytes(self.rows()), actor=officer, commit=True)
        assert again.count("created") == 0 and again.count("updated") == 0
        assert snapshot() == before

    def test_a_continuation_row_that_contradicts_the_first_is_an_error(self, seoul, staff_user, officer):
        rows = self.rows()
        rows[2][1] = "event"
        result = run("engagements", csv_bytes(rows), actor=officer, commit=True)
        assert [(e.row, e.column.split(" ")[0]) for e in result.errors] == [(3, "kind")]
        assert "row 2" in result.errors[0].message
        assert not Engagement.objects.exists() and not Commitment.objects.exists()

    def test_a_broken_commitment_is_reported_on_its_column(self, seoul, staff_user, officer):
        rows = self.rows()
        rows[1][7] = "2014-02-30"
        rows[3][8] = "partner"  # a partner commitment without a partner
        rows[3][6] = "Send flowers"
        result = run("engagements", csv_bytes(rows), actor=officer, commit=True)
        where = [(e.row, e.column.split(" ")[0]) for e in result.errors]
        assert where == [(2, "commitment_due_date"), (4, "commitment_partner")]
        assert not Engagement.objects.exists()

    def test_dst_gap_times_and_ends_before_start_are_row_errors(self, seoul, officer):
        rows = [["title", "kind", "starts_at", "ends_at"],
                ["Gap", "call", "2025-03-09T02:30", ""],
                ["Backwards", "call", "2025-04-01T10:00", "2025-04-01T09:00"]]
        result = run("engagements", csv_bytes(rows), actor=officer, commit=True)
        assert [(e.row, e.column.split(" ")[0]) for e in result.errors] == [(2, "starts_at"), (3, "ends_at")]

    def test_a_restricted_engagement_the_importer_may_not_see_is_not_touched(self, seoul, staff_user, officer):
        hidden = EngagementFactory(title="Security briefing", starts_at=dt.datetime(2025, 4, 1, 17, tzinfo=dt.UTC),
                                   confidentiality="restricted", staff=[officer])
        rows = [["title", "kind", "starts_at", "summary"], ["Security briefing", "call", "2025-04-01T10:00", "leak?"]]
        result = run("engagements", csv_bytes(rows), actor=staff_user, commit=True)
        # It does not exist for this import (tests/integration/test_import_oracle.py): a new one is created beside it.
        assert result.counts["engagement"]["created"] == 1
        hidden.refresh_from_db()
        assert hidden.summary == ""

    def test_contacts_must_belong_to_the_engagements_partners(self, seoul, officer):
        ContactFactory(full_name="Stranger", partner=PartnerFactory(name="Elsewhere"))
        rows = [["title", "kind", "starts_at", "partners", "contacts"],
                ["Visit", "call", "2025-04-01T10:00", "Seoul Metropolitan Government", "Stranger"]]
        result = run("engagements", csv_bytes(rows), actor=officer, commit=True)
        assert result.errors[0].column.startswith("contacts")


class TestRealFiles:
    """Slices of the real public data (tests/data/imports/README.md), quirks included."""

    def test_sister_cities_with_duplicate_pairs_import_once(self, officer):
        data = fixture_bytes("sistercities_slice.tsv")
        options = dict(mapping={"name": "sistercityLabel", "country": "destination_countryLabel", "city": "sistercityLabel"},
                       defaults={"kind": "city"}, actor=officer)
        first = run("partners", data, "s.tsv", commit=True, **options)
        assert first.ok, first.errors[:3]
        # The same pair appears twice in the source: the second row is "unchanged".
        assert first.counts["partner"]["unchanged"] >= 3
        assert Partner.objects.filter(country="US").exists()
        again = run("partners", data, "s.tsv", commit=True, **options)
        assert again.count("created") == 0

    def test_diplomatic_missions_become_partners_matched_on_their_wikidata_id(self, officer):
        data = fixture_bytes("diplomatic_missions_slice.csv")
        options = dict(mapping={"name": "{operator} {type} in {city}", "country": "operator", "city": "city",
                                "website": "website", "external_id": "QID"},
                       defaults={"kind": "diplomatic_mission"}, actor=officer)
        first = run("partners", data, commit=True, **options)
        assert first.ok, first.errors[:3]
        la = Partner.objects.filter(city="Los Angeles")
        assert la.count() == 12
        assert set(la.filter(name__startswith="El Salvador").values_list("country", flat=True)) == {"SV"}
        assert la.filter(name__startswith="People's Republic of China").get().country.code == "CN"
        assert run("partners", data, commit=True, **options).count("created") == 0

    def test_leader_visits_give_governments_and_contacts_with_titles_split(self, officer):
        data = fixture_bytes("leader_visits_slice.csv")
        governments = run("partners", data, mapping={"name": "country", "country": "country"},
                          defaults={"kind": "national_government"}, actor=officer, commit=True)
        assert governments.ok, governments.errors[:3]
        # "Korea", "South Korea" and "Korea, South" are three spellings of one country.
        assert set(Partner.objects.filter(name__icontains="korea").values_list("country", flat=True)) == {"KR"}
        contacts = run("contacts", data, mapping={"partner": "country", "full_name": "visitor"}, actor=officer, commit=True)
        assert contacts.ok, contacts.errors[:3]
        yoon = Contact.objects.filter(full_name="Yoon Suk Yeol")
        assert yoon.exists() and yoon.first().title == "President"
        assert run("contacts", data, mapping={"partner": "country", "full_name": "visitor"},
                   actor=officer, commit=True).count("created") == 0

    def test_the_mayors_diary_imports_with_its_duplicate_rows_once(self, officer):
        data = fixture_bytes("mayor_events_slice.csv")
        options = dict(mapping={"title": "event", "starts_at": "datetime", "location": "venue", "summary": "comment"},
                       defaults={"kind": "event", "status": "held"}, actor=officer)
        first = run("engagements", data, commit=True, **options)
        assert first.ok, first.errors[:3]
        assert first.counts["engagement"]["unchanged"] == 3  # the exact duplicate rows
        assert Engagement.objects.filter(title__contains="Seoul").exists()
        # The China trip keeps the (wrong) DC offset it was given: the instant is as written.
        wtcf = Engagement.objects.get(title__startswith="Opening Ceremony of World Tourism")
        assert wtcf.starts_at == dt.datetime(2014, 9, 4, 12, 30, tzinfo=dt.UTC)
        assert run("engagements", data, commit=True, **options).count("created") == 0
