"""Query budgets (QUALITY P1, P2): every list and detail page runs the same, pinned number of
queries with 3 rows as with 40, and its template runs none.

Each row has 3 partners, 2 contacts, 2 staff and 2 commitments; every third
meeting is restricted; factories also write history rows. The view
materialises everything, so rendering is done with queries disabled.
"""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from engagements import services
from tests.factories import CommitmentFactory, ContactFactory, EngagementFactory, PartnerFactory
from tests.world import build_graph

pytestmark = pytest.mark.django_db

# Logged in as an officer (sees everything). Every page pays: session, user,
# the user's role with its groups' permissions (1, "role"; accounts.roles: every
# read asks accounts.access) and the user's own permissions (1, "perms", for
# the navigation). Lists add the filter form's model choices, a COUNT, the
# page and its prefetches.
EXPECTED = {
    # session, user, role, perms, COUNT, page, topics prefetch, topic + owner choices
    "partners:list": 9,
    # session, user, role, perms, COUNT, page (partner joined)
    "partners:contact-list": 6,
    # session, user, role, perms, COUNT, page, partners + topics prefetch, topic choices,
    # the trade-mission picker's missions
    "engagements:list": 10,
    # session, user, role, perms, COUNT, page, partners prefetch
    "engagements:mission-list": 7,
    # session, user, role, perms, COUNT, page (4 joins), owner choices, the trade-mission picker's missions
    "engagements:commitment-list": 8,
    # session, user, role, perms, COUNT, page, partners prefetch
    "partners:agreement-list": 7,
    # session, user, role, engagement (2 joins), partners, topics, staff, contacts (+partner),
    # commitments, history, perms
    "engagements:detail": 11,
    # session, user, role, mission, itinerary, its partners, commitments, delegates, partners,
    # history, perms
    "engagements:mission-detail": 11,
    # session, user, role, commitment (4 joins), history, perms
    "engagements:commitment-detail": 6,
    # session, user, role, contact (+partner), meetings attended, perms
    "partners:contact-detail": 6,
    # session, user, role, agreement, partners prefetch, history, perms
    "partners:agreement-detail": 7,
}


def url_for(name: str, graph) -> str:
    from django.urls import reverse

    pk = {
        "engagements:detail": lambda: graph["big"].pk,
        "engagements:mission-detail": lambda: graph["mission"].pk,
        "engagements:commitment-detail": lambda: graph["big"].commitments.first().pk,
        "partners:contact-detail": lambda: graph["contact"].pk,
        "partners:agreement-detail": lambda: graph["agreement"].pk,
    }.get(name)
    return reverse(name, args=[pk()]) if pk else reverse(name)


def build(n: int, staff: list) -> dict:
    graph = build_graph(n, staff)
    partners = [PartnerFactory(name=f"Big partner {i}") for i in range(n)]
    contacts = [ContactFactory(partner=p) for p in partners]
    big = EngagementFactory(title="Big meeting", partners=partners, contacts=contacts, staff=staff, trade_mission=graph["mission"])
    for i in range(n):
        CommitmentFactory(engagement=big, partner=partners[i])
        services.engagement_update(engagement=big, actor=staff[0], location=f"Room {i}")  # history rows
    graph["big"] = big
    graph["contact"] = contacts[0]
    for e in graph["engagements"][:n]:
        e.contacts.add(contacts[0])
        e.partners.add(partners[0])
    from partners.models import Agreement

    graph["agreement"] = Agreement.objects.filter(title__startswith="Row agreement").first()
    graph["agreement"].partners.add(*partners)
    return graph


def count_queries(client, url) -> tuple[int, object]:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    return len(ctx.captured_queries), response


@pytest.mark.parametrize("size", [3, 40])
def test_page_query_counts_are_pinned_and_independent_of_size(client_for, officer, staff_user, other_staff, size):
    # One data set per size (building 40 rows is the slow part), every page checked against it.
    graph = build(size, [staff_user, other_staff])
    client = client_for(officer)
    actual = {}
    for name in EXPECTED:
        url = url_for(name, graph)
        client.get(url)  # warm caches that are not per request (content types)
        count, response = count_queries(client, url)
        assert response.status_code == 200, name
        body = response.content.decode()
        # Real content, not an error page.
        assert body.count("<h1") == 1 and ("Row " in body or "Big " in body), name
        actual[name] = count
    assert actual == EXPECTED, f"at {size} rows"
    assert max(actual.values()) <= 12  # QUALITY P1: at most 12 per HTML page


@pytest.mark.parametrize("name", ["engagements:list", "engagements:commitment-list", "engagements:detail"])
def test_staff_pay_the_same_budget(client_for, staff_user, other_staff, name):
    graph = build(3, [staff_user, other_staff])
    client = client_for(staff_user)
    client.get(url_for(name, graph))
    count, response = count_queries(client, url_for(name, graph))
    assert response.status_code == 200
    assert count == EXPECTED[name]


@pytest.mark.parametrize("name", ["partners:list", "engagements:list", "engagements:detail", "engagements:mission-detail"])
def test_templates_run_no_queries(client_for, officer, staff_user, other_staff, name, monkeypatch):
    """P2: rendering happens with the database switched off."""
    import django.shortcuts

    import diplomacy_crm.views as shared

    graph = build(3, [staff_user, other_staff])
    real_render = django.shortcuts.render

    def render_without_db(*args, **kwargs):
        def refuse(execute, sql, params, many, context):
            raise AssertionError(f"query in template: {sql}")

        with connection.execute_wrapper(refuse):
            return real_render(*args, **kwargs)

    monkeypatch.setattr(shared, "render", render_without_db)
    response = client_for(officer).get(url_for(name, graph))
    assert response.status_code == 200


@pytest.mark.parametrize("size", [3, 40])
def test_csv_export_query_count_is_constant(client_for, officer, staff_user, other_staff, size):
    build(size, [staff_user, other_staff])
    client = client_for(officer)
    # session, user, role (with its groups' permissions), perms (the "add" button flag), the rows,
    # then prefetches per 1,000-row chunk: engagements 2 (partners, topics), partners 1 (topics),
    # commitments 0 (joins).
    for url, expected in [("/engagements/?format=csv", 7), ("/commitments/?format=csv", 5), ("/partners/?format=csv", 6)]:
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(url)
            rows = b"".join(response.streaming_content).count(b"\n")
        assert rows > size
        assert len(ctx.captured_queries) == expected, (url, len(ctx.captured_queries))
