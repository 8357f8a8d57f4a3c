"""Field names, representations and defaults of the contract, and writes through the services."""

import datetime as dt

import pytest
from django.utils import timezone

from engagements.models import Commitment, Engagement
from partners.models import Partner
from tests import factories

from .conftest import db_snapshot
from .resources import API

pytestmark = pytest.mark.django_db

CONTRACT_FIELDS = {
    "topics": {"id", "name", "slug"},
    "partners": {
        "id", "name", "kind", "country", "city", "parent", "website", "description", "topics", "priority", "owner",
        "status", "last_engagement_at", "open_commitments", "created_at", "updated_at",
    },
    "contacts": {
        "id", "partner", "full_name", "honorific", "title", "email", "phone", "languages", "protocol_notes",
        "is_active",
    },
    "engagements": {
        "id", "title", "kind", "status", "starts_at", "ends_at", "location", "is_virtual", "partners", "contacts",
        "staff", "city_officials", "topics", "trade_mission", "summary", "outcomes", "confidentiality",
        "follow_up_by", "venue_timezone",
    },
    "trade-missions": {
        "id", "name", "direction", "countries", "cities", "start_date", "end_date", "lead", "objectives",
        "delegates", "partners", "outcomes", "status",
    },
    "commitments": {
        "id", "description", "made_by", "partner", "engagement", "trade_mission", "owner", "due_date", "status",
        "completed_on", "priority",
    },
    "agreements": {"id", "title", "kind", "partners", "signed_on", "expires_on", "status", "summary"},
    "gifts": {
        "id", "engagement", "direction", "exchanged_on", "giver", "recipient", "partner", "description",
        "estimated_value", "currency", "disposition",
    },
}  # fmt: skip


@pytest.fixture
def officer_api(client_as):
    return client_as("officer")


@pytest.mark.parametrize("name", CONTRACT_FIELDS)
def test_every_contract_field_is_there(name, officer_api, api_world):
    from .resources import BY_NAME

    BY_NAME[name].make(api_world)
    row = officer_api.get(f"{API}{name}/").json()["results"][0]
    assert CONTRACT_FIELDS[name] <= set(row), CONTRACT_FIELDS[name] - set(row)


def test_partner_representation(officer_api, officer, api_world):
    parent = factories.PartnerFactory(name="Government of Japan", kind="national_government")
    partner = factories.PartnerFactory(name="Ministry of Foreign Affairs", parent=parent, owner=officer, country="JP")
    partner.topics.set([api_world["topic"], factories.TopicFactory(slug="culture", name="Culture")])
    factories.CommitmentFactory(partner=partner)
    factories.CommitmentFactory(partner=partner, status="done", completed_on=dt.date(2025, 1, 1))
    body = officer_api.get(f"{API}partners/{partner.pk}/").json()
    assert body["country"] == "JP"
    assert body["parent"] == parent.pk
    assert body["owner"] == "omar_officer"
    assert body["topics"] == ["climate", "culture"]
    assert body["priority"] == 2
    assert body["open_commitments"] == 1
    assert body["last_engagement_at"] is None


def test_partner_defaults_and_slugs_on_create(officer_api, api_world):
    response = officer_api.post(
        f"{API}partners/",
        {"name": "Sister City of Busan", "kind": "city", "country": "KR", "topics": ["climate"], "owner": "omar_officer"},
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["priority"], body["status"], body["topics"], body["owner"]) == (2, "active", ["climate"], "omar_officer")
    assert body["open_commitments"] == 0
    partner = Partner.objects.get(pk=body["id"])
    assert partner.country.code == "KR" and list(partner.topics.all()) == [api_world["topic"]]


def test_engagement_representation_and_defaults(officer_api, staff_user, api_world):
    response = officer_api.post(
        f"{API}engagements/",
        {
            "title": "Visit of the Consul General",
            "kind": "visit_received",
            "starts_at": "2025-03-10T10:00:00",  # no offset: the office's time zone
            "ends_at": "2025-03-10T18:30:00Z",
            "partners": [api_world["partner"].pk],
            "contacts": [api_world["contact"].pk],
            "staff": ["sam_staff"],
            "topics": ["climate"],
            "trade_mission": api_world["mission"].pk,
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["status"] == "planned" and body["confidentiality"] == "internal"
    assert body["starts_at"] == "2025-03-10T10:00:00-07:00"  # PDT, with its offset
    assert body["ends_at"] == "2025-03-10T11:30:00-07:00"
    assert body["partners"] == [api_world["partner"].pk] and body["contacts"] == [api_world["contact"].pk]
    assert body["staff"] == ["sam_staff"] and body["topics"] == ["climate"]
    assert body["trade_mission"] == api_world["mission"].pk
    assert body["owner"] == "omar_officer"
    engagement = Engagement.objects.get(pk=body["id"])
    assert engagement.starts_at == dt.datetime(2025, 3, 10, 17, 0, tzinfo=dt.UTC)


def test_engagement_rules_come_from_the_service(officer_api, api_world):
    stranger = factories.ContactFactory()  # of another partner
    before = db_snapshot()
    response = officer_api.post(
        f"{API}engagements/",
        {
            "title": "Call",
            "kind": "call",
            "starts_at": "2025-03-10T10:00:00Z",
            "ends_at": "2025-03-10T09:00:00Z",
            "partners": [api_world["partner"].pk],
            "contacts": [stranger.pk],
        },
        format="json",
    )
    assert response.status_code == 400
    assert "contacts" in response.json()
    response = officer_api.post(
        f"{API}engagements/",
        {"title": "Call", "kind": "call", "starts_at": "2025-03-10T10:00:00Z", "ends_at": "2025-03-10T09:00:00Z"},
        format="json",
    )
    assert response.status_code == 400
    assert "ends_at" in response.json()
    assert db_snapshot() == before


def test_trade_mission_countries_and_delegates(officer_api, api_world):
    response = officer_api.post(
        f"{API}trade-missions/",
        {
            "name": "Asia tour",
            "direction": "outbound",
            "countries": ["VN", "TH", "VN"],
            "start_date": "2025-04-01",
            "end_date": "2025-04-09",
            "delegates": [api_world["contact"].pk],
            "partners": [api_world["partner"].pk],
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["countries"] == ["VN", "TH"]
    assert body["delegates"] == [api_world["contact"].pk] and body["partners"] == [api_world["partner"].pk]
    assert body["status"] == "planned"
    bad = officer_api.post(
        f"{API}trade-missions/",
        {"name": "x", "countries": ["Vietnam"], "start_date": "2025-04-09", "end_date": "2025-04-01"},
        format="json",
    )
    assert bad.status_code == 400 and set(bad.json()) == {"countries"}
    bad = officer_api.post(
        f"{API}trade-missions/", {"name": "x", "start_date": "2025-04-09", "end_date": "2025-04-01"}, format="json"
    )
    assert bad.status_code == 400 and set(bad.json()) == {"end_date"}


def test_commitment_defaults_and_completion(client_as, api_world):
    client = client_as("staff")
    response = client.post(f"{API}commitments/", {"description": "Send the photos"}, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["status"], body["made_by"], body["owner"]) == ("open", "city", "sam_staff")
    done = client.patch(f"{API}commitments/{body['id']}/", {"status": "done"}, format="json").json()
    assert done["completed_on"] == timezone.localdate().isoformat()
    response = client.post(f"{API}commitments/", {"description": "They send", "made_by": "partner"}, format="json")
    assert response.status_code == 400 and "partner" in response.json()
    assert Commitment.objects.count() == 1


def test_put_replaces_the_whole_record(officer_api, api_world):
    contact = factories.ContactFactory(partner=api_world["partner"], title="Consul", phone="123")
    response = officer_api.put(
        f"{API}contacts/{contact.pk}/", {"partner": api_world["partner"].pk, "full_name": "Kenji Sato"}, format="json"
    )
    assert response.status_code == 200, response.json()
    contact.refresh_from_db()
    assert (contact.full_name, contact.title, contact.phone) == ("Kenji Sato", "Consul", "123")


def test_deleting_a_record_others_refer_to_is_a_409(officer_api, api_world):
    before = db_snapshot()
    response = officer_api.delete(f"{API}partners/{api_world['partner'].pk}/")
    assert response.status_code == 409
    assert response.json()["blocking"] == ["contacts"]
    assert db_snapshot() == before


def test_gift_value_is_a_decimal_string(officer_api, api_world):
    gift = factories.GiftFactory(estimated_value="250.50")
    assert officer_api.get(f"{API}gifts/{gift.pk}/").json()["estimated_value"] == "250.50"
    response = officer_api.post(
        f"{API}gifts/",
        {"direction": "given", "exchanged_on": "2025-01-01", "giver": "Mayor", "recipient": "Envoy",
         "description": "Book", "estimated_value": -1},
        format="json",
    )  # fmt: skip
    assert response.status_code == 400 and set(response.json()) == {"estimated_value"}
