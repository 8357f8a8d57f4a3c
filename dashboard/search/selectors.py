"""One search box over partners, contacts, engagements, trade missions, commitments and agreements.

PostgreSQL: full-text search with the `crm_unaccent` configuration (English
stemming after the unaccent dictionary, so "Sao Paulo" finds "São Paulo" and
"missions" finds "mission"), ranked by field weight (A title/name … D), with
snippets from ts_headline. Each searched table stores its weighted tsvector
in a generated column, `search_vector` (dashboard/migrations/0002), built
from the fields and weights in TYPES and GIN-indexed: the query filters and
ranks on that column, so no row's text is parsed again at search time. The
migrations keep a frozen copy of TYPES' fields, which a test compares.

SQLite (the zero-setup default): every word must appear, accent- and
case-insensitively, in one of the type's fields (a Python fold function
registered on the connection), ranked by the weight of the fields that hold a
word; snippets are cut and highlighted in Python.

Snippets are always built from escaped text: the only markup in a result is
our own <mark>. Confidentiality comes from accounts.access and the visibility selectors of the
layers below, and each type costs exactly one query (LIMIT n+1: no COUNT).
"""

import re
from dataclasses import dataclass, field

from django.contrib.postgres.search import SearchHeadline, SearchQuery, SearchRank, SearchVectorField
from django.db import connection
from django.db.models import Case, Expression, F, FloatField, Func, Q, Subquery, TextField, Value, When
from django.db.models.expressions import Col
from django.db.models.functions import Concat
from django.urls import reverse
from django.utils.html import escape
from django.utils.safestring import mark_safe

from accounts import access
from diplomacy_crm.text import fold
from engagements.models import Commitment, Engagement, TradeMission
from engagements.selectors import commitments_for, engagements_for, missions_for
from partners.models import Agreement, Contact, Partner

SEARCH_CONFIG = "crm_unaccent"
QUERY_MAX = 200
WORDS_MAX = 8
PER_TYPE_LIMIT = 5  # on the "all types" page; "more" links go to one type's pages
PAGE_SIZE = 20
# On PostgreSQL only the CANDIDATES most recently created matches are ranked:
# for a common word the newest rows are read in primary-key order until that
# many match, instead of fetching every matching row (a rare word uses the
# GIN index). Ranking reads the stored vectors, never the text.
CANDIDATES = 200
MAX_PAGE = CANDIDATES // PAGE_SIZE
SNIPPET_CHARS = 220

# Private-use characters mark the highlights in ts_headline's output; the
# text is escaped first and only then are they turned into <mark> tags.
START_SEL, STOP_SEL = "\ue000", "\ue001"

WEIGHT_SCORES = {"A": 1.0, "B": 0.4, "C": 0.2, "D": 0.1}  # PostgreSQL's default ts_rank weights


@dataclass(frozen=True)
class SearchType:
    key: str  # the ?type= value
    label: str
    plural: str
    fields: tuple[tuple[str, str], ...]  # (field, weight A-D); the first is the title
    list_url: str  # the type's own list page, which takes ?q=

    @property
    def title_field(self) -> str:
        return self.fields[0][0]

    @property
    def body_fields(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self.fields[1:])

    @property
    def index_name(self) -> str:
        return f"search_{self.key}_fts"


# The indexed expressions: dashboard/migrations/0001_search_indexes.py keeps a frozen copy.
TYPES = (
    SearchType("partner", "Partner", "Partners", (("name", "A"), ("city", "B"), ("description", "C")), "/partners/"),
    SearchType("contact", "Contact", "Contacts", (("full_name", "A"), ("title", "B"), ("protocol_notes", "C")), "/contacts/"),
    SearchType(
        "engagement", "Engagement", "Engagements", (("title", "A"), ("summary", "B"), ("outcomes", "C")), "/engagements/"
    ),
    SearchType(
        "mission",
        "Trade mission",
        "Trade missions",
        (("name", "A"), ("cities", "B"), ("objectives", "C"), ("outcomes", "C")),
        "/missions/",
    ),
    SearchType("commitment", "Commitment", "Commitments", (("description", "A"),), "/commitments/"),
    SearchType("agreement", "Agreement", "Agreements", (("title", "A"), ("summary", "B")), "/agreements/"),
)
TYPES_BY_KEY = {t.key: t for t in TYPES}


STORED_COLUMN = "search_vector"  # the generated tsvector column on each searched table (PostgreSQL only)


class StoredVector(Expression):
    """The stored `search_vector` column of the query's own table.

    The column is not a model field (the models stay the same on every
    database; Django never reads or writes it), so it resolves to a column
    reference on the query's base table, whose alias follows the query when
    it becomes a subquery.
    """

    output_field = SearchVectorField()

    def resolve_expression(self, query=None, allow_joins=True, reuse=None, summarize=False, for_save=False):
        target = SearchVectorField()
        target.set_attributes_from_name(STORED_COLUMN)
        target.model = query.model  # what Django hashes and compares a column by (COUNT, GROUP BY)
        return Col(query.get_initial_alias(), target)


MODELS = {
    "partner": Partner,
    "contact": Contact,
    "engagement": Engagement,
    "mission": TradeMission,
    "commitment": Commitment,
    "agreement": Agreement,
}


def search_model(search_type: SearchType):
    """The model (and so the table with the stored `search_vector`) of one type."""
    return MODELS[search_type.key]


def visible_queryset(search_type: SearchType, user):
    """What `user` may see of one type (accounts.access and the visibility selectors of the layers below)."""
    key = search_type.key
    if key == "partner":
        return access.partners_for(user)
    if key == "contact":
        return access.contacts_for(user)
    if key == "engagement":
        return engagements_for(user)
    if key == "mission":
        return missions_for(user)
    if key == "commitment":
        return commitments_for(user)
    if key == "agreement":
        return access.agreements_for(user)
    raise ValueError(key)


def shaped(search_type: SearchType, queryset):
    """`queryset` with what a result row shows (one query, no prefetch)."""
    key = search_type.key
    if key == "partner":
        return queryset.select_related("parent").only("id", "name", "city", "country", "kind", "description", "parent__name")
    if key == "contact":
        return queryset.select_related("partner").only(
            "id", "full_name", "honorific", "title", "protocol_notes", "is_active", "partner__name"
        )
    if key == "engagement":
        return queryset.only("id", "title", "summary", "outcomes", "starts_at", "kind", "status", "confidentiality", "location")
    if key == "mission":
        return queryset.only("id", "name", "cities", "objectives", "outcomes", "start_date", "end_date", "status")
    if key == "commitment":
        return queryset.select_related("partner").only("id", "description", "status", "due_date", "made_by", "partner__name")
    if key == "agreement":
        return queryset.only("id", "title", "summary", "kind", "status", "signed_on", "expires_on")
    raise ValueError(key)


def base_queryset(search_type: SearchType, user):
    """What `user` may see of one type, with what a result row shows."""
    return shaped(search_type, visible_queryset(search_type, user))


# --- Text helpers (SQLite fallback and the safe highlighter) -----------------


def query_words(q: str) -> list[str]:
    """The folded words of a query, punctuation dropped, at most WORDS_MAX of them."""
    words = re.findall(r"\w+", fold(q))
    seen, out = set(), []
    for word in words:
        if word not in seen:
            seen.add(word)
            out.append(word)
    return out[:WORDS_MAX]


def highlight(text: str, words: list[str], *, limit: int | None = SNIPPET_CHARS) -> str:
    """Escaped `text` (cut around the first hit when longer than `limit`) with each word hit in <mark>.

    Matches are found in the folded text, so "Sao" marks "São"; a word
    matches at the start of a word ("mission" marks "missions").
    """
    text = text or ""
    folded = fold(text)
    spans = []
    if words:
        pattern = re.compile(r"\b(?:" + "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True)) + r")\w*")
        spans = [m.span() for m in pattern.finditer(folded)]
    start, end = 0, len(text)
    if limit and len(text) > limit:
        first = spans[0][0] if spans else 0
        start = max(0, first - limit // 3)
        end = min(len(text), start + limit)
    out, cursor = [], start
    if start > 0:
        out.append("… ")
    for s, e in spans:
        if e <= start or s >= end:
            continue
        s, e = max(s, start), min(e, end)
        out.append(escape(text[cursor:s]))
        out.append(f"<mark>{escape(text[s:e])}</mark>")
        cursor = e
    out.append(escape(text[cursor:end]))
    if end < len(text):
        out.append(" …")
    # Reviewed (bandit): every piece of user text went through escape(); only our <mark> tags are added.
    return mark_safe("".join(out))  # nosec B308, B703


def headline_to_html(value: str | None) -> str:
    """ts_headline's output (sentinels around hits) as escaped HTML with our <mark> tags only."""
    value = value or ""
    if value.count(START_SEL) != value.count(STOP_SEL):
        # User text that itself held a sentinel: drop all marks rather than emit unbalanced tags.
        # Reviewed (bandit): every piece of user text went through escape(); only our <mark> tags are added.
        return mark_safe(escape(value.replace(START_SEL, "").replace(STOP_SEL, "")))  # nosec B308, B703
    html = escape(value).replace(START_SEL, "<mark>").replace(STOP_SEL, "</mark>")
    # Reviewed (bandit): every piece of user text went through escape(); only our <mark> tags are added.
    return mark_safe(html)  # nosec B308, B703


class Fold(Func):
    """crm_fold(text) on SQLite: the Python `fold`, registered on each connection."""

    function = "crm_fold"
    output_field = TextField()


def _ensure_sqlite_fold() -> None:
    # Registering a function is a C call on the connection, not a query; doing
    # it on every search keeps it working after a reconnect.
    connection.ensure_connection()
    connection.connection.create_function("crm_fold", 1, fold, deterministic=True)


# --- Results ---------------------------------------------------------------


@dataclass
class Hit:
    type: SearchType
    obj: object
    title_html: str
    snippet_html: str
    rank: float

    @property
    def url(self) -> str:
        key, obj = self.type.key, self.obj
        if key == "partner":
            return obj.get_absolute_url()
        if key == "contact":
            return reverse("partners:contact-detail", args=[obj.pk])
        if key == "engagement":
            return reverse("engagements:detail", args=[obj.pk])
        if key == "mission":
            return reverse("engagements:mission-detail", args=[obj.pk])
        if key == "commitment":
            return reverse("engagements:commitment-detail", args=[obj.pk])
        return reverse("partners:agreement-detail", args=[obj.pk])

    @property
    def meta(self) -> str:
        """A short line under the title: what it is and where or when."""
        key, o = self.type.key, self.obj
        if key == "partner":
            parts = [o.get_kind_display(), o.city, o.country.name if o.country else "", o.parent.name if o.parent else ""]
        elif key == "contact":
            parts = [o.title, o.partner.name, "" if o.is_active else "no longer in post"]
        elif key == "engagement":
            from django.utils import timezone

            parts = [timezone.localtime(o.starts_at).strftime("%b %-d, %Y %H:%M"), o.get_kind_display(), o.location,
                     o.get_status_display(), "Restricted" if o.is_restricted else ""]
        elif key == "mission":
            parts = [f"{o.start_date:%b %-d, %Y} – {o.end_date:%b %-d, %Y}", o.get_status_display()]
        elif key == "commitment":
            parts = [o.get_made_by_display(), o.partner.name if o.partner else "",
                     f"due {o.due_date:%b %-d, %Y}" if o.due_date else "", o.get_status_display()]
        else:
            parts = [o.get_kind_display(), o.get_status_display(), f"signed {o.signed_on:%b %-d, %Y}" if o.signed_on else ""]
        return " · ".join(p for p in parts if p)


@dataclass
class TypeResults:
    type: SearchType
    hits: list
    has_more: bool
    page: int = 1

    @property
    def more_url(self) -> str:
        return f"?type={self.type.key}"


@dataclass
class SearchResults:
    q: str
    words: list
    active_type: SearchType | None
    groups: list = field(default_factory=list)
    page: int = 1
    too_short: bool = False

    @property
    def total_shown(self) -> int:
        return sum(len(g.hits) for g in self.groups)

    @property
    def group(self) -> TypeResults | None:
        return self.groups[0] if self.active_type and self.groups else None


def postgres_queryset(search_type: SearchType, user, q: str):
    """The ranked full-text query of one type (PostgreSQL), with title and snippet headlines."""
    query = SearchQuery(q, config=SEARCH_CONFIG, search_type="websearch")
    body = search_type.body_fields
    options = {"MaxFragments": 2, "MaxWords": 28, "MinWords": 10, "FragmentDelimiter": " … "}
    annotations = {
        "search_rank": SearchRank(StoredVector(), query),
        "search_title": SearchHeadline(
            search_type.title_field, query, config=SEARCH_CONFIG, start_sel=START_SEL, stop_sel=STOP_SEL,
            highlight_all=True,
        ),
    }
    if body:
        text = (
            Concat(*[part for name in body for part in (F(name), Value(" … "))][:-1], output_field=TextField())
            if len(body) > 1
            else F(body[0])
        )
        annotations["search_snippet"] = SearchHeadline(
            text, query, config=SEARCH_CONFIG, start_sel=START_SEL, stop_sel=STOP_SEL,
            max_fragments=options["MaxFragments"], max_words=options["MaxWords"], min_words=options["MinWords"],
            fragment_delimiter=options["FragmentDelimiter"],
        )
    # Only the latest CANDIDATES matches are ranked. The planner picks how to
    # find them from the column's statistics: for a rare word, the GIN index
    # (a bitmap of the few matches); for a common one, the primary key walked
    # backwards, testing each row's stored vector (cheap: no parsing), until
    # CANDIDATES match, so not every matching row is read.
    visible = visible_queryset(search_type, user)
    candidates = visible.alias(document=StoredVector()).filter(document=query).order_by("-pk").values("pk")[:CANDIDATES]
    # The candidates are already what the user may see: the outer query only
    # fetches those rows by primary key (repeating the visibility filter here
    # made PostgreSQL scan the whole table to apply it).
    return (
        shaped(search_type, search_model(search_type)._default_manager.all())
        .filter(pk__in=Subquery(candidates))
        .annotate(**annotations)
        .order_by("-search_rank", "-pk")
    )


def _search_postgres(search_type: SearchType, user, q: str, offset: int, limit: int):
    rows = postgres_queryset(search_type, user, q)[offset : offset + limit + 1]
    hits = [
        Hit(
            type=search_type,
            obj=row,
            title_html=headline_to_html(row.search_title),
            snippet_html=headline_to_html(getattr(row, "search_snippet", "")),
            rank=row.search_rank,
        )
        for row in rows
    ]
    return hits


def _search_fallback(search_type: SearchType, user, words: list[str], offset: int, limit: int):
    _ensure_sqlite_fold()
    folded = {f"fold_{name}": Fold(F(name)) for name, _ in search_type.fields}
    queryset = base_queryset(search_type, user).alias(**folded)
    for word in words:
        match = Q()
        for name, _ in search_type.fields:
            match |= Q(**{f"fold_{name}__contains": word})
        queryset = queryset.filter(match)
    # Rank: per field that holds a word, its weight (A=1 … D=0.1) — a title hit outranks a summary hit.
    score = Value(0.0, output_field=FloatField())
    for name, weight in search_type.fields:
        for word in words:
            score = score + Case(
                When(**{f"fold_{name}__contains": word}, then=Value(WEIGHT_SCORES[weight])),
                default=Value(0.0),
                output_field=FloatField(),
            )
    rows = queryset.annotate(search_rank=score).order_by("-search_rank", "-pk")[offset : offset + limit + 1]
    hits = []
    for row in rows:
        body = " … ".join(getattr(row, name) or "" for name in search_type.body_fields if getattr(row, name))
        hits.append(
            Hit(
                type=search_type,
                obj=row,
                title_html=highlight(getattr(row, search_type.title_field), words, limit=None),
                snippet_html=highlight(body, words),
                rank=row.search_rank,
            )
        )
    return hits


def _search_type(search_type: SearchType, user, q: str, words: list[str], *, offset: int, limit: int) -> TypeResults:
    if connection.vendor == "postgresql":
        hits = _search_postgres(search_type, user, q, offset, limit)
    else:
        hits = _search_fallback(search_type, user, words, offset, limit)
    return TypeResults(type=search_type, hits=hits[:limit], has_more=len(hits) > limit)


def clean_query(q: str | None) -> str:
    q = (q or "").replace("\x00", "").strip()
    return q[:QUERY_MAX]


def search(user, q: str, *, type_key: str | None = None, page: int = 1) -> SearchResults:
    """Results for `q` as `user` may see them: the top few per type, or one type's page.

    One query per type searched, whatever the size of the tables (LIMIT n+1 tells
    whether there are more; there is no COUNT).
    """
    q = clean_query(q)
    words = query_words(q)
    active = TYPES_BY_KEY.get(type_key or "")
    page = max(1, min(page, MAX_PAGE))
    results = SearchResults(q=q, words=words, active_type=active, page=page)
    if not words:
        results.too_short = bool(q)
        return results
    if active:
        group = _search_type(active, user, q, words, offset=(page - 1) * PAGE_SIZE, limit=PAGE_SIZE)
        group.page = page
        results.groups = [group]
    else:
        results.groups = [_search_type(t, user, q, words, offset=0, limit=PER_TYPE_LIMIT) for t in TYPES]
    return results


def index_definitions():
    """(model label, index name, vector) for each type: what the migration must create."""
    return [(search_model(t)._meta.label, t.index_name, t.fields) for t in TYPES]

