"""Good rows in, bad rows back; templates without fragments; date-only ends (issue 16), on PostgreSQL."""

import csv
import datetime as dt
import io
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse

from engagements.models import Commitment, Engagement
from imports import services
from imports.models import ImportJob
from imports.reader import read_table
from imports.run import run_import
from partners.models import Partner
from tests.factories import PartnerFactory
from tests.integration.import_helpers import PARTNER_HEADER, PARTNER_ROWS, csv_bytes, snapshot, xlsx_bytes

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("postgres_required")]
PASSWORD = "correct horse battery staple"

BAD = ["Atlantis City", "city", "Atlantis", "", "", "", ""]
MIXED = [PARTNER_HEADER, PARTNER_ROWS[0], BAD, PARTNER_ROWS[1], PARTNER_ROWS[2]]


def run(kind, data, name="f.csv", **kwargs):
    return run_import(kind=kind, table=read_table(data, name), **kwargs)


class TestSkipInvalid:
    def test_all_or_nothing_writes_nothing_when_one_row_is_bad(self, topics, officer):
        before = snapshot()
        result = run("partners", csv_bytes(MIXED), actor=officer, commit=True)
        assert not result.committed and result.bad_rows == [3] and snapshot() == before

    def test_the_good_rows_go_in_and_the_bad_one_is_listed(self, topics, officer):
        before = snapshot()
        result = run("partners", csv_bytes(MIXED), actor=officer, commit=True, skip_invalid=True)
        assert result.committed and result.bad_rows == [3]
        assert "Atlantis" in result.errors[0].message and result.errors[0].column.startswith("country")
        assert sorted(Partner.objects.values_list("name", flat=True)) == sorted(r[0] for r in PARTNER_ROWS)
        after = snapshot()
        assert after["Partner"] - before["Partner"] == 3 and after["history:Partner"] - before["history:Partner"] == 3

    def test_nothing_of_a_bad_row_stays_even_what_it_wrote_before_failing(self, officer):
        seoul = PartnerFactory(name="Seoul", country="KR")
        rows = [
            ["title", "kind", "starts_at", "partners", "commitment_description", "commitment_due_date"],
            ["Good visit", "visit_received", "2025-03-14T10:00", "Seoul", "Send the MOU", "2025-04-01"],
            # The engagement is fine, its commitment is not: the whole row is left out.
            ["Half-bad visit", "visit_received", "2025-03-15T10:00", "Seoul", "Host a visit", "not a date"],
        ]
        result = run("engagements", csv_bytes(rows), actor=officer, commit=True, skip_invalid=True)
        assert result.committed and result.bad_rows == [3]
        assert list(Engagement.objects.values_list("title", flat=True)) == ["Good visit"]
        assert list(Commitment.objects.values_list("description", flat=True)) == ["Send the MOU"]
        assert Engagement.history.count() == 1 and seoul.engagements.count() == 1

    def test_a_row_naming_a_left_out_row_as_parent_is_left_out_too(self, topics, officer):
        rows = [["name", "kind", "country", "parent"],
                ["Ministry of Atlantis", "national_government", "Atlantis", ""],
                ["Atlantis Trade Office", "other", "FR", "Ministry of Atlantis"],
                ["Lyon", "city", "FR", ""]]
        result = run("partners", csv_bytes(rows), actor=officer, commit=True, skip_invalid=True)
        assert result.bad_rows == [2, 3]
        assert list(Partner.objects.values_list("name", flat=True)) == ["Lyon"]


class TestTemplatesAndDates:
    def test_a_template_with_an_empty_cell_is_an_error_named_by_the_field(self, officer):
        rows = [["type", "country_name", "town"], ["Embassy", "Cuba", "Havana"], ["Embassy", "Cuba", ""]]
        result = run("partners", csv_bytes(rows), actor=officer, commit=True, skip_invalid=True,
                     mapping={"name": "{type} of {country_name} in {town}", "country": "country_name"},
                     defaults={"kind": "diplomatic_mission"})
        assert list(Partner.objects.values_list("name", flat=True)) == ["Embassy of Cuba in Havana"]
        (error,) = result.errors
        assert error.row == 3 and error.column == "name (template “{type} of {country_name} in {town}”)"
        assert "“town” is empty" in error.message
        assert not Partner.objects.filter(name__endswith=" in").exists()

    @pytest.mark.parametrize("as_xlsx", [False, True])
    def test_a_date_only_end_is_the_end_of_that_day(self, officer, settings, as_xlsx):
        settings.TIME_ZONE = "America/Los_Angeles"
        rows = [["title", "kind", "starts_at", "ends_at"],
                ["One-day visit", "visit_received", dt.date(2025, 3, 14), dt.date(2025, 3, 14)],
                ["Three-day visit", "visit_received", dt.date(2025, 3, 14), dt.date(2025, 3, 16)]]
        data = xlsx_bytes(rows) if as_xlsx else csv_bytes([[str(c) for c in r] for r in rows])
        result = run("engagements", data, name="v.xlsx" if as_xlsx else "v.csv", actor=officer, commit=True)
        assert result.errors == [] and result.committed
        zone = ZoneInfo("America/Los_Angeles")
        one = Engagement.objects.get(title="One-day visit")
        assert one.starts_at == dt.datetime(2025, 3, 14, tzinfo=zone)
        assert one.ends_at == dt.datetime(2025, 3, 14, 23, 59, 59, tzinfo=zone)
        three = Engagement.objects.get(title="Three-day visit")
        assert three.ends_at.astimezone(zone).date() == dt.date(2025, 3, 16)
        # Importing it again finds both unchanged (the same end is read the same way).
        again = run("engagements", data, name="v.xlsx" if as_xlsx else "v.csv", actor=officer, commit=True)
        assert again.count("unchanged") == 2 and again.count("created") == 0


    @pytest.mark.parametrize("as_xlsx", [False, True])
    def test_a_time_zone_column_reads_times_and_date_only_ends_in_that_zone(self, officer, settings, as_xlsx):
        settings.TIME_ZONE = "America/Los_Angeles"
        rows = [["title", "kind", "starts_at", "ends_at", "time_zone"],
                ["Tokyo visit", "visit_abroad", dt.datetime(2025, 3, 14, 9, 0), dt.date(2025, 3, 16), "Asia/Tokyo"],
                ["Rome call", "call", "2025-03-14T10:00+00:00", "", " Europe/Rome "],
                ["Office visit", "visit_received", dt.date(2025, 3, 14), dt.date(2025, 3, 14), ""]]
        data = xlsx_bytes(rows) if as_xlsx else csv_bytes([[str(c) if c else "" for c in r] for r in rows])
        name = "z.xlsx" if as_xlsx else "z.csv"
        result = run("engagements", data, name=name, actor=officer, commit=True)
        assert result.errors == [] and result.committed
        tokyo = Engagement.objects.get(title="Tokyo visit")
        assert tokyo.starts_at == dt.datetime(2025, 3, 14, 9, 0, tzinfo=ZoneInfo("Asia/Tokyo"))
        assert tokyo.ends_at == dt.datetime(2025, 3, 16, 23, 59, 59, tzinfo=ZoneInfo("Asia/Tokyo"))
        assert tokyo.venue_timezone == "Asia/Tokyo"
        rome = Engagement.objects.get(title="Rome call")  # an offset wins over the zone; the zone is still the venue's
        assert rome.starts_at == dt.datetime(2025, 3, 14, 10, 0, tzinfo=dt.UTC) and rome.venue_timezone == "Europe/Rome"
        office = Engagement.objects.get(title="Office visit")
        assert office.venue_timezone == "" and office.ends_at == dt.datetime(
            2025, 3, 14, 23, 59, 59, tzinfo=ZoneInfo("America/Los_Angeles"))
        history = Engagement.history.count()
        again = run("engagements", data, name=name, actor=officer, commit=True)
        assert again.count("unchanged") == 3 and again.count("created") == again.count("updated") == 0
        assert Engagement.history.count() == history

    def test_an_unknown_time_zone_is_the_rows_error(self, officer):
        rows = [["title", "kind", "starts_at", "time_zone"],
                ["Call", "call", "2025-03-14T10:00", "Mars/Olympus_Mons"],
                ["Other call", "call", "2025-03-14T11:00", "Europe/Paris"]]
        result = run("engagements", csv_bytes(rows), actor=officer, commit=True, skip_invalid=True)
        assert [(e.row, e.column.split(" ")[0]) for e in result.errors] == [(2, "time_zone")]
        assert "IANA name" in result.errors[0].message
        assert list(Engagement.objects.values_list("title", "venue_timezone")) == [("Other call", "Europe/Paris")]

@pytest.mark.usefixtures("inline_import_tasks")
class TestThePage:
    def start(self, client, user, data, name="partners.csv"):
        assert client.login(username=user.username, password=PASSWORD)
        client.post(reverse("imports:start"), {"kind": "partners", "file": _upload(name, data)})
        job = ImportJob.objects.get()
        client.post(reverse("imports:mapping", args=[job.pk]), {f"col_{k}": v for k, v in job.mapping.items()})
        job.refresh_from_db()
        return job

    def test_the_check_lists_the_bad_rows_and_offers_the_good_ones(self, client, officer, topics):
        job = self.start(client, officer, csv_bytes(MIXED))
        assert job.status == "checked" and job.bad_row_count == 1 and job.good_row_count == 3
        page = client.get(reverse("imports:preview", args=[job.pk])).content.decode()
        assert "1 bad row" in page and "Atlantis" in page
        assert "Import the 3 good rows" in page and 'value="good"' in page
        assert "Download the bad rows" in page
        # The column → field mapping is on the page.
        assert "The mapping used" in page and "<code>country</code>" in page

        # All or nothing is refused while a row is bad; nothing is written.
        client.post(reverse("imports:commit", args=[job.pk]), {"mode": "all"})
        assert ImportJob.objects.get(pk=job.pk).status == "checked" and not Partner.objects.exists()

        client.post(reverse("imports:commit", args=[job.pk]), {"mode": "good"})
        job.refresh_from_db()
        assert job.status == "imported" and job.skip_invalid
        assert sorted(Partner.objects.values_list("name", flat=True)) == sorted(r[0] for r in PARTNER_ROWS)
        page = client.get(reverse("imports:preview", args=[job.pk])).content.decode()
        assert "The 3 good rows were imported in one go; the 1 bad row was left out" in page

        response = client.get(reverse("imports:bad_rows", args=[job.pk]))
        assert response.status_code == 200 and response["Content-Disposition"] == 'attachment; filename="partners-bad-rows.csv"'
        rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
        assert rows[0] == [*PARTNER_HEADER, "import error"]
        assert rows[1][:7] == BAD and "Atlantis" in rows[1][7]

    def test_the_fixed_bad_rows_file_imports_the_rest(self, client, officer, topics):
        job = self.start(client, officer, csv_bytes(MIXED))
        client.post(reverse("imports:commit", args=[job.pk]), {"mode": "good"})
        content = client.get(reverse("imports:bad_rows", args=[job.pk])).content.decode("utf-8-sig")
        fixed = content.replace("Atlantis,", "FR,", 1).encode()
        ImportJob.objects.all().delete()
        job = self.start(client, officer, fixed, name="partners-bad-rows.csv")
        assert job.errors == [] and any("import error" in w for w in job.warnings)
        client.post(reverse("imports:commit", args=[job.pk]), {"mode": "all"})
        assert Partner.objects.count() == 4 and Partner.objects.filter(name="Atlantis City", country="FR").exists()

    def test_an_xlsx_gets_its_bad_rows_back_as_xlsx(self, client, officer, topics):
        job = self.start(client, officer, xlsx_bytes(MIXED), name="partners.xlsx")
        response = client.get(reverse("imports:bad_rows", args=[job.pk]))
        assert response["Content-Type"].startswith("application/vnd.openxmlformats")
        table = read_table(response.content, "b.xlsx")
        assert table.headers[-1] == "import error" and [r[1][0] for r in table.rows] == ["Atlantis City"]

    def test_a_commit_that_raises_after_writing_answers_no_500_and_the_job_says_why(
        self, client, officer, topics, monkeypatch
    ):
        job = self.start(client, officer, csv_bytes([PARTNER_HEADER, *PARTNER_ROWS]))

        def broken(result):  # runs inside the import's transaction, after every row was written
            raise RuntimeError("the disk is full")

        monkeypatch.setattr(services, "_result_fields", broken)
        response = client.post(reverse("imports:commit", args=[job.pk]), {"mode": "all"})
        assert response.status_code == 302
        job.refresh_from_db()
        assert job.status == "failed" and "nothing was written" in job.message and not Partner.objects.exists()
        page = client.get(reverse("imports:preview", args=[job.pk]))
        assert page.status_code == 200 and b"Nothing was imported" in page.content


def _upload(name, data):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, data)
