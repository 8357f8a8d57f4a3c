"""Records from 1876 on every surface, and one rule (1800–2199) for every date (issue 16).

A visit of Emperor Pedro II to the city in June 1876 is created through the
API, read back, edited through the API and the page form, exported as CSV,
put in a calendar (.ics) and briefed (HTML and PDF). Its dates of the
Gregorian 1800s come back as they went in; a date outside 1800–2199 is
refused the same way by the model, the forms, the API and the filters.

Before 1883 the office's zone (America/Los_Angeles) is local mean time,
-07:52:58: an offset with seconds, which RFC 3339 does not allow, so the
machine-readable outputs (API, CSV) give such a time in UTC.
"""

import csv
import datetime as dt
import io
import re

import pytest
from icalendar import Calendar
from pypdf import PdfReader
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from engagements.models import Commitment, Engagement, Gift
from tests import factories
from tests.forms import form_data

pytestmark = pytest.mark.django_db

API = "/api/v1/"
PEDRO = dt.datetime(1876, 6, 21, 15, 0, tzinfo=dt.UTC)  # 07:07:02 local mean time in Los Angeles


@pytest.fixture(autouse=True)
def _office_zone(settings):
    settings.TIME_ZONE = "America/Los_Angeles"


@pytest.fixture
def api(officer):
    client = APIClient()
    token, _ = Token.objects.get_or_create(user=officer)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


@pytest.fixture
def brazil(db):
    return factories.PartnerFactory(name="Empire of Brazil", country="BR", kind="national_government")


def _body(response) -> str:
    return (b"".join(response.streaming_content) if response.streaming else response.content).decode()


def test_an_1876_visit_through_the_api(api, brazil):
    created = api.post(f"{API}engagements/", {
        "title": "Visit of Emperor Pedro II", "kind": "visit_received", "status": "held", "starts_at": "1876-06-21T15:00:00Z",
        "ends_at": "1876-06-21T18:00:00Z", "partners": [brazil.pk], "follow_up_by": "1876-07-01",
    }, format="json")
    assert created.status_code == 201, created.content
    pk = created.json()["id"]
    engagement = Engagement.objects.get(pk=pk)
    assert engagement.starts_at == PEDRO
    assert engagement.follow_up_by == dt.date(1876, 7, 1)

    read = api.get(f"{API}engagements/{pk}/").json()
    # The same instant, in UTC: the office's 1876 offset (-07:52:58) has seconds, which RFC 3339 has not.
    assert read["starts_at"] == "1876-06-21T15:00:00Z"
    assert read["ends_at"] == "1876-06-21T18:00:00Z"
    assert read["follow_up_by"] == "1876-07-01"
    assert dt.datetime.fromisoformat(read["starts_at"]) == PEDRO

    moved = api.patch(f"{API}engagements/{pk}/", {"starts_at": "1876-06-21T16:00:00Z"}, format="json")
    assert moved.status_code == 200, moved.content
    engagement.refresh_from_db()
    assert engagement.starts_at == PEDRO + dt.timedelta(hours=1)
    assert [r.history_type for r in engagement.history.order_by("history_id")] == ["+", "~"]

    # The partner's last contact, read through the API, is the same instant.
    partner = api.get(f"{API}partners/{brazil.pk}/").json()
    assert dt.datetime.fromisoformat(partner["last_engagement_at"]) == PEDRO + dt.timedelta(hours=1)
    # A modern time keeps the office's offset.
    modern = factories.EngagementFactory(starts_at=dt.datetime(2026, 1, 5, 18, tzinfo=dt.UTC), ends_at=None)
    assert api.get(f"{API}engagements/{modern.pk}/").json()["starts_at"] == "2026-01-05T10:00:00-08:00"


@pytest.mark.parametrize(
    ("value", "accepted"), [("1799-12-31", False), ("1800-01-01", True), ("1876-08-01", True), ("2199-12-31", True),
                            ("2200-01-01", False), ("0001-01-01", False), ("9999-12-31", False)],
)
def test_every_date_field_of_the_api_keeps_to_1800_to_2199(api, brazil, value, accepted):
    before = Commitment.objects.count()
    response = api.post(f"{API}commitments/", {
        "description": "Send the portrait", "made_by": "city", "partner": brazil.pk, "due_date": value,
    }, format="json")
    if accepted:
        assert response.status_code == 201, response.content
        assert Commitment.objects.get(pk=response.json()["id"]).due_date == dt.date.fromisoformat(value)
    else:
        assert response.status_code == 400
        assert response.json()["due_date"] == ["Enter a date between 1800 and 2199."]
        assert Commitment.objects.count() == before
    gift = api.post(f"{API}gifts/", {
        "direction": "received", "exchanged_on": value, "giver": "Dom Pedro II", "recipient": "The Mayor",
        "description": "A portrait", "partner": brazil.pk,
    }, format="json")
    assert gift.status_code == (201 if accepted else 400), gift.content
    if not accepted:
        assert gift.json()["exchanged_on"] == ["Enter a date between 1800 and 2199."]
    filtered = api.get(f"{API}commitments/", {"due_before": value})
    assert filtered.status_code == (200 if accepted else 400)
    if not accepted:
        assert filtered.json()["due_before"] == ["Enter a date between 1800 and 2199."]


def test_an_1876_visit_through_the_pages(client, officer, brazil):
    client.force_login(officer)
    page = client.get("/engagements/new/").content.decode()
    assert 'min="1800-01-01T00:00"' in page and 'max="2199-12-31T23:59"' in page  # the browser's picker too
    data = form_data(page, "title")
    data.update({
        "title": ["Visit of Emperor Pedro II"], "kind": ["visit_received"], "status": ["held"],
        "starts_at": ["1876-06-21T07:07"], "ends_at": ["1876-06-21T10:07"], "partners": [str(brazil.pk)],
        "follow_up_by": ["1876-07-01"],
    })
    response = client.post("/engagements/new/", data)
    assert response.status_code == 302, _errors(response)
    engagement = Engagement.objects.get(title="Visit of Emperor Pedro II")
    # 07:07 local mean time (-07:52:58) is 14:59:58 UTC.
    assert engagement.starts_at == dt.datetime(1876, 6, 21, 14, 59, 58, tzinfo=dt.UTC)
    assert engagement.follow_up_by == dt.date(1876, 7, 1)

    shown = client.get(f"/engagements/{engagement.pk}/").content.decode()
    assert "June 21, 1876, 07:07" in shown and "Jul 1, 1876" in shown

    url = f"/engagements/{engagement.pk}/edit/"
    data = form_data(client.get(url).content.decode(), "title")
    assert data["starts_at"] == ["1876-06-21T07:07"]
    data["title"] = ["Visit of Dom Pedro II"]
    data["follow_up_by"] = ["2200-01-01"]  # (1799 would also be before the meeting: another error)
    refused = client.post(url, data)
    assert refused.status_code == 200
    assert "Enter a date between 1800 and 2199." in refused.content.decode()
    engagement.refresh_from_db()
    assert engagement.title == "Visit of Emperor Pedro II"
    data["follow_up_by"] = ["1876-07-02"]
    assert client.post(url, data).status_code == 302
    engagement.refresh_from_db()
    assert (engagement.title, engagement.follow_up_by) == ("Visit of Dom Pedro II", dt.date(1876, 7, 2))

    gift_page = client.get("/gifts/new/").content.decode()
    assert 'type="date"' in gift_page and 'min="1800-01-01"' in gift_page


def _errors(response) -> str:
    return response.content.decode()[:3000] if response.status_code == 200 else ""


@pytest.fixture
def pedro(brazil, officer):
    engagement = factories.EngagementFactory(
        title="Visit of Emperor Pedro II", kind="visit_received", starts_at=PEDRO,
        ends_at=PEDRO + dt.timedelta(hours=3), partners=[brazil], follow_up_by=dt.date(1876, 7, 1),
    )
    factories.CommitmentFactory(
        description="Send the Centennial medal", partner=brazil, engagement=engagement, due_date=dt.date(1876, 8, 1)
    )
    factories.GiftFactory(partner=brazil, engagement=engagement, exchanged_on=dt.date(1876, 6, 21),
                          description="Portrait of the Emperor")
    return engagement


def _csv(client, url) -> list[dict]:
    response = client.get(url)
    assert response.status_code == 200
    return list(csv.DictReader(io.StringIO(_body(response))))


def test_1876_records_in_the_csv_exports(client, officer, pedro):
    client.force_login(officer)
    [row] = _csv(client, "/engagements/?format=csv")
    assert row["starts_at"] == "1876-06-21T15:00:00Z"
    assert row["ends_at"] == "1876-06-21T18:00:00Z"
    assert row["follow_up_by"] == "1876-07-01"
    assert dt.datetime.fromisoformat(row["starts_at"]) == PEDRO
    [commitment] = _csv(client, "/commitments/?format=csv")
    assert "1876-08-01" in commitment.values()
    [gift] = _csv(client, "/gifts/?format=csv")
    assert "1876-06-21" in gift.values()
    assert Gift.objects.get().exchanged_on == dt.date(1876, 6, 21)


def test_an_1876_visit_in_a_calendar_file(client, officer, pedro):
    client.force_login(officer)
    response = client.get(f"/engagements/{pedro.pk}/ics/")
    assert response.status_code == 200
    calendar = Calendar.from_ical(response.content)
    [event] = calendar.walk("VEVENT")
    assert event.decoded("dtstart") == PEDRO
    assert event.decoded("dtend") == PEDRO + dt.timedelta(hours=3)
    assert str(event["summary"]) == "Visit of Emperor Pedro II"
    # Its time zone describes 1876 (local mean time), not today's rules.
    [zone] = calendar.walk("VTIMEZONE")
    assert "-075258" in zone.to_ical().decode()


TIME_VALUE = re.compile(r'<time datetime="([^"]*)"')


@pytest.mark.parametrize("path", ["/engagements/{pk}/", "/engagements/", "/partners/{partner}/", "/partners/",
                                  "/history/engagement/{pk}/"])
def test_1876_times_in_html_are_valid_time_values(client, officer, pedro, brazil, path):
    """A <time datetime> of 1876 has no offset with seconds (-07:52:58 is not a valid HTML time): UTC instead."""
    client.force_login(officer)
    response = client.get(path.format(pk=pedro.pk, partner=brazil.pk))
    assert response.status_code == 200, path
    values = TIME_VALUE.findall(response.content.decode())
    assert values, path
    assert all(HTML_TIME.fullmatch(v) for v in values), (path, values)
    if "history" not in path:
        assert "1876-06-21T15:00:00Z" in values, (path, values)


HTML_TIME = re.compile(r"\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2}))?")


def test_an_1876_visit_in_the_briefings(client, officer, pedro, brazil):
    client.force_login(officer)
    html = client.get(f"/engagements/{pedro.pk}/briefing/").content.decode()
    assert "Wednesday, Jun 21, 1876 07:07 – 10:07" in html
    assert "due Aug 1, 1876" in html
    partner_html = client.get(f"/partners/{brazil.pk}/briefing/").content.decode()
    assert "Jun 21, 1876" in partner_html
    pdf = client.get(f"/engagements/{pedro.pk}/briefing/", {"format": "pdf"})
    assert pdf["Content-Type"] == "application/pdf"
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.content)).pages)
    assert "Jun 21, 1876" in text and "Aug 1, 1876" in text
