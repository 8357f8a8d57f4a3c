"""Search on PostgreSQL: the accent-insensitive configuration, stemming, ranking, and the GIN indexes in use."""

import json

import pytest
from django.db import connection

from dashboard import search
from engagements.models import Engagement
from tests.factories import EngagementFactory, PartnerFactory, TradeMissionFactory

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]


def _ids(results, key):
    return [hit.obj.pk for group in results.groups if group.type.key == key for hit in group.hits]


def test_sao_paulo_finds_são_paulo_and_back(postgres_required, officer):
    sao = PartnerFactory(name="Prefeitura de São Paulo", city="São Paulo", country="BR")
    plain = PartnerFactory(name="Sao Paulo Chamber of Commerce", city="Sao Paulo", country="BR")
    assert set(_ids(search.search(officer, "Sao Paulo"), "partner")) == {sao.pk, plain.pk}
    assert set(_ids(search.search(officer, "São Paulo"), "partner")) == {sao.pk, plain.pk}
    zurich = TradeMissionFactory(name="Innovation week", cities="Zürich, Basel")
    assert _ids(search.search(officer, "zurich"), "mission") == [zurich.pk]


def test_english_stemming_and_websearch_syntax(postgres_required, officer):
    missions = EngagementFactory(title="Debrief of the trade missions", summary="Airlines and ports")
    other = EngagementFactory(title="Trade mission planning", summary="Cargo airlines")
    assert set(_ids(search.search(officer, "mission"), "engagement")) == {missions.pk, other.pk}
    # websearch syntax: a quoted phrase and a minus.
    assert _ids(search.search(officer, '"trade missions" -cargo'), "engagement") == [missions.pk]


def test_title_weight_beats_summary_and_headline_marks_the_stem(postgres_required, officer):
    low = EngagementFactory(title="Weekly call", summary="The hydrogen pilots were discussed.")
    high = EngagementFactory(title="Hydrogen pilots", summary="Kickoff.")
    results = search.search(officer, "pilot")
    assert _ids(results, "engagement") == [high.pk, low.pk]
    hits = results.groups[[t.key for t in search.TYPES].index("engagement")].hits
    assert "<mark>pilots</mark>" in hits[0].title_html
    assert "<mark>pilots</mark>" in hits[1].snippet_html


def _plan_nodes(plan):
    yield plan
    for child in plan.get("Plans", []):
        yield from _plan_nodes(child)


@pytest.mark.parametrize("type_key", [t.key for t in search.TYPES])
def test_the_query_can_use_its_gin_index(postgres_required, staff_user, type_key):
    """The index expression equals the query's: with sequential scans off, the plan uses the GIN index."""
    EngagementFactory(title="Index probe", confidentiality=Engagement.Confidentiality.RESTRICTED)
    search_type = search.TYPES_BY_KEY[type_key]
    queryset = search.postgres_queryset(search_type, staff_user, "probe")[:6]
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        plan = json.loads(queryset.explain(format="json"))[0]["Plan"]
    index_names = {node.get("Index Name") for node in _plan_nodes(plan)}
    assert search_type.index_name in index_names, index_names
