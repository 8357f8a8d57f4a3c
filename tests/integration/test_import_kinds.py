"""The row side of imports on PostgreSQL: matching rules, repeated records, re-imports that write nothing,
bounded queries, and the gift, agreement and mission importers (imports/kinds/)."""

import datetime as dt
import decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from engagements.models import Commitment, Engagement, Gift, TradeMission
from imports.reader import read_table
from imports.run import run_import
from partners.countries import resolve_country
from partners.models import Agreement, Contact, Partner
from tests.factories import PartnerFactory
from tests.integration.import_helpers import csv_bytes, fixture_bytes, snapshot

pytestmark = pytest.mark.django_db


def run(kind, rows_or_bytes, name="f.csv", **kwargs):
    data = rows_or_bytes if isinstance(rows_or_bytes, bytes) else csv_bytes(rows_or_bytes)
    return run_import(kind=kind, table=read_table(data, name), **kwargs)


def history_rows() -> int:
    return sum(v for k, v in snapshot().items() if k.startswith("history:")) + TradeMission.history.count()


def assert_second_run_writes_nothing(kind, data, **kwargs):
    before, history = snapshot(), history_rows()
    again = run(kind, data, commit=True, **kwargs)
    assert again.committed, again.errors[:3]
    assert again.count("created") == again.count("updated") == 0, again.summary()
    assert snapshot() == before and history_rows() == history
    return again


PARTNER_HEADER = ["name", "kind", "country"]


class TestMatchingRules:
    def test_towns_whose_names_differ_only_in_accents_stay_two_partners(self, officer):
        rows = [PARTNER_HEADER, ["Löhne", "city", "DE"], ["Lohne", "city", "DE"],
                ["Komló", "city", "HU"], ["Kömlő", "city", "HU"]]
        result = run("partners", rows, actor=officer, commit=True)
        assert result.counts == {"partner": {"created": 4, "updated": 0, "unchanged": 0}}
        assert sorted(Partner.objects.values_list("name", flat=True)) == ["Komló", "Kömlő", "Lohne", "Löhne"]
        assert_second_run_writes_nothing("partners", rows, actor=officer)

    def test_a_row_of_another_kind_is_another_body(self, officer):
        # Found importing the foreign leaders' visits after the sister cities: the government of Singapore
        # turned the city of Singapore into a government. A row's kind now picks among same-named records.
        city = PartnerFactory(name="Singapore", kind="city", country="SG", city="Singapore")
        unclassified = PartnerFactory(name="Monaco", kind="other", country="MC")
        rows = [["name", "kind", "country"], ["Singapore", "national_government", "SG"],
                ["Monaco", "national_government", "MC"], ["Singapore", "city", "SG"]]
        result = run("partners", rows, actor=officer, commit=True)
        assert result.errors == [] and result.counts == {"partner": {"created": 1, "updated": 1, "unchanged": 1}}
        city.refresh_from_db()
        unclassified.refresh_from_db()
        assert city.kind == "city" and unclassified.kind == "national_government"  # "Other" is anyone's
        assert sorted(Partner.objects.filter(name="Singapore").values_list("kind", flat=True)) == [
            "city", "national_government"]
        assert_second_run_writes_nothing("partners", rows, actor=officer)

    def test_an_exact_spelling_in_the_database_wins_over_a_folded_one(self, officer):
        lohne = PartnerFactory(name="Lohne", kind="city", country="DE", city="")
        loehne = PartnerFactory(name="Löhne", kind="city", country="DE", city="")
        result = run("partners", [["name", "kind", "country", "city"], ["Löhne", "city", "DE", "Herford district"]],
                     actor=officer, commit=True)
        assert result.counts == {"partner": {"created": 0, "updated": 1, "unchanged": 0}}
        loehne.refresh_from_db()
        lohne.refresh_from_db()
        assert loehne.city == "Herford district" and lohne.city == ""

    def test_a_folded_spelling_matches_the_one_record_when_the_file_has_no_exact_one(self, officer):
        sao = PartnerFactory(name="São Paulo", kind="city", country="BR", city="")
        result = run("partners", [["name", "kind", "country", "city"], ["SAO PAULO", "city", "Brazil", "SP"]],
                     actor=officer, commit=True)
        assert result.counts == {"partner": {"created": 0, "updated": 1, "unchanged": 0}}
        sao.refresh_from_db()
        assert sao.name == "São Paulo" and sao.city == "SP"  # the record keeps its own spelling

    def test_a_case_only_difference_is_the_same_record(self, officer):
        rows = [PARTNER_HEADER, ["Seoul", "city", "KR"], ["SEOUL", "city", "KR"]]
        result = run("partners", rows, actor=officer, commit=True)
        assert result.counts == {"partner": {"created": 1, "updated": 0, "unchanged": 1}}

    def test_two_folded_candidates_and_no_exact_one_is_an_error_naming_them(self, officer):
        PartnerFactory(name="Lohne", kind="city", country="DE")
        PartnerFactory(name="Löhne", kind="city", country="DE")
        result = run("partners", [PARTNER_HEADER, ["Lóhne", "city", "DE"]], actor=officer, commit=True)
        assert not result.committed
        assert "“Lohne”" in result.errors[0].message and "“Löhne”" in result.errors[0].message

    @pytest.mark.parametrize("alias", ["Korea, South", "South Korea", "Republic of Korea", "Korea, Republic of", "KR",
                                       "KOR"])
    def test_country_aliases_resolve_to_one_country(self, alias):
        assert resolve_country(alias) == "KR"

    def test_common_aliases_of_real_files(self):
        expected = {"Russia": "RU", "Viet Nam": "VN", "Côte d'Ivoire": "CI", "Cote d’Ivoire": "CI", "Türkiye": "TR",
                    "Czech Republic": "CZ", "Czechia": "CZ", "UK": "GB", "USA": "US",
                    "United States of America": "US", "Congo (Kinshasa)": "CD", "Congo (Brazzaville)": "CG",
                    "Burma": "MM", "Macau": "MO", "Yemen Arab Republic": "YE", "South Yemen": "YD",
                    "Union of South Africa": "ZA", "Bosnian Federation": "BA", "Soviet Union": "SU"}
        assert {name: resolve_country(name) for name in expected} == expected

    def test_three_spellings_of_korea_give_one_partner(self, officer):
        rows = [PARTNER_HEADER, ["Seoul", "city", "Korea, South"], ["Seoul", "city", "South Korea"],
                ["Seoul", "city", "Republic of Korea"]]
        result = run("partners", rows, actor=officer, commit=True)
        assert result.counts == {"partner": {"created": 1, "updated": 0, "unchanged": 2}}
        assert Partner.objects.get().country.code == "KR"


class TestRepeatedRecords:
    def test_a_partner_repeated_with_other_values_is_a_row_error_naming_the_first_row(self, officer):
        rows = [["name", "kind", "country", "city"], ["Lyon", "city", "FR", "Lyon"], ["Lyon", "city", "FR", "Lyon 2e"]]
        before = snapshot()
        result = run("partners", rows, actor=officer, commit=True)
        assert not result.committed and snapshot() == before
        assert [(e.row, e.column, e.message) for e in result.errors] == [
            (3, "city (D)", "differs from row 2, which gives this record; leave it empty or repeat the same value.")]

    def test_a_contact_repeated_with_other_values_is_a_row_error(self, officer):
        PartnerFactory(name="Lyon", kind="city", country="FR")
        rows = [["partner", "full_name", "email"], ["Lyon", "Grégory Doucet", "maire@lyon.fr"],
                ["Lyon", "Grégory Doucet", "other@lyon.fr"]]
        result = run("contacts", rows, actor=officer, commit=True)
        assert not result.committed and Contact.objects.count() == 0
        assert result.errors[0].row == 3 and "differs from row 2" in result.errors[0].message

    def test_the_same_record_repeated_identically_is_written_once(self, officer):
        PartnerFactory(name="Lyon", kind="city", country="FR")
        rows = [["partner", "full_name", "email"], ["Lyon", "Grégory Doucet", "maire@lyon.fr"],
                ["Lyon", "Grégory Doucet", ""]]
        result = run("contacts", rows, actor=officer, commit=True)
        assert result.counts == {"contact": {"created": 1, "updated": 0, "unchanged": 1}}
        assert Contact.history.count() == 1


class TestReimportWritesNothing:
    def test_partners_contacts_and_engagements_with_commitments(self, officer, topics):
        partners = [["name", "kind", "country", "topics", "parent"], ["Kanagawa", "subnational_government", "JP", "trade", ""],
                    ["Yokohama", "city", "Japan", "trade; climate", "Kanagawa"]]
        first = run("partners", partners, actor=officer, commit=True)
        assert first.committed, first.errors
        assert Partner.objects.get(name="Yokohama").parent.name == "Kanagawa"
        assert Partner.history.count() == 2  # one history row per created record
        assert set(Partner.history.filter(name="Yokohama").get().topics.values_list("topic__slug", flat=True)) == {
            "trade", "climate"}
        assert_second_run_writes_nothing("partners", partners, actor=officer)

        contacts = [["partner", "full_name", "email"], ["Yokohama", "Mayor Takeharu Yamanaka", "mayor@yokohama.jp"]]
        assert run("contacts", contacts, actor=officer, commit=True).committed
        assert Contact.objects.get().title == "Mayor"
        assert_second_run_writes_nothing("contacts", contacts, actor=officer)

        engagements = [["title", "kind", "starts_at", "ends_at", "partners", "contacts", "topics", "commitment_description"],
                       ["Port cooperation talks", "bilateral_meeting", "2024-05-02T10:00", "2024-05-02T11:00",
                        "Yokohama", "Takeharu Yamanaka", "trade", "Send the port study"],
                       ["Port cooperation talks", "", "2024-05-02T10:00", "", "", "", "", "Visit in autumn"]]
        result = run("engagements", engagements, actor=officer, commit=True)
        assert result.committed, result.errors
        talks = Engagement.objects.get()
        assert [p.name for p in talks.partners.all()] == ["Yokohama"]
        assert set(talks.commitments.values_list("description", "partner__name")) == {
            ("Send the port study", "Yokohama"), ("Visit in autumn", "Yokohama")}
        assert Engagement.history.count() == 1 and Commitment.history.count() == 2
        assert talks.history.get().partners.count() == 1  # the m2m snapshot of the history row
        assert_second_run_writes_nothing("engagements", engagements, actor=officer)

    def test_a_changed_value_updates_once_with_one_history_row_and_the_next_version(self, officer):
        rows = [["name", "kind", "country", "city"], ["Lyon", "city", "FR", "Lyon"]]
        run("partners", rows, actor=officer, commit=True)
        lyon = Partner.objects.get()
        rows[1][3] = "Lyon (Rhône)"
        result = run("partners", rows, actor=officer, commit=True)
        assert result.counts == {"partner": {"created": 0, "updated": 1, "unchanged": 0}}
        lyon.refresh_from_db()
        assert lyon.city == "Lyon (Rhône)" and lyon.version == 2
        assert list(lyon.history.order_by("history_id").values_list("history_type", "city", "history_user")) == [
            ("+", "Lyon", officer.pk), ("~", "Lyon (Rhône)", officer.pk)]


def _partner_rows(n, offset=0):
    return [["name", "kind", "country", "topics", "external_id"],
            *[[f"Town {i}", "city", ["JP", "Korea, South", "Viet Nam"][i % 3], "trade" if i % 2 else "", f"t-{i}"]
              for i in range(offset, offset + n)]]


def _engagement_rows(n):
    return [["title", "kind", "starts_at", "partners", "topics", "commitment_description"],
            *[[f"Meeting {i}", "call", f"2020-01-01T{i % 24:02}:{i % 60:02}+00:00", f"Town {i % 10}", "trade",
               f"Follow up {i}" if i % 3 == 0 else ""] for i in range(n)]]


class TestBoundedQueries:
    """An import's query count does not grow with its rows (bulk writes, candidates read per file)."""

    def queries(self, kind, rows, actor):
        with CaptureQueriesContext(connection) as captured:
            result = run(kind, rows, actor=actor, commit=True)
        assert result.committed, result.errors[:3]
        return len(captured.captured_queries)

    def test_partners_n_and_2n_rows_cost_the_same_queries(self, officer, topics):
        small = self.queries("partners", _partner_rows(30), officer)
        large = self.queries("partners", _partner_rows(60, offset=100), officer)
        assert large <= small, (small, large)
        again = self.queries("partners", _partner_rows(60, offset=100), officer)
        assert again <= small

    def test_engagements_n_and_2n_rows_cost_the_same_queries(self, officer, topics):
        run("partners", _partner_rows(10), actor=officer, commit=True)
        small = self.queries("engagements", _engagement_rows(30), officer)
        Commitment.objects.all().delete()
        Engagement.objects.all().delete()
        large = self.queries("engagements", _engagement_rows(60), officer)
        assert large <= small, (small, large)


class TestNewKinds:
    GIFTS = [["exchanged_on", "direction", "giver", "recipient", "description", "estimated_value", "currency", "partner"],
             ["2019-05-27", "received", "H.E. George Papandreou", "Mayor", "Silver dish", "350", "usd", "Athens"],
             ["2019-06-15", "received", "H.E. Yusuf bin Alawi", "Mayor", "Filigree desk set", "$1,500.00", "", ""],
             ["2019-06-15", "given", "Mayor", "H.E. Yusuf bin Alawi", "City medal", "", "", ""]]

    def test_gifts_import_once_and_a_reimport_writes_nothing(self, officer):
        PartnerFactory(name="Athens", kind="city", country="GR")
        result = run("gifts", self.GIFTS, actor=officer, commit=True)
        assert result.counts == {"gift": {"created": 3, "updated": 0, "unchanged": 0}}
        dish = Gift.objects.get(description="Silver dish")
        assert dish.partner.name == "Athens" and dish.estimated_value == decimal.Decimal("350.00") and dish.currency == "USD"
        assert Gift.objects.get(description="Filigree desk set").estimated_value == decimal.Decimal("1500.00")
        assert Gift.history.count() == 3
        assert_second_run_writes_nothing("gifts", self.GIFTS, actor=officer)
        changed = [row[:] for row in self.GIFTS]
        changed[1][5] = "400"
        assert run("gifts", changed, actor=officer, commit=True).counts["gift"] == {
            "created": 0, "updated": 1, "unchanged": 2}
        assert Gift.objects.get(description="Silver dish").estimated_value == decimal.Decimal("400.00")

    def test_a_gift_row_with_a_bad_value_is_an_error_and_nothing_is_written(self, officer):
        rows = [self.GIFTS[0], ["2019-05-27", "received", "X", "Mayor", "Dish", "about 300", "", ""],
                ["", "received", "X", "Mayor", "Vase", "", "", ""]]
        result = run("gifts", rows, actor=officer, commit=True)
        assert not result.committed and Gift.objects.count() == 0
        assert [(e.row, e.column.split(" ")[0]) for e in result.errors] == [(2, "estimated_value"), (3, "exchanged_on")]

    def test_a_value_of_na_means_not_known(self, officer):
        # The federal gift register (R export) writes NA where no value was reported.
        rows = [self.GIFTS[0][:6], ["2019-05-27", "received", "X", "Mayor", "Dish", "NA"],
                ["2019-05-27", "received", "X", "Mayor", "Vase", "n/a"]]
        result = run("gifts", rows, actor=officer, commit=True)
        assert result.committed and not result.errors
        assert sorted(Gift.objects.values_list("description", "estimated_value")) == [("Dish", None), ("Vase", None)]

    def test_agreements_with_partners(self, officer):
        PartnerFactory(name="Veliko Tarnovo", kind="city", country="BG")
        PartnerFactory(name="Asti", kind="city", country="IT")
        rows = [["title", "kind", "partners", "signed_on", "status"],
                ["Sister cities: Veliko Tarnovo – Asti", "sister_city", "Veliko Tarnovo; Asti", "1993-05-01", "in_force"]]
        result = run("agreements", rows, actor=officer, commit=True)
        assert result.counts == {"agreement": {"created": 1, "updated": 0, "unchanged": 0}}
        agreement = Agreement.objects.get()
        assert sorted(p.name for p in agreement.partners.all()) == ["Asti", "Veliko Tarnovo"]
        assert agreement.history.get().partners.count() == 2
        assert_second_run_writes_nothing("agreements", rows, actor=officer)

    def test_missions_from_date_only_trips(self, officer):
        PartnerFactory(name="Japan", kind="national_government", country="JP")
        rows = [["name", "start_date", "end_date", "cities", "partners", "direction"],
                ["Mission to Japan", "2021-03-15", "2021-03-17", "Tokyo", "Japan", "outbound"],
                ["Mission to Japan", "2021-03-15", "2021-03-17", "Tokyo", "Japan", "outbound"],
                ["Day trip to Japan", "2021-04-01", "", "Osaka", "", ""]]
        result = run("missions", rows, actor=officer, commit=True)
        assert result.counts == {"mission": {"created": 2, "updated": 0, "unchanged": 1}}
        day = TradeMission.objects.get(name="Day trip to Japan")
        assert day.end_date == day.start_date == dt.date(2021, 4, 1)
        assert TradeMission.history.count() == 2
        assert_second_run_writes_nothing("missions", rows, actor=officer)

    def test_the_new_kinds_are_offered_by_the_command_and_the_page(self):
        from imports.forms import KIND_CHOICES
        from imports.importer import KINDS

        assert {"gifts", "agreements", "missions"} <= set(KINDS) <= {k for k, _ in KIND_CHOICES}


class TestRealDataSlices:
    """Slices of every real data set (tests/data/imports/README.md), each imported twice: the second writes nothing."""

    def test_gift_register(self, officer):
        options = dict(mapping={"exchanged_on": "{year_received}-01-01", "giver": "donor", "recipient": "recipient",
                                "description": "gift_description", "estimated_value": "value_usd"},
                       defaults={"direction": "received"}, actor=officer)
        first = run("gifts", fixture_bytes("gifts_slice.csv"), commit=True, **options)
        assert first.committed, first.errors[:3]
        assert first.count("created") == 30 and Gift.objects.count() == 30
        sake = Gift.objects.get(description__startswith="Six bottles of sake")
        assert sake.giver.startswith("His Excellency, Keizo Obuchi") and sake.estimated_value == 14500  # value_usd as the file gives it
        assert_second_run_writes_nothing("gifts", fixture_bytes("gifts_slice.csv"), **options)

    def test_official_trips_as_missions(self, officer):
        options = dict(mapping={"name": "{name}: {locale}", "start_date": "start_date", "end_date": "end_date",
                                "cities": "locale", "lead": "name", "objectives": "remarks"},
                       defaults={"direction": "outbound", "status": "completed"}, actor=officer)
        first = run("missions", fixture_bytes("trips_slice.csv"), commit=True, **options)
        assert first.committed, first.errors[:3]
        # Blinken's Tokyo trip is in the file twice (ids 3992 and 4019): one mission.
        assert first.counts == {"mission": {"created": 9, "updated": 0, "unchanged": 1}}
        assert TradeMission.objects.filter(name="Antony John Blinken: Tokyo").count() == 1
        assert_second_run_writes_nothing("missions", fixture_bytes("trips_slice.csv"), **options)

    def test_city_networks_as_partners_and_memberships(self, officer):
        data = fixture_bytes("city_networks_slice.csv")
        networks = dict(mapping={"name": "network_name"}, defaults={"kind": "city_network"}, actor=officer)
        cities = dict(mapping={"name": "member_city", "country": "country", "city": "member_city"},
                      defaults={"kind": "city"}, actor=officer)
        memberships = dict(mapping={"title": "{network} membership: {member_city}",
                                    "partners": "{network_name}; {member_city}"},
                           defaults={"kind": "network_membership", "status": "in_force"}, actor=officer)
        for kind, options in (("partners", networks), ("partners", cities), ("agreements", memberships)):
            result = run(kind, data, commit=True, **options)
            assert result.committed, (kind, result.errors[:3])
        assert Partner.objects.get(name="Seoul").country.code == "KR"  # "South Korea"
        assert Agreement.objects.count() == 24
        assert Agreement.objects.get(title="C40 membership: São Paulo").partners.count() == 2
        for kind, options in (("partners", networks), ("partners", cities), ("agreements", memberships)):
            assert_second_run_writes_nothing(kind, data, **options)

    def test_sister_cities_diplomatic_missions_leader_visits_and_the_mayors_diary(self, officer):
        runs = [
            ("partners", "sistercities_slice.tsv", dict(
                mapping={"name": "sistercityLabel", "country": "destination_countryLabel", "city": "sistercityLabel"},
                defaults={"kind": "city"})),
            ("partners", "diplomatic_missions_slice.csv", dict(
                mapping={"name": "{operator} {type} in {city}", "country": "operator", "city": "city",
                         "website": "website", "external_id": "QID"}, defaults={"kind": "diplomatic_mission"})),
            ("partners", "leader_visits_slice.csv", dict(
                mapping={"name": "country", "country": "country"}, defaults={"kind": "national_government"})),
            ("contacts", "leader_visits_slice.csv", dict(mapping={"partner": "country", "full_name": "visitor"})),
            ("engagements", "mayor_events_slice.csv", dict(
                mapping={"title": "event", "starts_at": "datetime", "location": "venue", "summary": "comment"},
                defaults={"kind": "event", "status": "held"})),
        ]
        for kind, name, options in runs:
            first = run(kind, fixture_bytes(name), name, commit=True, actor=officer, **options)
            assert first.committed, (name, first.errors[:3])
            assert first.count("created") > 0
            assert_second_run_writes_nothing(kind, fixture_bytes(name), name=name, actor=officer, **options)
        assert Partner.objects.filter(kind="diplomatic_mission", city="Los Angeles").count() == 12
        # Yoon is listed under "Korea, South" and "Korea, Republic of": two partners named so, one contact each.
        assert {c.title for c in Contact.objects.filter(full_name="Yoon Suk Yeol")} == {"President"}


class TestWebhooks:
    def test_an_import_gives_each_written_record_its_event_and_a_reimport_none(self, officer, monkeypatch, settings):
        from webhooks import services as webhook_services
        from webhooks import targets
        from webhooks.models import Event

        monkeypatch.setattr(targets, "_resolve", lambda host, port: ["93.184.215.14"])
        settings.WEBHOOK_ALLOWED_HOSTS = ["hooks.example.org"]
        settings.WEBHOOK_ALLOWED_NETWORKS = []
        webhook_services.endpoint_create(actor=officer, url="https://hooks.example.org/crm",
                                         event_types=["partner.created", "partner.updated"])
        rows = [["name", "kind", "country", "city"], ["Lyon", "city", "FR", "Lyon"], ["Porto", "city", "PT", "Porto"]]
        assert run("partners", rows, actor=officer, commit=True).committed
        ids = set(Partner.objects.values_list("pk", flat=True))
        assert {(e.type, e.object_id) for e in Event.objects.all()} == {("partner.created", pk) for pk in ids}
        run("partners", rows, actor=officer, commit=True)
        assert Event.objects.count() == 2
        rows[1][3] = "Lyon 1er"
        run("partners", rows, actor=officer, commit=True)
        lyon = Partner.objects.get(name="Lyon")
        assert Event.objects.filter(type="partner.updated").get().object_id == lyon.pk
