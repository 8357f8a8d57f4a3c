"""Imports reveal nothing: a row's outcome does not depend on records the importing user may not see.

The finding (issue 13): a member of staff uploaded (title, start) guesses and
the check answered "exists, you may not change it" for the real restricted
meeting and "created" for the rest, so a dry run found its exact start.
"""

import datetime as dt
import json
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from engagements.models import Commitment, Engagement
from imports.models import ImportJob
from imports.reader import read_table
from imports.run import run_import
from tests.factories import CommitmentFactory, EngagementFactory, PartnerFactory
from tests.integration.import_helpers import csv_bytes

pytestmark = pytest.mark.django_db
PASSWORD = "correct horse battery staple"
SECRET_START = dt.datetime(2025, 4, 1, 17, tzinfo=dt.UTC)  # 10:00 in the office's zone

HEADER = ["title", "kind", "starts_at", "partners", "summary", "commitment_description"]


def guesses() -> list[list]:
    """One row per guessed start, the real one among them; the real one also carries a commitment."""
    rows = [HEADER]
    for hour in (8, 9, 10, 11):
        rows.append(["Security briefing", "call", f"2025-04-01T{hour:02}:00", "Seoul", "", ""])
    rows.append(["Security briefing", "call", "2025-04-01T10:00", "", "", "Send the threat report"])
    rows.append(["SECURITY BRIEFING", "call", "2025-04-01T17:00+00:00", "", "", ""])
    return rows


def hide_a_restricted_engagement(officer):
    hidden = EngagementFactory(title="Security briefing", starts_at=SECRET_START, summary="Only for officers",
                               confidentiality="restricted", staff=[officer])
    CommitmentFactory(engagement=hidden, description="Send the threat report", owner=officer)
    return hidden


def check_page(client, staff_user, data: bytes) -> tuple[str, str]:
    """Upload, map and check through the pages; the stored result (as JSON) and the preview's content."""
    assert client.login(username=staff_user.username, password=PASSWORD)
    client.post(reverse("imports:start"), {"kind": "engagements", "file": SimpleUploadedFile("guess.csv", data)})
    job = ImportJob.objects.latest("pk")
    form = {f"col_{name}": name for name in HEADER}
    response = client.post(reverse("imports:mapping", args=[job.pk]), form)
    assert response.status_code == 302, response.content.decode()[:2000]
    job.refresh_from_db()
    assert job.status == ImportJob.Status.CHECKED
    page = client.get(reverse("imports:preview", args=[job.pk])).content.decode()
    main = page[page.index("<main"):page.index("</main>")]
    # What differs between two uploads by construction: the job's id and the form's CSRF token.
    main = re.sub(r"/import/\d+/", "/import/N/", main)
    main = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", main)
    stored = json.dumps({"counts": job.counts, "errors": job.errors, "warnings": job.warnings, "preview": job.preview},
                        sort_keys=True)
    return stored, main


class TestTheCheckIsNoOracle:
    @pytest.fixture
    def seoul(self, db):
        return PartnerFactory(name="Seoul", country="KR")

    def test_the_same_file_gives_byte_identical_check_results_with_or_without_a_hidden_engagement(
        self, postgres_required, client, seoul, staff_user, officer, inline_import_tasks
    ):
        data = csv_bytes(guesses())
        without = check_page(client, staff_user, data)
        hide_a_restricted_engagement(officer)
        with_hidden = check_page(client, staff_user, data)
        assert with_hidden[0] == without[0]
        assert with_hidden[1] == without[1]
        # And the answer is a plain "would be created" for every guess, the real one included.
        result = json.loads(with_hidden[0])
        assert result["errors"] == []
        # (the last row names the 10:00 one again, as an instant in UTC: the file's own engagement, unchanged)
        assert result["counts"]["engagement"] == {"created": 4, "updated": 0, "unchanged": 1}
        assert result["counts"]["commitment"] == {"created": 1, "updated": 0, "unchanged": 0}
        assert "Only for officers" not in with_hidden[1]

    def test_the_service_result_is_identical_too(self, postgres_required, seoul, staff_user, officer):
        data = csv_bytes(guesses())
        run = lambda: run_import(kind="engagements", table=read_table(data, "g.csv"), actor=staff_user)  # noqa: E731
        without = json.dumps(run().as_dict(), sort_keys=True)
        hide_a_restricted_engagement(officer)
        assert json.dumps(run().as_dict(), sort_keys=True) == without

    def test_a_commit_creates_a_new_engagement_beside_the_hidden_one_and_leaves_it_alone(
        self, postgres_required, seoul, staff_user, officer
    ):
        hidden = hide_a_restricted_engagement(officer)
        rows = [HEADER, ["Security briefing", "call", "2025-04-01T10:00", "Seoul", "changed?", "Send the threat report"]]
        result = run_import(kind="engagements", table=read_table(csv_bytes(rows), "g.csv"), actor=staff_user, commit=True)
        assert result.committed, result.errors
        assert result.counts == {"engagement": {"created": 1, "updated": 0, "unchanged": 0},
                                 "commitment": {"created": 1, "updated": 0, "unchanged": 0}}
        hidden.refresh_from_db()
        assert hidden.summary == "Only for officers" and hidden.confidentiality == "restricted"
        assert hidden.commitments.count() == 1
        mine = Engagement.objects.exclude(pk=hidden.pk).get()
        assert mine.summary == "changed?" and mine.confidentiality == "internal"
        assert Commitment.objects.filter(engagement=mine).count() == 1

    def test_an_officer_still_matches_the_restricted_engagement(self, postgres_required, seoul, officer):
        hidden = hide_a_restricted_engagement(officer)
        rows = [HEADER, ["Security briefing", "call", "2025-04-01T10:00", "", "", ""]]
        result = run_import(kind="engagements", table=read_table(csv_bytes(rows), "g.csv"), actor=officer)
        assert result.counts == {"engagement": {"created": 0, "updated": 1, "unchanged": 0}}  # its kind differs
        assert Engagement.objects.get() == hidden

    def test_a_member_of_staff_who_took_part_matches_it(self, postgres_required, seoul, staff_user, officer):
        hidden = hide_a_restricted_engagement(officer)
        hidden.staff.add(staff_user)
        rows = [HEADER, ["Security briefing", "call", "2025-04-01T10:00", "", "Notes", ""]]
        result = run_import(kind="engagements", table=read_table(csv_bytes(rows), "g.csv"), actor=staff_user, commit=True)
        assert result.counts == {"engagement": {"created": 0, "updated": 1, "unchanged": 0}}
        hidden.refresh_from_db()
        assert hidden.summary == "Notes"
