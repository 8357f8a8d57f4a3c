"""One search box over partners, contacts, engagements, trade missions, commitments, agreements and documents.

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

Documents are attachments: their file name (weight A) and the text read
from the file by a worker (attachments/textindex.py, weight D), searched
like the rest, under the same rule as their record
(`Attachment.objects.visible_to`); a result links to that record.

Snippets are always built from escaped text (dashboard/search/text.py): the
only markup in a result is our own <mark>. Confidentiality comes from accounts.access and the visibility selectors of the
layers below, and each type costs exactly one query (LIMIT n+1: no COUNT).
"""

from dataclasses import dataclass, field

from django.contrib.postgres.search import SearchHeadline, SearchQuery, SearchRank, SearchVectorField
from django.db import connection
from django.db.models import Case, Expression, F, FloatField, Q, Subquery, TextField, Value, When
from django.db.models.expressions import Col
from django.db.models.functions import Concat
from django.urls import reverse

from accounts import access
from attachments.checks import human_size, type_label
from attachments.models import KINDS as ATTACHMENT_KINDS
from attachments.models import RECORD_FIELDS as ATTACHMENT_RECORD_FIELDS
from attachments.models import Attachment
from attachments.selectors import record_url
from engagements.models import Commitment, Engagement, TradeMission
from engagements.selectors import commitments_for, engagements_for, missions_for
from partners.models import Agreement, Contact, Partner

from .text import (  # noqa: F401 - fold, START_SEL, STOP_SEL, WORDS_MAX: part of this module's interface
    SNIPPET_CHARS,
    START_SEL,
    STOP_SEL,
    WORDS_MAX,
    Fold,
    ensure_sqlite_fold,
    fold,
    headline_to_html,
    highlight,
    query_words,
)

SEARCH_CONFIG = "crm_unaccent"
QUERY_MAX = 200
PER_TYPE_LIMIT = 5  # on the "all types" page; "more" links go to one type's pages
PAGE_SIZE = 20
# On PostgreSQL only the CANDIDATES most recently created matches are ranked:
# for a common word the newest rows are read in primary-key order until that
# many match, instead of fetching every matching row (a rare word uses the
# GIN index). Ranking reads the stored vectors, never the text.
CANDIDATES = 200
MAX_PAGE = CANDIDATES // PAGE_SIZE

WEIGHT_SCORES = {"A": 1.0, "B": 0.4, "C": 0.2, "D": 0.1}  # PostgreSQL's default ts_rank weights


@dataclass(frozen=True)
class SearchType:
    key: str  # the ?type= value
    label: str
    plural: str
    fields: tuple[tuple[str, str], ...]  # (field, weight A-D); the first is the title
    list_url: str  # the type's own list page, which takes ?q= ("": none)
    # The title highlighted in Python rather than by ts_headline: a file name is not prose
    # (PostgreSQL's parser reads "minutes.pdf" as one host name, so nothing in it would be marked).
    title_in_python: bool = False

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
    SearchType("document", "Document", "Documents", (("filename", "A"), ("text", "D")), "", title_in_python=True),
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
    "document": Attachment,
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
    if key == "document":
        return Attachment.objects.visible_to(user)  # as visible as the record it is kept with
    raise ValueError(key)


# What a document's result names its record by.
RECORD_LABELS = {
    "engagement": ("Engagement", "title"),
    "mission": ("Trade mission", "name"),
    "commitment": ("Commitment", "description"),
    "gift": ("Gift", "description"),
    "partner": ("Partner", "name"),
    "agreement": ("Agreement", "title"),
}


def shaped(search_type: SearchType, queryset, *, with_text: bool = False):
    """`queryset` with what a result row shows (one query, no prefetch). A document's text is read only when the
    snippet is cut in Python (`with_text`, the SQLite fallback): PostgreSQL returns just the snippet."""
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
    if key == "document":
        records = [f"{field}__{RECORD_LABELS[kind][1]}" for kind, (_, field) in ATTACHMENT_KINDS.items()]
        fields = ["id", "filename", "content_type", "size", "uploaded_at", *ATTACHMENT_RECORD_FIELDS, *records]
        # defer(None): the manager defers the text; only() then names exactly what is read.
        return queryset.defer(None).select_related(*ATTACHMENT_RECORD_FIELDS).only(*fields, *(["text"] if with_text else []))
    raise ValueError(key)


def base_queryset(search_type: SearchType, user):
    """What `user` may see of one type, with what a result row shows."""
    return shaped(search_type, visible_queryset(search_type, user))


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
        if key == "document":
            return record_url(obj.kind, self.record)
        return reverse("partners:agreement-detail", args=[obj.pk])

    @property
    def record(self):
        """A document's record (loaded with it)."""
        return getattr(self.obj, ATTACHMENT_KINDS[self.obj.kind][1])

    @property
    def download_url(self) -> str:
        return reverse("attachments:download", args=[self.obj.pk]) if self.type.key == "document" else ""

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
        elif key == "document":
            label, name = RECORD_LABELS[o.kind]
            record = str(getattr(self.record, name))
            parts = [type_label(o.content_type), human_size(o.size),
                     f"{label}: {record[:80]}{'…' if len(record) > 80 else ''}"]
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
    annotations = {"search_rank": SearchRank(StoredVector(), query)}
    if not search_type.title_in_python:
        annotations["search_title"] = SearchHeadline(
            search_type.title_field, query, config=SEARCH_CONFIG, start_sel=START_SEL, stop_sel=STOP_SEL,
            highlight_all=True,
        )
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


def _title_html(search_type: SearchType, row, words: list[str]) -> str:
    if search_type.title_in_python:
        return highlight(getattr(row, search_type.title_field), words, limit=None)
    return headline_to_html(row.search_title)


def _search_postgres(search_type: SearchType, user, q: str, words: list[str], offset: int, limit: int):
    rows = postgres_queryset(search_type, user, q)[offset : offset + limit + 1]
    hits = [
        Hit(
            type=search_type,
            obj=row,
            title_html=_title_html(search_type, row, words),
            snippet_html=headline_to_html(getattr(row, "search_snippet", "")),
            rank=row.search_rank,
        )
        for row in rows
    ]
    return hits


def _search_fallback(search_type: SearchType, user, words: list[str], offset: int, limit: int):
    ensure_sqlite_fold()
    folded = {f"fold_{name}": Fold(F(name)) for name, _ in search_type.fields}
    queryset = shaped(search_type, visible_queryset(search_type, user), with_text=True).alias(**folded)
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
        hits = _search_postgres(search_type, user, q, words, offset, limit)
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

