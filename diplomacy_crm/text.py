"""Accent folding, the one rule for comparing text without accents or case (search, importer, duplicates)."""

import unicodedata


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
