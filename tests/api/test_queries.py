"""P1 and P9: every API list and detail costs a pinned number of queries,
the same at 3 and at 40 rows, within 8; page sizes are capped.

Each list row carries three partners, two participants, two commitments and
a restricted sibling, so that a per-row query anywhere would show.

Queries of an officer's list call, with a token:
  1 token + user   2 group names (the role every request needs, accounts.access.may_use_crm;
                   cached on the user, so confidentiality reuses it)
  3-4 permissions (user's, groups')   5 COUNT   6 the page, many-to-many keys as correlated subqueries
The same for every resource. A session costs one more than a token
(session row, then user).
"""

import pytest
from rest_framework.test import APIClient

from partners.models import Topic
from tests import factories

from .conftest import token_client

pytestmark = pytest.mark.django_db

RESOURCES = ["topics", "partners", "contacts", "engagements", "trade-missions", "commitments", "agreements", "gifts"]

# (resource, how) -> queries; "token"/"session" for an officer, "viewer" for a viewer's token.
PINNED_LIST = {
    ("topics", "token"): 6, ("topics", "session"): 7, ("topics", "viewer"): 6,
    ("partners", "token"): 6, ("partners", "session"): 7, ("partners", "viewer"): 6,
    ("contacts", "token"): 6, ("contacts", "session"): 7, ("contacts", "viewer"): 6,
    ("engagements", "token"): 6, ("engagements", "session"): 7, ("engagements", "viewer"): 6,
    ("trade-missions", "token"): 6, ("trade-missions", "session"): 7, ("trade-missions", "viewer"): 6,
    ("commitments", "token"): 6, ("commitments", "session"): 7, ("commitments", "viewer"): 6,
    ("agreements", "token"): 6, ("agreements", "session"): 7, ("agreements", "viewer"): 6,
    ("gifts", "token"): 6, ("gifts", "session"): 7, ("gifts", "viewer"): 6,
}  # fmt: skip
# A detail is the list without the COUNT.
PINNED_DETAIL = {key: n - 1 for key, n in PINNED_LIST.items()}
BUDGET = 8


def build(n, staff_pair):
    """n rows of every resource, each with its relations."""
    ids = {name: [] for name in RESOURCES}
    for i in range(n):
        partners = [factories.PartnerFactory(country="FR") for _ in range(3)]
        topics = [factories.TopicFactory(), factories.TopicFactory()]
        partners[0].topics.set(topics)
        contacts = [factories.ContactFactory(partner=p) for p in partners[:2]]
        mission = factories.TradeMissionFactory()
        mission.partners.set(partners)
        mission.delegates.set(contacts)
        engagement = factories.EngagementFactory(
            partners=partners, staff=staff_pair, contacts=contacts, topics=topics, trade_mission=mission
        )
        factories.EngagementFactory(partners=partners, staff=staff_pair, confidentiality="restricted")
        commitments = [factories.CommitmentFactory(partner=partners[0], engagement=engagement) for _ in range(2)]
        gift = factories.GiftFactory(partner=partners[0], engagement=engagement)
        agreement = factories.AgreementFactory(partners=partners)
        ids["topics"].append(topics[0].pk)
        ids["partners"].append(partners[0].pk)
        ids["contacts"].append(contacts[0].pk)
        ids["engagements"].append(engagement.pk)
        ids["trade-missions"].append(mission.pk)
        ids["commitments"].append(commitments[0].pk)
        ids["agreements"].append(agreement.pk)
        ids["gifts"].append(gift.pk)
    return ids


@pytest.fixture
def clients(officer, viewer):
    session = APIClient()
    session.force_login(officer)
    # force_login leaves the user cached on nothing: each request loads session + user.
    return {"token": token_client(officer), "session": session, "viewer": token_client(viewer)}


@pytest.mark.parametrize("n", [3, 40])
def test_list_and_detail_queries_are_pinned_and_constant(n, clients, staff_user, other_staff, django_assert_num_queries):
    ids = build(n, [staff_user, other_staff])
    seen = {}
    for name in RESOURCES:
        for how, client in clients.items():
            with django_assert_num_queries(PINNED_LIST[(name, how)]):
                response = client.get(f"/api/v1/{name}/?page_size=100")
            assert response.status_code == 200
            body = response.json()
            assert body["count"] >= n and len(body["results"]) == min(100, body["count"])
            seen[(name, how)] = body["count"]
            with django_assert_num_queries(PINNED_DETAIL[(name, how)]):
                response = client.get(f"/api/v1/{name}/{ids[name][-1]}/")
            assert response.status_code == 200 and response.json()["id"] == ids[name][-1]
    assert max(PINNED_LIST.values()) <= BUDGET
    assert seen[("engagements", "token")] == 2 * n  # the restricted ones too, for an officer
    assert seen[("engagements", "viewer")] == n


def test_page_size_is_clamped_to_100(client_as, django_assert_num_queries):
    Topic.objects.bulk_create([Topic(name=f"Topic {i:03}", slug=f"t-{i:03}") for i in range(130)])
    client = client_as("officer")
    with django_assert_num_queries(PINNED_LIST[("topics", "token")]):
        body = client.get("/api/v1/topics/?page_size=100000").json()
    assert body["count"] == 130 and len(body["results"]) == 100
    assert body["next"].endswith("page=2&page_size=100000")
    assert len(client.get("/api/v1/topics/").json()["results"]) == 25
    assert len(client.get("/api/v1/topics/?page_size=-3").json()["results"]) == 25


@pytest.mark.parametrize("page_number", ["999999", "0", "-1", "abc", "1e10", "99999999999999999999999"])
def test_a_page_out_of_range_is_a_404(page_number, client_as, django_assert_max_num_queries):
    client = client_as("officer")
    with django_assert_max_num_queries(PINNED_LIST[("partners", "token")]):
        response = client.get(f"/api/v1/partners/?page={page_number}")
    assert response.status_code == 404
    assert response.json() == {"detail": "Invalid page."}
