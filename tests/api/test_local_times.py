"""Times without an offset at a clock change: the API names the possible offsets instead of guessing."""

import pytest

from engagements.models import Engagement

from .conftest import db_snapshot

pytestmark = pytest.mark.django_db

URL = "/api/v1/engagements/"


@pytest.fixture
def post(client_as, api_world, settings):
    settings.TIME_ZONE = "America/Los_Angeles"
    client = client_as("officer")

    def post(starts_at):
        body = {"title": "Call with the consul", "kind": "call", "starts_at": starts_at, "partners": [api_world["partner"].pk]}
        return client.post(URL, body, format="json")

    return post


def test_a_time_in_the_repeated_hour_names_both_offsets(post):
    before = db_snapshot()
    response = post("2027-11-07T01:30:00")
    assert response.status_code == 400
    assert response.json() == {
        "starts_at": [
            "2027-11-07T01:30 happens twice in America/Los_Angeles (the clocks go back then): "
            "it is -07:00 or -08:00; add an offset."
        ]
    }
    assert db_snapshot() == before


def test_a_time_in_the_skipped_hour_is_said_not_to_exist(post):
    before = db_snapshot()
    response = post("2027-03-14T02:30:00")
    assert response.status_code == 400
    [message] = response.json()["starts_at"]
    assert message.startswith("2027-03-14T02:30 does not exist in America/Los_Angeles")
    assert "from -08:00 to -07:00" in message
    assert db_snapshot() == before


@pytest.mark.parametrize(
    ("sent", "utc"),
    [
        ("2027-11-07T01:30:00-07:00", "2027-11-07 08:30"),  # the first 01:30
        ("2027-11-07T01:30:00-08:00", "2027-11-07 09:30"),  # the second
        ("2027-11-07T02:30:00", "2027-11-07 10:30"),  # after the repeat: one instant, read in the office zone
        ("2027-03-14T03:30:00", "2027-03-14 10:30"),
    ],
)
def test_an_offset_or_an_unambiguous_time_is_stored_as_that_instant(post, sent, utc):
    response = post(sent)
    assert response.status_code == 201, response.json()
    stored = Engagement.objects.get(pk=response.json()["id"]).starts_at
    assert f"{stored:%Y-%m-%d %H:%M}" == utc and stored.utcoffset().total_seconds() == 0


def test_a_follow_up_before_the_meeting_is_a_field_error(client_as, api_world, settings):
    """The meeting form's date rule (Engagement.clean) holds for the API too: 400 on the field, nothing written."""
    settings.TIME_ZONE = "America/Los_Angeles"
    client = client_as("officer")
    body = {"title": "Backdated follow-up", "kind": "call", "starts_at": "2027-06-02T10:00:00",
            "partners": [api_world["partner"].pk], "follow_up_by": "2027-06-01"}
    before = db_snapshot()
    response = client.post(URL, body, format="json")
    assert response.status_code == 400
    assert "cannot be before the meeting" in response.json()["follow_up_by"][0]
    assert db_snapshot() == before
    body["follow_up_by"] = "2027-06-02"
    assert client.post(URL, body, format="json").status_code == 201
