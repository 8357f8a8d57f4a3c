"""The import pages in real Chromium (issue 16): the mapping shown before the check, bad rows with the two
choices, a stalled job with Resume and Cancel; no serious accessibility violation, no script error."""

import pytest
from django.utils import timezone

from imports import services
from imports.models import ImportJob
from partners.models import Topic
from tests.browser.helpers import serious_violations
from tests.integration.import_helpers import PARTNER_HEADER, PARTNER_ROWS, csv_bytes

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_import_pages_show_the_mapping_the_choices_and_a_stalled_job(web, officer):
    Topic.objects.create(name="Trade", slug="trade")
    Topic.objects.create(name="Climate", slug="climate")
    data = csv_bytes([PARTNER_HEADER, *PARTNER_ROWS, ["Atlantis City", "city", "Atlantis", "", "", "", ""]])
    checked = services.import_job_create(user=officer, kind="partners", filename="p.csv", data=data)
    ImportJob.objects.filter(pk=checked.pk).update(status="checking")
    services.import_job_run(job_id=checked.pk, commit=False)
    stalled = services.import_job_create(user=officer, kind="partners", filename="q.csv", data=data)
    long_ago = timezone.now() - timezone.timedelta(hours=1)
    ImportJob.objects.filter(pk=stalled.pk).update(status="importing", claimed_at=long_ago, updated_at=long_ago,
                                                  claim_token="dead", progress=2)

    web.login(officer.username)
    pages = {
        "start": "/import/",
        "mapping": f"/import/{checked.pk}/",
        "checked": f"/import/{checked.pk}/preview/",
        "stalled": f"/import/{stalled.pk}/preview/",
    }
    seen = {}
    for name, path in pages.items():
        web.visit(path)
        seen[name] = web.page.content()
        assert serious_violations(web.page) == [], name
    assert "IMPORT_MAX" not in seen["start"] and "100,000" in seen["start"]
    assert "Import the 3 good rows" in seen["checked"] and "Download the bad rows" in seen["checked"]
    assert "Stalled" in seen["stalled"] and ">Resume<" in seen["stalled"] and ">Cancel<" in seen["stalled"]

    web.page.get_by_role("button", name="Cancel").click()
    web.page.wait_for_load_state("networkidle")
    assert "Cancelled: nothing was imported." in web.page.content()
    assert ImportJob.objects.get(pk=stalled.pk).status == "cancelled"
    assert web.problems == []
