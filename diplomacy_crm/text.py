"""Accent folding, the one rule for comparing text without accents or case (search, importer, duplicates)."""

import unicodedata

from django.db.models import F, Func, Q, TextField, Value


def strip_accents(text: str) -> str:
    """The text without its combining marks: strip_accents("São Zürich") == "Sao Zurich"."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def fold_char(char: str) -> str:
    """One character, lower-cased and without accents, still one character (positions stay aligned)."""
    return (strip_accents(char) or char).lower()[:1] or char


def fold(text: str | None) -> str:
    """Lower-case and strip accents, one character for one: fold("São Zürich") == "sao zurich"."""
    if not text:
        return ""
    return "".join(fold_char(c) if ord(c) > 127 or c.isupper() else c for c in text)


# --- Folding in the database ------------------------------------------------
#
# `crm_fold(text)` exists on both databases: on PostgreSQL it is a SQL
# function, lower(unaccent(text)), made by diplomacy_crm/migrations/0002 (the
# same unaccent dictionary the search configuration `crm_unaccent` uses); on
# SQLite it is `fold` above, registered on every new connection
# (diplomacy_crm/apps.py). List and API filters compare folded text on both
# sides: "Sao Paulo", "SÃO PAULO" and "são paulo" all find "São Paulo".

FOLD_FUNCTION = "crm_fold"


class Fold(Func):
    """crm_fold(expression): the expression lower-cased and without accents, in the database."""

    function = FOLD_FUNCTION
    output_field = TextField()


def register_sqlite_fold(sender=None, connection=None, **kwargs) -> None:
    """connection_created receiver: give a new SQLite connection the `crm_fold` function."""
    if connection is not None and connection.vendor == "sqlite":
        connection.connection.create_function(FOLD_FUNCTION, 1, fold, deterministic=True)


def folded_match(queryset, fields, text: str, *, max_words: int = 10):
    """`queryset` narrowed to rows where every word of `text` appears, folded, in one of `fields`.

    One WHERE clause, no extra query: `crm_fold(field) LIKE '%' || crm_fold(word) || '%'`
    for each word (LIKE wildcards in the word are escaped).
    """
    words = [w for w in (text or "").split()[:max_words] if w]
    if not words:
        return queryset
    aliases = {f"crm_fold_{i}": Fold(F(name)) for i, name in enumerate(fields)}
    queryset = queryset.alias(**aliases)
    for word in words:
        match = Q()
        for alias in aliases:
            match |= Q(**{f"{alias}__contains": Fold(Value(fold(word)))})
        queryset = queryset.filter(match)
    return queryset
