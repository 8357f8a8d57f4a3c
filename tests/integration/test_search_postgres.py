"""Search on PostgreSQL: the accent-insensitive configuration, stemming, ranking, the stored vectors and their GIN indexes."""

import json

import pytest
from django.contrib.postgres.search import SearchQuery
from django.db import connection

from dashboard.search import selectors as search
from engagements.models import Engagement
from tests.factories import CommitmentFactory, EngagementFactory, PartnerFactory, TradeMissionFactory

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
    """The query filters on the indexed stored vector: with sequential and plain index scans off, the plan uses the GIN index.

    (With them on, a common word may rather walk the primary key backwards and
    stop after CANDIDATES matches; that is the planner's choice.)
    """
    EngagementFactory(title="Index probe", confidentiality=Engagement.Confidentiality.RESTRICTED)
    search_type = search.TYPES_BY_KEY[type_key]
    queryset = search.postgres_queryset(search_type, staff_user, "probe")[:6]
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_indexscan = off")
        plan = json.loads(queryset.explain(format="json"))[0]["Plan"]
    index_names = {node.get("Index Name") for node in _plan_nodes(plan)}
    assert search_type.index_name in index_names, index_names


def test_the_query_ranks_from_the_stored_vector_and_never_parses_text(postgres_required, staff_user):
    """No to_tsvector() anywhere in the plan: the filter, the recheck and ts_rank all read `search_vector`."""
    for search_type in search.TYPES:
        queryset = search.postgres_queryset(search_type, staff_user, "hydrogen pilots")[:6]
        plan = queryset.explain(verbose=True)
        assert "to_tsvector" not in plan, (search_type.key, plan)
        assert "ts_rank(" in plan and f".{search.STORED_COLUMN}" in plan, (search_type.key, plan)


def test_the_stored_vector_is_current_after_orm_writes_and_bulk_create(postgres_required, officer):
    engagement = EngagementFactory(title="Harbour electrification", summary="Shore power for cruise ships.")
    commitment = CommitmentFactory(description="Send the shore power study")
    assert _ids(search.search(officer, "shore power"), "engagement") == [engagement.pk]
    engagement.title = "Airport electrification"
    engagement.summary = "Ground power for aircraft."
    engagement.save()
    assert _ids(search.search(officer, "shore"), "engagement") == []
    assert _ids(search.search(officer, "aircraft"), "engagement") == [engagement.pk]
    assert _ids(search.search(officer, "shore"), "commitment") == [commitment.pk]
    # bulk_create (seed_bench, imports) writes only the model's columns; PostgreSQL computes the vector.
    Engagement.objects.bulk_create(
        [Engagement(title=f"Tramway concession {i}", starts_at=engagement.starts_at, owner=engagement.owner) for i in range(3)]
    )
    assert len(_ids(search.search(officer, "tramway"), "engagement")) == 3
    stored = Engagement.objects.alias(document=search.StoredVector())
    assert stored.filter(document=SearchQuery("tramway", config=search.SEARCH_CONFIG)).count() == 3
    with connection.cursor() as cursor:
        cursor.execute("SELECT search_vector::text FROM engagements_engagement WHERE id = %s", [engagement.pk])
        assert "'aircraft':" in cursor.fetchone()[0]


def test_history_tables_do_not_get_the_stored_vector(postgres_required):
    """The column is the search's, not the model's: simple-history's tables and the model fields lack it."""
    with connection.cursor() as cursor:
        for search_type in search.TYPES:
            model = search.search_model(search_type)
            columns = {c.name for c in connection.introspection.get_table_description(cursor, model._meta.db_table)}
            assert search.STORED_COLUMN in columns, model
            assert search.STORED_COLUMN not in {f.column for f in model._meta.concrete_fields}
            historical = model.history.model._meta.db_table
            history_columns = {c.name for c in connection.introspection.get_table_description(cursor, historical)}
            assert search.STORED_COLUMN not in history_columns, historical
