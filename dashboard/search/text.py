"""Search text helpers: the query's words, the safe highlighter, ts_headline's output as HTML, the SQLite fold.

Snippets are always built from escaped text: the only markup in a result is
our own <mark>.
"""

import re

from django.db import connection
from django.db.models import Func, TextField
from django.utils.html import escape
from django.utils.safestring import mark_safe

from diplomacy_crm.text import fold

WORDS_MAX = 8
SNIPPET_CHARS = 220

# Private-use characters mark the highlights in ts_headline's output; the
# text is escaped first and only then are they turned into <mark> tags.
START_SEL, STOP_SEL = "\ue000", "\ue001"


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
        # A word starts after anything but a letter or digit (an underscore too: "signed_mou.pdf").
        alternatives = "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))
        pattern = re.compile(r"(?<![^\W_])(?:" + alternatives + r")[^\W_]*")
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


def ensure_sqlite_fold() -> None:
    # Registering a function is a C call on the connection, not a query; doing
    # it on every search keeps it working after a reconnect.
    connection.ensure_connection()
    connection.connection.create_function("crm_fold", 1, fold, deterministic=True)


