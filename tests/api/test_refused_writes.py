"""A refused request writes nothing: every write endpoint of the API, given invalid input.

Each case sends a body that mixes a valid change with a broken rule (a field
the serializer refuses, or a rule only the model or the service knows, such
as dates in order or attendees from the partners present), so a write that
happened before validation would show. Every answer is a 4xx with field
errors (never a 500), and the whole database, history included, is
byte-for-byte what it was (tests/snapshots.py).
"""

import datetime as dt

import pytest

from engagements.models import Engagement
from tests import factories
from tests.snapshots import database_snapshot

from .conftest import REPORT
from .resources import API

pytestmark = pytest.mark.django_db


@pytest.fixture
def records(api_world):
    partner, contact, mission = api_world["partner"], api_world["contact"], api_world["mission"]
    stranger = factories.ContactFactory()  # of another partner
    engagement = factories.EngagementFactory(
        partners=[partner], contacts=[contact], trade_mission=mission, topics=[api_world["topic"]]
    )
    return {
        "topics": api_world["topic"],
        "partners": partner,
        "contacts": contact,
        "agreements": factories.AgreementFactory(partners=[partner]),
        "trade-missions": mission,
        "engagements": engagement,
        "commitments": factories.CommitmentFactory(partner=partner, engagement=engagement),
        "gifts": factories.GiftFactory(partner=partner, engagement=engagement),
        "stranger": stranger,
    }


UPDATE_ONLY = "_update_only"  # a body refused only when it changes an existing record


# resource -> bodies that must be refused: (valid change + broken rule), for POST and PATCH/PUT.
def bad_bodies(name, r):
    partner = r["partners"]
    later, earlier = "2025-05-02", "2025-05-01"
    return {
        "topics": [{"name": "Renamed", "slug": "not a slug!"}, {"name": "", "slug": "ok"}],
        "partners": [
            {"name": "Renamed", "kind": "not-a-kind"},
            {"name": "Renamed", "kind": "city", "parent": partner.pk, UPDATE_ONLY: True},  # its own parent (model rule)
            {"name": "Renamed", "kind": "city", "country": "XX"},
        ],
        "contacts": [
            {"partner": partner.pk, "full_name": "Renamed", "email": "not an email"},
            {"partner": 999999, "full_name": "Renamed"},
        ],
        "agreements": [
            {"title": "Renamed", "kind": "mou", "partners": [partner.pk], "signed_on": later, "expires_on": earlier},
            {"title": "Renamed", "kind": "mou", "partners": []},
        ],
        "trade-missions": [
            {"name": "Renamed", "start_date": later, "end_date": earlier},  # model rule
            {"name": "Renamed", "start_date": earlier, "end_date": later, "countries": ["XX"]},
        ],
        "engagements": [
            {"title": "Renamed", "kind": "call", "starts_at": "2025-05-01T10:00:00Z", "ends_at": "2025-05-01T09:00:00Z"},
            {"title": "Renamed", "kind": "call", "starts_at": "2025-05-01T10:00:00Z", "partners": [partner.pk],
             "contacts": [r["stranger"].pk]},  # service rule: attendees from the partners present
            {"title": "Renamed", "kind": "call", "starts_at": "1700-05-01T10:00:00Z"},
            {"title": "Renamed", "kind": "call", "starts_at": "2025-05-01T10:00:00Z", "trade_mission": 999999},
        ],
        "commitments": [
            {"description": "Reworded", "made_by": "partner", "partner": None},  # model rule
            {"description": "Reworded", "status": "not-a-status"},
        ],
        "gifts": [
            {"description": "Reworded", "direction": "given", "exchanged_on": earlier, "giver": "Mayor",
             "recipient": "Envoy", "estimated_value": "-5"},
            {"description": "Reworded", "direction": "sideways", "exchanged_on": earlier, "giver": "Mayor",
             "recipient": "Envoy"},
        ],
    }[name]


RESOURCES = ["topics", "partners", "contacts", "agreements", "trade-missions", "engagements", "commitments", "gifts"]
COUNTS = {"requests": 0}


def _refused(response):
    assert response.status_code < 500, response.content
    assert response.status_code in (400, 404, 409), (response.status_code, response.content)
    COUNTS["requests"] += 1
    REPORT["refused writes"] = f"refused API writes: {COUNTS['requests']} requests, 0 changed the database"


@pytest.mark.parametrize("name", RESOURCES)
def test_refused_api_writes_change_nothing(name, client_as, records):
    api = client_as("officer")
    record = records[name]
    for body in bad_bodies(name, records):
        before = database_snapshot()
        if not body.pop(UPDATE_ONLY, False):
            _refused(api.post(f"{API}{name}/", body, format="json"))
        _refused(api.put(f"{API}{name}/{record.pk}/", body, format="json"))
        _refused(api.patch(f"{API}{name}/{record.pk}/", body, format="json"))
        assert database_snapshot() == before, body
    before = database_snapshot()
    _refused(api.delete(f"{API}{name}/999999/"))  # unknown
    if name in ("topics", "partners", "contacts", "trade-missions", "engagements"):
        _refused(api.delete(f"{API}{name}/{record.pk}/"))  # in use: 409
    staff = client_as("staff")
    assert staff.delete(f"{API}{name}/{record.pk}/").status_code == 403
    assert database_snapshot() == before


# --- Real history: records from before 1900 -------------------------------------


def test_an_1876_engagement_is_read_and_edited(client_as):
    # A visit of 1876, as the real data sets have them (tests/data, issue 16).
    engagement = factories.EngagementFactory(
        title="Visit of Emperor Pedro II", starts_at=dt.datetime(1876, 6, 21, 15, tzinfo=dt.UTC), ends_at=None
    )
    api = client_as("officer")
    read = api.get(f"{API}engagements/{engagement.pk}/")
    assert read.status_code == 200
    assert read.json()["starts_at"].startswith("1876-06-21")
    response = api.patch(f"{API}engagements/{engagement.pk}/", {"title": "Visit of Dom Pedro II"}, format="json")
    assert response.status_code == 200, response.content
    engagement.refresh_from_db()
    assert engagement.title == "Visit of Dom Pedro II"
    assert [row.history_type for row in engagement.history.order_by("history_id")] == ["+", "~"]


def test_a_refused_patch_of_an_1876_engagement_writes_nothing(client_as):
    engagement = factories.EngagementFactory(starts_at=dt.datetime(1876, 6, 21, 15, tzinfo=dt.UTC), ends_at=None)
    before = database_snapshot()
    response = client_as("officer").patch(
        f"{API}engagements/{engagement.pk}/", {"title": "Changed", "ends_at": "1876-06-21T14:00:00Z"}, format="json"
    )
    assert response.status_code == 400
    assert "ends_at" in response.json()
    assert database_snapshot() == before


@pytest.mark.parametrize(
    ("starts_at", "accepted"),
    [("1799-12-31T12:00:00Z", False), ("1800-01-02T00:00:00Z", True), ("2199-12-30T00:00:00Z", True),
     ("2200-01-02T00:00:00Z", False)],
)
def test_the_accepted_range_is_1800_to_2199(client_as, starts_at, accepted):
    response = client_as("officer").post(
        f"{API}engagements/", {"title": "Old visit", "kind": "visit_received", "starts_at": starts_at}, format="json"
    )
    assert response.status_code == (201 if accepted else 400), response.content
    assert Engagement.objects.filter(title="Old visit").exists() == accepted


def test_a_write_that_loses_a_race_is_a_409_not_a_500(client_as, records, monkeypatch):
    # As when a partner is deleted between the check of the body and the insert of the link
    # (tests/integration/test_delete_races.py runs the real race on PostgreSQL).
    from django.db import IntegrityError

    def lost(**kwargs):
        raise IntegrityError("insert or update on table violates foreign key constraint")

    monkeypatch.setattr("api.views.ContactViewSet.update_service", staticmethod(lost))
    before = database_snapshot()
    response = client_as("officer").patch(f"{API}contacts/{records['contacts'].pk}/", {"title": "X"}, format="json")
    assert response.status_code == 409
    assert "nothing was written" in response.json()["detail"]
    assert database_snapshot() == before


# --- Attachments (issue 20): multipart writes through attachments.services --------------------------


def _attachments_state(root):
    from attachments.models import Attachment

    from tests.attachments.files import stored_files

    rows = list(Attachment.objects.order_by("pk").values())
    history = list(Attachment.history.order_by("history_id").values())
    return database_snapshot(), rows, history, stored_files(root)


def test_refused_attachment_writes_change_nothing(client_as, records, attachment_storage, settings):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from attachments.services import attach_files

    def files(*pairs):
        return [SimpleUploadedFile(name, content) for name, content in pairs]

    settings.ATTACHMENT_MAX_BYTES = 4096
    text, exe = b"Agenda: ports.\n", b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 300
    engagement, partner = records["engagements"], records["partners"]
    from django.contrib.auth import get_user_model

    officer = get_user_model().objects.get(username="omar_officer")
    [attachment] = attach_files(record=engagement, uploads=files(("notes.txt", text)), actor=officer)
    api, staff = client_as("officer"), client_as("staff")
    upload = "/api/v1/attachments/"
    detail = f"/api/v1/attachments/{attachment.pk}/"
    cases = [
        # (client, method, url, body, status): a valid part next to a broken one
        (api, "post", upload, {"record_type": "spaceship", "record_id": engagement.pk, "file": files(("a.txt", text))}, 400),
        (api, "post", upload, {"record_type": "engagement", "record_id": engagement.pk,
                               "file": files(("a.txt", text), ("b.pdf", exe))}, 400),  # one refused, none stored
        (api, "post", upload, {"record_type": "engagement", "record_id": engagement.pk,
                               "file": files(("a.txt", text), ("big.txt", text * 400))}, 400),
        (api, "post", upload, {"record_type": "engagement", "record_id": 999999, "file": files(("a.txt", text))}, 404),
        (staff, "post", upload, {"record_type": "partner", "record_id": partner.pk, "file": files(("a.txt", text))}, 403),
        (api, "put", detail, {"file": files(("signed.pdf", exe))[0]}, 400),
        (api, "put", detail, {"file": files(("big.txt", text * 400))[0]}, 400),
        (staff, "put", detail, {"file": files(("mine.txt", text))[0]}, 403),
        (api, "put", "/api/v1/attachments/999999/", {"file": files(("a.txt", text))[0]}, 404),
        (staff, "delete", detail, None, 403),
        (api, "delete", "/api/v1/attachments/999999/", None, 404),
    ]
    for client, method, url, body, status in cases:
        before = _attachments_state(attachment_storage)
        if body is None:
            response = getattr(client, method)(url)
        else:
            response = getattr(client, method)(url, body, format="multipart")
        if status != 403:
            _refused(response)  # (the staff's refusals are 403s: the role, before anything is read)
        assert response.status_code == status, (method, url, response.content)
        assert response.json(), response.content  # field errors or a detail, never an empty refusal
        assert _attachments_state(attachment_storage) == before, (method, url)
