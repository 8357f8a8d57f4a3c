"""The import page: permissions, upload → map → check → import (every pass through the Celery task; here run
inline by `inline_import_tasks`; the real worker's runs are in test_import_jobs.py)."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from imports import services, tasks
from imports.models import ImportJob
from partners.models import Partner
from tests.factories import PartnerFactory
from tests.integration.import_helpers import PARTNER_HEADER, PARTNER_ROWS, csv_bytes, snapshot

pytestmark = pytest.mark.django_db


def upload(client, data: bytes, *, kind="partners", name="partners.csv"):
    return client.post(reverse("imports:start"), {"kind": kind, "file": SimpleUploadedFile(name, data)})


class TestPermissions:
    @pytest.mark.parametrize("name", ["imports:start", "imports:duplicates"])
    def test_anonymous_users_are_sent_to_log_in(self, client, name):
        response = client.get(reverse(name))
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]

    def test_viewers_get_403(self, client_for):
        client = client_for("viewer")
        assert client.get(reverse("imports:start")).status_code == 403
        assert client.post(reverse("imports:start"), {"kind": "partners"}).status_code == 403
        assert client.get(reverse("imports:duplicates")).status_code == 403

    def test_staff_import_but_do_not_merge(self, client_for):
        client = client_for("staff")
        response = client.get(reverse("imports:start"))
        assert response.status_code == 200 and b"<h1>Import</h1>" in response.content
        assert client.get(reverse("imports:duplicates")).status_code == 403

    def test_another_users_job_is_a_404(self, staff_user, topics, client_for):
        job = services.import_job_create(user=staff_user, kind="partners", filename="p.csv",
                                         data=csv_bytes([PARTNER_HEADER, *PARTNER_ROWS]))
        client = client_for("other_staff")
        assert client.get(reverse("imports:preview", args=[job.pk])).status_code == 404
        assert client.get(reverse("imports:status", args=[job.pk])).status_code == 404


@pytest.mark.usefixtures("inline_import_tasks")
class TestFlow:
    def test_upload_map_check_then_import(self, topics, client_for):
        client = client_for("officer")
        response = upload(client, csv_bytes([PARTNER_HEADER, *PARTNER_ROWS]))
        job = ImportJob.objects.get()
        assert response.status_code == 302 and response["Location"] == reverse("imports:mapping", args=[job.pk])
        page = client.get(response["Location"])
        assert page.status_code == 200 and b"Map the columns" in page.content
        # The mapping page proposes each same-named column.
        assert job.mapping["country"] == "country"
        form = {f"col_{field}": header for field, header in job.mapping.items()}
        response = client.post(reverse("imports:mapping", args=[job.pk]), form)
        assert response.status_code == 302
        preview = client.get(response["Location"])
        assert b"What the import would do" in preview.content and b"will be created" in preview.content
        assert not Partner.objects.exists()  # the check wrote nothing
        response = client.post(reverse("imports:commit", args=[job.pk]))
        assert response.status_code == 302
        assert Partner.objects.count() == 3
        job.refresh_from_db()
        assert job.status == "imported" and job.counts["partner"]["created"] == 3
        page = client.get(reverse("imports:preview", args=[job.pk]))
        assert b"<h1>Imported</h1>" in page.content
        # A second commit of the same job does nothing.
        client.post(reverse("imports:commit", args=[job.pk]))
        assert Partner.objects.count() == 3

    def test_row_errors_are_listed_and_the_import_button_is_absent(self, topics, client_for):
        client = client_for("officer")
        upload(client, csv_bytes([PARTNER_HEADER, ["Königsberg", "city", "Prussia", "", "", "", ""]]))
        job = ImportJob.objects.get()
        client.post(reverse("imports:mapping", args=[job.pk]), {f"col_{k}": v for k, v in job.mapping.items()})
        page = client.get(reverse("imports:preview", args=[job.pk]))
        assert b"1 error" in page.content and b"Prussia" in page.content
        assert reverse("imports:commit", args=[job.pk]).encode() not in page.content
        client.post(reverse("imports:commit", args=[job.pk]))
        assert not Partner.objects.exists()

    def test_a_fixed_value_and_a_template_are_taken_from_the_mapping_form(self, topics, client_for):
        client = client_for("officer")
        upload(client, csv_bytes([["operator", "type"], ["Japan", "embassy"]]))
        job = ImportJob.objects.get()
        client.post(reverse("imports:mapping", args=[job.pk]), {
            "val_name": "{type} of {operator}", "col_country": "operator", "val_kind": "diplomatic_mission",
        })
        client.post(reverse("imports:commit", args=[job.pk]))
        assert Partner.objects.get().name == "embassy of Japan"

    def test_a_mapping_that_does_not_fit_is_shown_as_an_error(self, topics, client_for):
        client = client_for("officer")
        upload(client, csv_bytes([["x", "y"], ["1", "2"]]))
        job = ImportJob.objects.get()
        response = client.post(reverse("imports:mapping", args=[job.pk]), {"val_kind": "city"})
        assert response.status_code == 200 and b"identifies each record" in response.content

    @pytest.mark.parametrize("data,message", [
        (b"", b"empty"),  # Django's FileField refuses an empty upload itself
        (b"name,kind\n", b"no data rows"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", b"NUL bytes"),
        ("name,kind\nMalmö,city\n".encode("cp1252") + b"," * 10_001 + b"\n", b"columns"),
        (b"PK\x03\x04garbage", b"cannot be read"),
    ])
    def test_malformed_files_get_a_clear_message_not_a_500(self, data, message, client_for):
        client = client_for("officer")
        response = upload(client, data)
        assert response.status_code == 200
        assert message in response.content
        assert not ImportJob.objects.exists()

    def test_a_file_over_10_mb_is_refused(self, client_for):
        client = client_for("officer")
        big = b"name,kind\n" + b"A partner with a long name,city\n" * 400_000
        assert len(big) > 10 * 1024 * 1024
        response = upload(client, big)
        assert response.status_code == 200 and b"at most 10 MB" in response.content
        assert not ImportJob.objects.exists()

    def test_a_viewer_cannot_choose_a_kind_they_may_not_import(self, topics, client_for):
        # Staff may import partners (add only); a bogus kind is a form error.
        client = client_for("staff")
        response = upload(client, csv_bytes([PARTNER_HEADER, *PARTNER_ROWS]), kind="agreements")
        assert response.status_code == 200 and not ImportJob.objects.exists()


class TestBackgroundPasses:
    """Every pass is queued for the worker (never run in the request); the page follows it."""

    @pytest.fixture
    def queued(self, monkeypatch):
        calls = []
        monkeypatch.setattr(services, "_enqueue_on_commit", lambda job_id, commit: calls.append((job_id, commit)))
        return calls

    def test_even_a_one_row_file_is_checked_and_imported_by_the_task(self, topics, queued, client_for):
        client = client_for("officer")
        upload(client, csv_bytes([PARTNER_HEADER, PARTNER_ROWS[0]]))
        job = ImportJob.objects.get()
        client.post(reverse("imports:mapping", args=[job.pk]), {f"col_{k}": v for k, v in job.mapping.items()})
        job.refresh_from_db()
        assert job.status == "checking" and queued == [(job.pk, False)]
        page = client.get(reverse("imports:preview", args=[job.pk]))
        assert b"<progress" in page.content and b"js/imports.js" in page.content and b"Stalled" not in page.content
        assert client.get(reverse("imports:status", args=[job.pk])).json()["running"] is True
        tasks.run_import_job(*queued.pop())
        job.refresh_from_db()
        status = client.get(reverse("imports:status", args=[job.pk])).json()
        assert status == {"status": "checked", "status_label": job.get_status_display(), "running": False,
                          "stalled": False, "progress": 1, "total": 1, "percent": 100}
        client.post(reverse("imports:commit", args=[job.pk]), {"mode": "all"})
        assert ImportJob.objects.get(pk=job.pk).status == "importing" and queued == [(job.pk, True)]
        assert not Partner.objects.exists()  # the request wrote nothing
        # A double-click: the second POST finds the job already importing and queues nothing.
        client.post(reverse("imports:commit", args=[job.pk]), {"mode": "all"})
        assert queued == [(job.pk, True)]
        tasks.run_import_job(*queued.pop())
        assert ImportJob.objects.get(pk=job.pk).status == "imported" and Partner.objects.count() == 1

    def test_the_task_is_idempotent(self, officer, topics):
        job = services.import_job_create(user=officer, kind="partners", filename="p.csv",
                                         data=csv_bytes([PARTNER_HEADER, *PARTNER_ROWS]))
        ImportJob.objects.filter(pk=job.pk).update(status="importing")
        tasks.run_import_job(job.pk, True)
        before = snapshot()
        tasks.run_import_job(job.pk, True)  # a redelivered task
        assert snapshot() == before
        assert ImportJob.objects.get(pk=job.pk).status == "imported"

    def test_a_job_held_by_a_live_worker_is_not_run_twice(self, officer, topics):
        from django.utils import timezone

        job = services.import_job_create(user=officer, kind="partners", filename="p.csv",
                                         data=csv_bytes([PARTNER_HEADER, *PARTNER_ROWS]))
        ImportJob.objects.filter(pk=job.pk).update(status="importing", claimed_at=timezone.now())
        assert services.import_job_run(job_id=job.pk, commit=True) is None
        assert not Partner.objects.exists()

    def test_a_crash_mid_import_leaves_nothing_half_written_and_the_page_says_so(self, officer, topics,
                                                                                  monkeypatch, client_for):
        job = services.import_job_create(user=officer, kind="partners", filename="p.csv",
                                         data=csv_bytes([PARTNER_HEADER, *PARTNER_ROWS]))
        ImportJob.objects.filter(pk=job.pk).update(status="importing")
        from imports import rows as importer

        original = importer.PartnerImporter.import_row

        def explode_on_row_4(self, number, cells):
            if number == 4:
                raise RuntimeError("worker lost")
            return original(self, number, cells)

        monkeypatch.setattr(importer.PartnerImporter, "import_row", explode_on_row_4)
        before = snapshot()
        tasks.run_import_job(job.pk, True)
        assert snapshot() == before
        job.refresh_from_db()
        assert job.status == "failed" and "nothing was written" in job.message
        client = client_for(officer)
        page = client.get(reverse("imports:preview", args=[job.pk]))
        assert page.status_code == 200 and b"Nothing was imported" in page.content

    def test_a_broker_outage_marks_the_job_failed_instead_of_spinning(self, officer, topics, monkeypatch,
                                                                     django_capture_on_commit_callbacks):
        def down(*args):
            raise ConnectionError("broker down")

        monkeypatch.setattr(tasks.run_import_job, "delay", down)
        job = services.import_job_create(user=officer, kind="partners", filename="p.csv",
                                         data=csv_bytes([PARTNER_HEADER, *PARTNER_ROWS]))
        with django_capture_on_commit_callbacks(execute=True):
            services.import_job_start(job=job, commit=False)
        job.refresh_from_db()
        assert job.status == "failed" and "could not be queued" in job.message


def test_the_page_keeps_to_the_csp(topics, client_for):
    client = client_for("officer")
    upload(client, csv_bytes([PARTNER_HEADER, *PARTNER_ROWS]))
    job = ImportJob.objects.get()
    for url in (reverse("imports:start"), reverse("imports:mapping", args=[job.pk]), reverse("imports:preview", args=[job.pk])):
        body = client.get(url).content.decode()
        assert " style=" not in body
        assert "<script>" not in body  # only <script src=…>


def test_duplicates_page_lists_similar_partners(client_for):
    PartnerFactory(name="Consulate General of El Salvador", country="SV", city="Los Angeles")
    PartnerFactory(name="Consulate-General of El Salvador", country="SV", city="Los Angeles")
    PartnerFactory(name="Consulate General of El Salvador", country="US")  # another country: not a pair
    client = client_for("officer")
    response = client.get(reverse("imports:duplicates"))
    assert response.status_code == 200
    assert response.context["partner_pairs"] and len(response.context["partner_pairs"]) == 1
