"""When two partner names are the same body, or may be: one rule for the duplicates page and the new-partner check.

Names are compared word by word after folding accents, capitals and
punctuation (diplomacy_crm.text) and dropping linking words ("of", "the",
"de", "la"…):

- the same words → the same name (100 % when only spacing or capitals
  differ, 98 % when accents do — "Löhne" / "Lohne" —, 95 % when the order,
  punctuation or linking words do — "Korea, South" / "South Korea");
- every word paired with an equal one or one a typo away ("Foregn" /
  "Foreign"; one edit in a word of 5–7 letters, two from 8)
  → similar, at the names' own similarity (difflib), below 95 %;
- the only other words say what kind of body it is ("City of Paris" /
  "Paris", "Malmö Municipality" / "Malmö", "Ville de Paris" / "City of
  Paris") → similar, 90 %, and the reason names the words;
- any other extra word ("Ministry of Foreign Affairs" / "… and Trade"), or
  "city" or "town" right after a name, where it is part of a place's own
  name ("Government of Mexico" / "Government of Mexico City") → not the
  same body, never a match.

Kind and country are compared by the callers (imports.duplicates for the
duplicates page, `similar_partners()` below for a new partner), each saying
which of them agree in the match's reasons.
"""

import re
from dataclasses import dataclass, field
from difflib import SequenceMatcher

from diplomacy_crm.text import fold, strip_accents

THRESHOLD = 0.85

LINKING_WORDS = frozenset({
    "the", "of", "and", "for", "in", "at", "on", "to", "a", "an",
    "de", "del", "della", "delle", "dei", "des", "du", "d", "la", "le", "les", "l", "el", "los", "las",
    "et", "und", "y", "e", "di", "da", "do", "dos", "das", "der", "den", "het", "van", "von", "zu",
})  # fmt: skip

# Words that say what kind of body it is, not which one: "City of Paris" is Paris.
DESIGNATORS = frozenset({
    "city", "town", "village", "municipality", "municipal", "metropolitan", "borough", "county",
    "ville", "commune", "mairie", "stadt", "gemeinde", "landeshauptstadt", "comune", "municipio", "municipalidad",
    "ciudad", "cidade", "prefeitura", "ayuntamiento", "government", "council", "office",
})  # fmt: skip

_NOT_WORD = re.compile(r"[^\w]+")


def name_words(name: str) -> list[str]:
    """The words of a name that identify it: folded, without punctuation or linking words."""
    words = _NOT_WORD.sub(" ", fold(name or "").replace("_", " ")).split()
    kept = [w for w in words if w not in LINKING_WORDS]
    return kept or words


@dataclass
class NameMatch:
    score: float
    reason: str
    extra_words: list[str] = field(default_factory=list)

    @property
    def percent(self) -> int:
        return round(self.score * 100)


def _ratio(a: str, b: str) -> float:
    return SequenceMatcher(None, a, b).ratio()


def _typo(a: str, b: str) -> bool:
    """Two words one typo apart: 1 edit in words of 5 to 7 letters, 2 from 8 ("Foregn"/"Foreign", not "Austria"/"Australia")."""
    shortest = min(len(a), len(b))
    allowed = 0 if shortest < 5 else 1 if shortest < 8 else 2
    return allowed > 0 and abs(len(a) - len(b)) <= allowed and _edits(a, b, allowed) <= allowed


def _edits(a: str, b: str, limit: int) -> int:
    """Levenshtein distance, given up (limit + 1) once it exceeds `limit`."""
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        if min(current) > limit:
            return limit + 1
        previous = current
    return previous[-1]


def _pair_words(first: list[str], second: list[str]) -> tuple[list[str], list[str]]:
    """Pair each word of `first` with an equal or near-identical word of `second`; the words left over on each side."""
    left = list(second)
    unpaired = []
    for word in first:
        if word in left:
            left.remove(word)
            continue
        near = [w for w in left if _typo(w, word)]
        if near:
            left.remove(max(near, key=lambda w: _ratio(w, word)))
        else:
            unpaired.append(word)
    return unpaired, left


def compare_names(first: str, second: str) -> NameMatch | None:
    """How alike two partner names are, and why; None when they name different bodies (see the module's rule)."""
    a, b = name_words(first), name_words(second)
    if not a or not b:
        return None
    if sorted(a) == sorted(b):
        spaced = (" ".join((first or "").split()), " ".join((second or "").split()))
        if spaced[0].casefold() == spaced[1].casefold():
            return NameMatch(1.0, "same name")
        if strip_accents(spaced[0]).casefold() == strip_accents(spaced[1]).casefold():
            return NameMatch(0.98, "same name after folding accents")
        return NameMatch(0.95, "same words (order, punctuation or “of”, “the”… aside)")
    only_a, only_b = _pair_words(a, b)
    extra = only_a + only_b
    if not extra:
        score = min(0.94, max(_ratio(" ".join(a), " ".join(b)), _ratio(" ".join(sorted(a)), " ".join(sorted(b)))))
        return NameMatch(score, f"names {round(score * 100)} % similar") if score >= THRESHOLD else None
    shared_name = any(w not in DESIGNATORS for w in a if w not in only_a)  # "Paris" in both, not just "City"
    if (shared_name and all(w in DESIGNATORS for w in extra)
            and not _names_a_place(only_a, a) and not _names_a_place(only_b, b)):
        quoted = " / ".join(", ".join(f"“{w}”" for w in side) for side in (only_a, only_b) if side)
        return NameMatch(0.9, f"same name but for {quoted}", extra)
    return None  # a word that names something else


# After a name, these are part of a place's own name: "Mexico City", "Quebec City", "Cape Town".
PLACE_SUFFIXES = frozenset({"city", "town"})


def _names_a_place(extra: list[str], words: list[str]) -> bool:
    """True when an extra word is part of a place's own name ("Mexico City"), not a designator ("City of Paris")."""
    for word in extra:
        index = words.index(word)
        if word in PLACE_SUFFIXES and index > 0 and words[index - 1] not in DESIGNATORS:
            return True
    return False


# --- The new-partner check --------------------------------------------------------------------------------------

SUGGESTIONS_MAX = 5


@dataclass
class SimilarPartner:
    partner: object
    match: NameMatch
    reasons: list[str]


def _stems(words: list[str]) -> set[str]:
    return {w[:4] for w in words if w not in DESIGNATORS} or {w[:4] for w in words}


def similar_partners(partners, *, name: str, country: str = "", kind: str = "", exclude_pk=None) -> list[SimilarPartner]:
    """Partners of `partners` (a queryset the user may see) that may be the one being created.

    A similar name (compare_names) in the same country or of the same kind; the
    closest first, then those in the same country. One query.
    """
    country = str(getattr(country, "code", country) or "")
    words = name_words(name)
    if not words or not (country or kind):
        return []
    from django.db.models import Q

    scope = Q(kind=kind) if kind else Q()
    if country:
        scope = scope | Q(country=country) if kind else Q(country=country)
    rows = partners.filter(scope)
    if exclude_pk:
        rows = rows.exclude(pk=exclude_pk)
    stems = _stems(words)
    found = []
    for partner in rows.only("pk", "name", "kind", "country", "city", "status").order_by("name", "pk").iterator():
        other = name_words(partner.name)
        if not stems & {w[:4] for w in other} and not set(words) & set(other):
            continue
        match = compare_names(name, partner.name)
        if match is None:
            continue
        reasons = [match.reason]
        if country and partner.country == country:
            reasons.append(f"same country ({partner.country.name})")
        if kind and partner.kind == kind:
            reasons.append(f"same kind ({partner.get_kind_display()})")
        found.append(SimilarPartner(partner, match, reasons))
    found.sort(key=lambda s: (-s.match.score, -len(s.reasons), s.partner.name, s.partner.pk))
    return found[:SUGGESTIONS_MAX]
