"""Search (/search/?q=): ranking, accents, type filter, escaped snippets, confidentiality, query budget.

These run on both databases: full-text search on PostgreSQL, the fold +
LIKE fallback on SQLite. PostgreSQL-only behaviour is in
tests/integration/test_search_postgres.py; fallback-only behaviour is at the end.
"""

import datetime as dt

import pytest
from django.db import connection
from django.utils import timezone

from dashboard.search import selectors as search
from engagements.models import Engagement
from tests.attachments.helpers import attach
from tests.factories import AgreementFactory, CommitmentFactory, ContactFactory, EngagementFactory, PartnerFactory, TradeMissionFactory

pytestmark = pytest.mark.django_db

MARKER = "ZQX-SEARCH-LEAK-5150"
PROMISE_MARKER = "ZQX-SEARCH-PROMISE-5151"
URL = "/search/"


def _titles(results, key):
    return [hit.obj.pk for group in results.groups if group.type.key == key for hit in group.hits]


def test_anonymous_is_sent_to_login(client_for):
    response = client_for("anonymous").get(URL, {"q": "anything"}, follow=True)
    assert response.redirect_chain[0][1] == 302 and response.redirect_chain[0][0].startswith("/accounts/login/")
    body = response.content.decode()
    assert "<h1>Sign in</h1>" in body and 'name="password"' in body  # the sign-in form, no results
    assert "Nothing matches" not in body and "search-tab" not in body


def test_a_title_hit_ranks_above_a_summary_hit(officer):
    in_summary = EngagementFactory(title="Quarterly call", summary="We discussed hydrogen storage at length.")
    in_title = EngagementFactory(title="Hydrogen roundtable", summary="Agenda to follow.")
    results = search.search(officer, "hydrogen")
    assert _titles(results, "engagement") == [in_title.pk, in_summary.pk]


def test_accents_do_not_matter_either_way(officer):
    sao = PartnerFactory(name="Prefeitura de São Paulo", city="São Paulo", country="BR")
    zurich = PartnerFactory(name="Stadt Zurich", city="Zurich", country="CH")
    assert _titles(search.search(officer, "Sao Paulo"), "partner") == [sao.pk]
    assert _titles(search.search(officer, "são paulo"), "partner") == [sao.pk]
    assert _titles(search.search(officer, "Zürich"), "partner") == [zurich.pk]


def test_every_type_is_searched_and_linked(officer, client_for):
    partner = PartnerFactory(name="Orbitalis Ministry")
    ContactFactory(partner=partner, full_name="Ana Orbitalis", title="Deputy minister")
    EngagementFactory(title="Orbitalis dinner")
    TradeMissionFactory(name="Orbitalis trade mission")
    CommitmentFactory(description="Send the Orbitalis study")
    agreement = AgreementFactory(title="Orbitalis MOU", partners=[partner])
    attach(agreement, "signed_orbitalis_mou.txt", b"Signed copy.", actor=officer)
    response = client_for("officer").get(URL, {"q": "orbitalis"})
    assert response.status_code == 200
    results = response.context["results"]
    assert {g.type.key for g in results.groups if g.hits} == {t.key for t in search.TYPES}
    body = response.content.decode()
    for path in ("/partners/", "/contacts/", "/engagements/", "/missions/", "/commitments/", "/agreements/"):
        assert f'href="{path}' in body
    assert f'href="/agreements/{agreement.pk}/"' in body and 'href="/attachments/' in body  # the record, the download


def test_type_filter_shows_one_type_paginated_with_more_links(officer, client_for):
    for i in range(search.PER_TYPE_LIMIT + 2):
        EngagementFactory(title=f"Lantern festival planning {i}")
    PartnerFactory(name="Lantern Society")
    client = client_for("officer")
    everything = client.get(URL, {"q": "lantern"})
    groups = {g.type.key: g for g in everything.context["results"].groups}
    assert len(groups["engagement"].hits) == search.PER_TYPE_LIMIT
    assert groups["engagement"].has_more
    assert "?q=lantern&amp;type=engagement" in everything.content.decode()

    only = client.get(URL, {"q": "lantern", "type": "engagement"})
    results = only.context["results"]
    assert [g.type.key for g in results.groups] == ["engagement"]
    assert len(results.groups[0].hits) == search.PER_TYPE_LIMIT + 2
    assert "Lantern Society" not in only.content.decode()
    assert "/engagements/?q=lantern" in only.content.decode()


def test_unknown_type_and_bad_page_fall_back_quietly(officer, client_for):
    EngagementFactory(title="Harbour visit")
    client = client_for("officer")

    def page(params) -> str:
        response = client.get(URL, params)
        assert response.status_code == 200
        return response.content.decode()

    # An unknown type and a page that is no number: every type, first page.
    body = page({"q": "harbour", "type": "nonsense", "page": "x"})
    assert "<mark>Harbour</mark> visit" in body and 'aria-current="page" class="search-tab--current">All<' in body
    # A page beyond the last: that type's tab, no error.
    body = page({"q": "harbour", "type": "engagement", "page": "99999"})
    assert 'aria-current="page" class="search-tab--current">Engagements<' in body
    # Control characters only: as if nothing was typed, the page explains what it searches.
    assert "Search by name, place, title" in page({"q": "\x00" * 3})
    # Punctuation only: the page asks for a word.
    assert "Type a word or a name to search for." in page({"q": "!!! ''' --"})
    # A very long query is cut to the box's limit (200 characters) and finds nothing.
    assert f"Nothing matches “{'a' * search.QUERY_MAX}”" in page({"q": "a" * 10_000})


def test_snippets_escape_user_text_and_only_our_mark_is_markup(officer, client_for):
    EngagementFactory(
        title="Evening <b>reception</b>",
        summary='Guests wrote <script>alert("x")</script> in the reception book; <img src=x onerror=alert(1)>.',
    )
    body = client_for("officer").get(URL, {"q": "reception"}).content.decode()
    assert "<script>alert" not in body
    assert "<img src=x" not in body
    # PostgreSQL's ts_headline drops some tags from fragments; whatever is left comes back escaped.
    assert "&lt;img src=x" in body
    assert "&lt;b&gt;" in body
    assert "<mark>" in body
    assert "<b>reception</b>" not in body


def test_restricted_engagements_and_their_commitments_only_for_officers_and_participants(
    client, viewer, staff_user, other_staff, officer, superuser
):
    # Searched by a word; the marker (never typed into the box) must not reach outsiders.
    secret = EngagementFactory(
        title=f"Zanzibarian talks {MARKER}",
        summary=f"Zanzibarian notes {MARKER}",
        staff=[staff_user],
        confidentiality=Engagement.Confidentiality.RESTRICTED,
    )
    CommitmentFactory(description=f"Zanzibarian promise {PROMISE_MARKER}", engagement=secret)
    for user, sees in ((viewer, False), (other_staff, False), (staff_user, True), (officer, True), (superuser, True)):
        client.force_login(user)
        for params in ({"q": "zanzibarian"}, {"q": "zanzibarian", "type": "engagement"}, {"q": "zanzibarian", "type": "commitment"}):
            body = client.get(URL, params).content.decode()
            if params.get("type") != "commitment":
                assert (MARKER in body) is sees, (user, params)
            if params.get("type") != "engagement":
                assert (PROMISE_MARKER in body) is sees, (user, params)


def test_the_search_box_in_the_layout_targets_this_page(client_for):
    body = client_for("officer").get("/").content.decode()
    assert 'action="/search/"' in body and 'name="q"' in body


def _seed(n: int, prefix: str):
    for i in range(n):
        partner = PartnerFactory(name=f"{prefix} Budgetary partner {i}")
        ContactFactory(partner=partner, full_name=f"Budgetary person {i}")
        engagement = EngagementFactory(
            title=f"Budgetary meeting {i}",
            partners=[partner],
            confidentiality=Engagement.Confidentiality.RESTRICTED if i % 3 == 0 else Engagement.Confidentiality.INTERNAL,
            starts_at=timezone.now() - dt.timedelta(days=i),
        )
        CommitmentFactory(description=f"Budgetary promise {i}", engagement=engagement, partner=partner)
        AgreementFactory(title=f"Budgetary MOU {i}", partners=[partner])
        TradeMissionFactory(name=f"Budgetary mission {i}")


# session, user, the user's role (groups with their permissions, one query), 7 types × 1 query,
# the user's own permissions
EXPECTED_ALL_TYPES = 11
# session, user, role, 1 query for the type, own permissions
EXPECTED_ONE_TYPE = 5


@pytest.mark.parametrize("size", [3, 40])
def test_search_query_count_is_pinned_and_independent_of_size(client, staff_user, django_assert_num_queries, size):
    _seed(size, prefix=f"S{size}")
    client.force_login(staff_user)
    with django_assert_num_queries(EXPECTED_ALL_TYPES):
        response = client.get(URL, {"q": "budgetary"})
    assert response.status_code == 200
    assert "Budgetary</mark> meeting" in response.content.decode()
    with django_assert_num_queries(EXPECTED_ONE_TYPE):
        response = client.get(URL, {"q": "budgetary", "type": "engagement", "page": 2 if size > 30 else 1})
    assert response.status_code == 200
    assert "Budgetary</mark> meeting" in response.content.decode()


# --- Pieces -------------------------------------------------------------------------


def test_fold_keeps_positions_and_strips_accents():
    assert search.fold("São Paulo, ZÜRICH, Kraków, Đà Nẵng") == "sao paulo, zurich, krakow, đa nang"
    text = "Straße İstanbul Ærø"
    assert len(search.fold(text)) == len(text)


def test_highlight_escapes_and_marks_accented_words():
    html = search.highlight("<i>Visit</i> to São Paulo & Zürich", ["sao", "zurich"])
    assert html == "&lt;i&gt;Visit&lt;/i&gt; to <mark>São</mark> Paulo &amp; <mark>Zürich</mark>"


def test_headline_markup_is_escaped_and_unbalanced_sentinels_dropped():
    ok = search.headline_to_html(f"<b>x</b> {search.START_SEL}term{search.STOP_SEL}")
    assert ok == "&lt;b&gt;x&lt;/b&gt; <mark>term</mark>"
    assert "<mark>" not in search.headline_to_html(f"evil {search.START_SEL}{search.START_SEL}x{search.STOP_SEL}")


def test_the_migration_indexes_the_expressions_the_query_uses():
    from importlib import import_module

    migration = import_module("dashboard.migrations.0001_search_indexes")
    frozen = {name: fields for _app, _model, name, fields in migration.SPECS}
    # 0001 indexed the first six types; documents came with their stored vector (0003).
    assert frozen == {t.index_name: t.fields for t in search.TYPES if t.key != "document"}
    assert migration.CONFIG == search.SEARCH_CONFIG


STORED_VECTOR_MIGRATIONS = ("0002_stored_search_vectors", "0003_document_search_vector")


def test_the_stored_vector_migration_stores_the_expressions_the_query_uses():
    from importlib import import_module

    migrations = [import_module(f"dashboard.migrations.{name}") for name in STORED_VECTOR_MIGRATIONS]
    specs = [spec for migration in migrations for spec in migration.SPECS]
    frozen = {name: fields for _table, name, fields in specs}
    assert len(frozen) == len(specs)  # each type's column made once
    assert frozen == {t.index_name: t.fields for t in search.TYPES}
    for migration in migrations:
        assert migration.CONFIG == search.SEARCH_CONFIG
        assert migration.COLUMN == search.STORED_COLUMN
    tables = {name: table for table, name, _fields in specs}
    for search_type in search.TYPES:
        assert tables[search_type.index_name] == search.search_model(search_type)._meta.db_table


def test_edits_are_searchable_at_once_and_the_old_words_are_gone(officer):
    """A renamed partner is found by its new name (accents folded), no longer by its old one."""
    from partners.services import partner_update

    partner = PartnerFactory(name="Orbitalis Trading House", city="Lisbon")
    assert _titles(search.search(officer, "orbitalis"), "partner") == [partner.pk]
    partner_update(partner=partner, actor=officer, name="Câmara de Comércio de São Paulo", city="São Paulo")
    assert _titles(search.search(officer, "orbitalis"), "partner") == []
    assert _titles(search.search(officer, "Sao Paulo"), "partner") == [partner.pk]
    assert _titles(search.search(officer, "camara comercio"), "partner") == [partner.pk]
    # A queryset update (no save(), no signals) is searchable too.
    type(partner).objects.filter(pk=partner.pk).update(description="Runs the Quillfeather exchange")
    assert _titles(search.search(officer, "quillfeather"), "partner") == [partner.pk]
    # simple-history still records the edit.
    assert partner.history.count() == 2


def test_fallback_matches_every_word_in_any_field(officer):
    if connection.vendor == "postgresql":
        pytest.skip("the SQLite fallback")
    match = EngagementFactory(title="Airline meeting", summary="Nonstop service to Hanoi")
    EngagementFactory(title="Airline call", summary="Cargo only")
    assert _titles(search.search(officer, "airline hanoi"), "engagement") == [match.pk]
    # Prefix of a word matches in the fallback ("hano" → "Hanoi").
    assert _titles(search.search(officer, "hano"), "engagement") == [match.pk]
