"""Likely duplicate partners and contacts, for the officers' duplicates page.

Partners: the same country and similar names (accents, case, punctuation and
filler words such as "City of" ignored; difflib's ratio ≥ 0.85). Contacts:
the same email, or the same partner and similar names (titles ignored).

Pure Python on both databases, so SQLite and PostgreSQL flag the same pairs.
Candidates are blocked (names that share a word or their first letters) so
that 10,000 partners are not compared pairwise; a block shared by hundreds of
names ("embassy") is skipped as uninformative.
"""

from collections import defaultdict
from dataclasses import dataclass
from difflib import SequenceMatcher
from itertools import combinations

from partners.models import Contact, Partner

from .importer import split_titles
from .text import loose_key

THRESHOLD = 0.85
MAX_BLOCK = 200


@dataclass
class Pair:
    first: object
    second: object
    score: float
    reason: str

    @property
    def percent(self) -> int:
        return round(self.score * 100)


def _blocks(keys: dict[int, str]):
    blocks = defaultdict(set)
    for pk, key in keys.items():
        blocks["^" + key[:4]].add(pk)
        for word in key.split():
            if len(word) >= 3:
                blocks[word].add(pk)
    return blocks


def _sorted_words(key: str) -> str:
    return " ".join(sorted(key.split()))


def _ratio(a: str, b: str) -> float:
    matcher = SequenceMatcher(None, a, b)
    if matcher.real_quick_ratio() < THRESHOLD or matcher.quick_ratio() < THRESHOLD:
        return 0.0
    return matcher.ratio()


def _similar_pairs(keys: dict[int, str]) -> dict[tuple[int, int], float]:
    found = {}
    for members in _blocks(keys).values():
        if len(members) < 2 or len(members) > MAX_BLOCK:
            continue
        for a, b in combinations(sorted(members), 2):
            if (a, b) in found:
                continue
            if keys[a] == keys[b]:
                found[(a, b)] = 1.0
                continue
            # Word order does not matter either ("Korea South" / "South Korea").
            ratio = max(_ratio(keys[a], keys[b]), _ratio(_sorted_words(keys[a]), _sorted_words(keys[b])))
            if ratio >= THRESHOLD:
                found[(a, b)] = ratio
    return found


def partner_duplicates(limit: int = 100) -> list[Pair]:
    """Pairs of partners in one country with similar names, most similar first (at most `limit`)."""
    by_country = defaultdict(dict)
    for pk, name, country in Partner.objects.values_list("pk", "name", "country"):
        by_country[country or ""][pk] = loose_key(name)
    scored = {}
    for keys in by_country.values():
        scored.update(_similar_pairs(keys))
    best = sorted(scored.items(), key=lambda item: (-item[1], item[0]))[:limit]
    partners = Partner.objects.in_bulk({pk for pair, _ in best for pk in pair})
    return [
        Pair(partners[a], partners[b], score, "same name" if score == 1.0 else "similar names, same country")
        for (a, b), score in best
        if a in partners and b in partners
    ]


def contact_duplicates(limit: int = 100) -> list[Pair]:
    """Pairs of contacts with the same email, or of one partner with similar names."""
    rows = list(Contact.objects.values_list("pk", "partner_id", "full_name", "email"))
    scored: dict[tuple[int, int], tuple[float, str]] = {}
    by_email = defaultdict(list)
    by_partner = defaultdict(dict)
    for pk, partner_id, full_name, email in rows:
        if email:
            by_email[email.strip().casefold()].append(pk)
        by_partner[partner_id][pk] = loose_key(split_titles(full_name)[2] or full_name)
    for members in by_email.values():
        for a, b in combinations(sorted(members), 2):
            scored[(a, b)] = (1.0, "same email")
    for keys in by_partner.values():
        for pair, ratio in _similar_pairs(keys).items():
            scored.setdefault(pair, (ratio, "same partner, similar names"))
    best = sorted(scored.items(), key=lambda item: (-item[1][0], item[0]))[:limit]
    contacts = Contact.objects.select_related("partner").in_bulk({pk for pair, _ in best for pk in pair})
    return [
        Pair(contacts[a], contacts[b], score, reason)
        for (a, b), (score, reason) in best
        if a in contacts and b in contacts
    ]
