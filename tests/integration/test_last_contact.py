"""One definition of "last contact": the latest HELD engagement started by now, never a planned or future one.

Issue 17, point 5: the partner list showed a future planned call, the API's
`last_engagement_at` a meeting planned years ahead, the dashboard's charts
counted future planned meetings. Each surface is checked here against the
same world: an old held meeting (the last contact), a planned call next
year, a meeting marked held but dated in the future (a data-entry slip) and
a cancelled meeting last month. Only the old held meeting may show.
"""

import datetime as dt

import pytest
from django.core.cache import cache
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from dashboard.home.charts import engagement_charts
from engagements.models import Engagement
from tests.factories import EngagementFactory, PartnerFactory

pytestmark = pytest.mark.django_db

HELD_AT = dt.datetime(2023, 4, 12, 10, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def _cold_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def last_contact_world():
    now = timezone.now()
    partner = PartnerFactory(name="Ville de Lyon", country="FR", city="Lyon", priority=1)
    EngagementFactory(title="Held long ago", partners=[partner], starts_at=HELD_AT, status=Engagement.Status.HELD)
    EngagementFactory(
        title="Planned call next year", partners=[partner], starts_at=now + dt.timedelta(days=400),
        status=Engagement.Status.PLANNED,
    )
    EngagementFactory(
        title="Marked held but ahead", partners=[partner], starts_at=now + dt.timedelta(days=30),
        status=Engagement.Status.HELD,
    )
    EngagementFactory(
        title="Cancelled last month", partners=[partner], starts_at=now - dt.timedelta(days=30),
        status=Engagement.Status.CANCELLED,
    )
    return partner


SHOWN = "Apr 12, 2023"


def _text(response) -> str:
    assert response.status_code == 200
    return response.content.decode()


def test_partner_list_shows_the_last_held_meeting(client, viewer, last_contact_world):
    client.force_login(viewer)
    html = _text(client.get("/partners/", {"q": "Lyon"}))
    assert "Ville de Lyon" in html
    assert SHOWN in html


def test_partner_page_country_page_and_briefing_agree(client, viewer, last_contact_world):
    client.force_login(viewer)
    for path in (f"/partners/{last_contact_world.pk}/", "/countries/FR/", f"/partners/{last_contact_world.pk}/briefing/"):
        html = _text(client.get(path))
        assert SHOWN in html, path


def test_api_last_engagement_at_is_never_in_the_future(viewer, last_contact_world):
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=viewer).key}")
    body = api.get(f"/api/v1/partners/{last_contact_world.pk}/").json()
    assert dt.datetime.fromisoformat(body["last_engagement_at"]) == HELD_AT
    listed = api.get("/api/v1/partners/").json()["results"]
    assert [dt.datetime.fromisoformat(p["last_engagement_at"]) for p in listed if p["id"] == last_contact_world.pk] == [HELD_AT]


def test_never_contacted_partner_shows_no_last_contact_even_with_a_planned_call(client, viewer):
    partner = PartnerFactory(name="Only planned", country="FR")
    EngagementFactory(partners=[partner], starts_at=timezone.now() + dt.timedelta(days=3), status=Engagement.Status.PLANNED)
    client.force_login(viewer)
    html = _text(client.get("/partners/", {"q": "Only planned"}))
    row = html[html.index(">Only planned</a>"):]
    row = row[: row.index("</tr>")]
    assert "never" in row and "<time" not in row


def test_charts_count_no_future_planned_meeting(viewer):
    now = dt.datetime(2026, 3, 10, 12, 0, tzinfo=dt.UTC)
    partner = PartnerFactory(country="FR")
    EngagementFactory(partners=[partner], starts_at=now - dt.timedelta(days=5), status=Engagement.Status.HELD)
    EngagementFactory(partners=[partner], starts_at=now + dt.timedelta(days=10), status=Engagement.Status.PLANNED)
    EngagementFactory(partners=[partner], starts_at=now + dt.timedelta(days=12), status=Engagement.Status.HELD)
    charts = engagement_charts(viewer, now=now)
    assert charts["months"]["labels"][-1] == "Mar 2026"
    assert charts["months"]["values"][-1] == 1
    assert sum(charts["countries"]["values"]) == 1


def test_the_digest_shows_each_quiet_partners_last_contact_as_the_reader_may_see_it(viewer, staff_user, officer, mailoutbox):
    from zoneinfo import ZoneInfo

    from django.core.management import call_command

    from diplomacy_crm.officetime import human_date

    monday = dt.datetime(2025, 3, 10, 7, 0, tzinfo=ZoneInfo("America/Los_Angeles"))
    partner = PartnerFactory(name="Sister City of Busan", priority=1, country="KR")
    held = monday - dt.timedelta(days=400)
    secret = monday - dt.timedelta(days=300)
    EngagementFactory(partners=[partner], starts_at=held, status=Engagement.Status.HELD)
    EngagementFactory(partners=[partner], starts_at=secret, status=Engagement.Status.HELD,
                      confidentiality=Engagement.Confidentiality.RESTRICTED, staff=[staff_user])
    # Left "planned" though its date passed: not a contact.
    EngagementFactory(partners=[partner], starts_at=monday - dt.timedelta(days=250), status=Engagement.Status.PLANNED)
    call_command("send_weekly_digest", now=monday.isoformat())
    digests = {m.to[0]: (m.body, m.alternatives[0].content) for m in mailoutbox}

    def shown(user):
        text, html = digests[user.email]
        section = text.split("RELATIONSHIPS GOING QUIET")[1].split("LOGGED LAST WEEK")[0]
        line = next(line for line in section.splitlines() if "Sister City of Busan" in line)
        assert line.split("last contact ")[1] in html
        return line.split("last contact ")[1]

    assert shown(viewer) == human_date(timezone.localdate(held))
    assert shown(staff_user) == human_date(timezone.localdate(secret))
    assert shown(officer) == human_date(timezone.localdate(secret))
