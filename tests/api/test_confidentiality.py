"""A restricted engagement, its commitments and its gifts, and whatever is
derived from them, reach only officers, superusers and the staff who took part.

The restricted records carry a unique marker; for the others it must appear
in no API response at all, and a direct request is a 404 (not 403: no
existence leak).
"""

import datetime as dt
import uuid

import pytest
from django.utils import timezone
from rest_framework.fields import DateTimeField

from tests import factories

from .resources import API, RESOURCES

pytestmark = pytest.mark.django_db

OUTSIDERS = ("viewer", "other_staff")
INSIDERS = ("staff", "officer", "superuser")  # "staff" took part


@pytest.fixture
def secret(cast):
    marker = f"LEAK-{uuid.uuid4().hex}"
    partner = factories.PartnerFactory(name="Embassy of Ruritania")
    now = timezone.now()
    internal = factories.EngagementFactory(
        title="Courtesy call", partners=[partner], starts_at=now - dt.timedelta(days=30)
    )
    restricted = factories.EngagementFactory(
        title=f"Talks {marker}",
        summary=f"Notes {marker}",
        confidentiality="restricted",
        partners=[partner],
        staff=[cast["staff"]],
        starts_at=now - dt.timedelta(days=2),
    )
    commitment = factories.CommitmentFactory(description=f"Promise {marker}", partner=partner, engagement=restricted)
    public_commitment = factories.CommitmentFactory(description="Send the brochure", partner=partner)
    gift = factories.GiftFactory(description=f"Gift {marker}", partner=partner, engagement=restricted)
    return {
        "marker": marker,
        "partner": partner,
        "internal": internal,
        "restricted": restricted,
        "commitment": commitment,
        "public_commitment": public_commitment,
        "gift": gift,
    }


def iso(value):
    return DateTimeField().to_representation(value)


@pytest.mark.parametrize("role", OUTSIDERS)
def test_outsiders_never_see_the_marker_in_any_list_or_search(role, client_as, secret):
    client = client_as(role)
    for resource in RESOURCES:
        for query in ("", f"?q={secret['marker']}", "?page_size=100"):
            response = client.get(resource.url + query)
            assert response.status_code == 200, (resource.name, query)
            assert secret["marker"] not in response.content.decode(), (resource.name, query)
    search = client.get(f"{API}engagements/?q={secret['marker']}").json()
    assert search["count"] == 0 and search["results"] == []


@pytest.mark.parametrize("role", OUTSIDERS)
def test_outsiders_get_404_for_the_restricted_records(role, client_as, secret):
    client = client_as(role)
    for path in (
        f"engagements/{secret['restricted'].pk}/",
        f"commitments/{secret['commitment'].pk}/",
        f"gifts/{secret['gift'].pk}/",
    ):
        response = client.get(API + path)
        assert response.status_code == 404, path
        assert secret["marker"] not in response.content.decode()
        # The same answer as for an id that does not exist.
        missing = client.get(API + path.split("/")[0] + "/987654321/")
        assert response.json() == missing.json()


def test_other_staff_cannot_edit_a_restricted_engagement_they_cannot_see(client_as, secret):
    response = client_as("other_staff").patch(
        f"{API}engagements/{secret['restricted'].pk}/", {"title": "Mine now"}, format="json"
    )
    assert response.status_code == 404
    secret["restricted"].refresh_from_db()
    assert secret["marker"] in secret["restricted"].title


@pytest.mark.parametrize("role", OUTSIDERS)
def test_outsiders_cannot_read_it_through_engagement_ids(role, client_as, secret):
    client = client_as(role)
    pk = secret["restricted"].pk
    for path in (f"commitments/?engagement={pk}", f"gifts/?q={secret['marker']}", f"partners/?q=Ruritania"):
        response = client.get(API + path)
        assert response.status_code == 200
        assert secret["marker"] not in response.content.decode()
    assert client.get(f"{API}commitments/?engagement={pk}").json()["count"] == 0


def test_other_staff_cannot_attach_a_commitment_or_gift_to_it(client_as, secret):
    client = client_as("other_staff")
    pk = secret["restricted"].pk
    for resource, body in (
        ("commitments", {"description": "Follow up", "engagement": pk}),
        (
            "gifts",
            {"engagement": pk, "direction": "given", "exchanged_on": "2025-01-01", "giver": "Mayor",
             "recipient": "Envoy", "description": "Book"},
        ),
    ):  # fmt: skip
        response = client.post(f"{API}{resource}/", body, format="json")
        assert response.status_code == 400
        assert response.json() == {"engagement": [f'Unknown id "{pk}".']}
        # Exactly what a missing id gives.
        missing = client.post(f"{API}{resource}/", {**body, "engagement": 987654321}, format="json")
        assert missing.json() == {"engagement": ['Unknown id "987654321".']}
    # Moving a visible commitment onto it is refused the same way.
    response = client.patch(
        f"{API}commitments/{secret['public_commitment'].pk}/", {"engagement": pk}, format="json"
    )
    assert response.status_code == 400 and "engagement" in response.json()
    secret["public_commitment"].refresh_from_db()
    assert secret["public_commitment"].engagement_id is None


@pytest.mark.parametrize("role", OUTSIDERS)
def test_partner_figures_count_only_what_outsiders_may_see(role, client_as, secret):
    client = client_as(role)
    detail = client.get(f"{API}partners/{secret['partner'].pk}/").json()
    assert detail["open_commitments"] == 1
    assert detail["last_engagement_at"] == iso(secret["internal"].starts_at)
    row = next(r for r in client.get(f"{API}partners/").json()["results"] if r["id"] == secret["partner"].pk)
    assert (row["open_commitments"], row["last_engagement_at"]) == (1, iso(secret["internal"].starts_at))


@pytest.mark.parametrize("role", INSIDERS)
def test_participants_and_officers_see_it_everywhere(role, client_as, secret):
    client = client_as(role)
    marker, pk = secret["marker"], secret["restricted"].pk
    listing = client.get(f"{API}engagements/").json()
    assert pk in [row["id"] for row in listing["results"]]
    detail = client.get(f"{API}engagements/{pk}/")
    assert detail.status_code == 200 and marker in detail.json()["title"]
    assert [row["id"] for row in client.get(f"{API}engagements/?q={marker}").json()["results"]] == [pk]
    commitments = client.get(f"{API}commitments/?engagement={pk}").json()
    assert [row["id"] for row in commitments["results"]] == [secret["commitment"].pk]
    assert client.get(f"{API}gifts/{secret['gift'].pk}/").status_code == 200
    partner = client.get(f"{API}partners/{secret['partner'].pk}/").json()
    assert partner["open_commitments"] == 2
    assert partner["last_engagement_at"] == iso(secret["restricted"].starts_at)


def test_a_staff_member_who_logs_a_restricted_meeting_keeps_seeing_it(client_as, api_world):
    client = client_as("other_staff")
    response = client.post(
        f"{API}engagements/",
        {"title": "Quiet talk", "kind": "call", "starts_at": "2025-03-01T09:00:00Z", "confidentiality": "restricted"},
        format="json",
    )
    assert response.status_code == 201, response.json()
    assert response.json()["staff"] == ["olga_staff"]
    assert client.get(f"{API}engagements/{response.json()['id']}/").status_code == 200
    assert client_as("viewer").get(f"{API}engagements/{response.json()['id']}/").status_code == 404
