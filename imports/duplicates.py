"""Likely duplicate partners and contacts, for the officers' duplicates page.

Partners: the same country, the same kind (or one of them "Other", the kind
of a record nobody classified), and names that partners.similarity calls
alike — the one rule the new-partner check uses too. A national government
and a city are never a pair, nor are "Government of Mexico" and "Government
of Mexico City" (an extra word that names another place). Each pair says why
it was found: "same name after folding accents; same country (Germany);
same kind (City or region)", "names 92 % similar; …".

Contacts: the same email, or the same partner and similar names (titles
ignored; difflib's ratio ≥ 0.85).

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
from partners.similarity import compare_names, name_words

from .importer import split_titles
from .text import loose_key

THRESHOLD = 0.85
MAX_BLOCK = 200


@dataclass
class Pair:
    first: object
    second: object
    score: float
    reason: str  # every reason, joined: what the page shows

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


def _kinds_compatible(first: str, second: str) -> bool:
    return first == second or Partner.Kind.OTHER in (first, second)


def partner_duplicates(limit: int = 100) -> list[Pair]:
    """Pairs of partners in one country, of one kind, with alike names; most alike first (at most `limit`)."""
    rows = {pk: (name, kind, country or "") for pk, name, kind, country in
            Partner.objects.values_list("pk", "name", "kind", "country")}
    by_country = defaultdict(dict)
    for pk, (name, _kind, country) in rows.items():
        by_country[country][pk] = " ".join(name_words(name))
    scored = {}
    for keys in by_country.values():
        for members in _blocks(keys).values():
            if len(members) < 2 or len(members) > MAX_BLOCK:
                continue
            for a, b in combinations(sorted(members), 2):
                if (a, b) in scored or not _kinds_compatible(rows[a][1], rows[b][1]):
                    continue
                match = compare_names(rows[a][0], rows[b][0])
                if match is not None and match.score >= THRESHOLD:
                    scored[(a, b)] = match
    best = sorted(scored.items(), key=lambda item: (-item[1].score, item[0]))[:limit]
    partners = Partner.objects.in_bulk({pk for pair, _ in best for pk in pair})
    return [
        Pair(partners[a], partners[b], match.score, "; ".join([match.reason, *_agreements(partners[a], partners[b])]))
        for (a, b), match in best
        if a in partners and b in partners
    ]


def _agreements(first: Partner, second: Partner) -> list[str]:
    """What else the two have in common: the country, the kind (or that one has none)."""
    said = [f"same country ({first.country.name})" if first.country else "both without a country"]
    if first.kind == second.kind:
        said.append(f"same kind ({first.get_kind_display()})")
    else:
        other = second if first.kind == Partner.Kind.OTHER else first
        said.append(f"kind “Other” on one, {other.get_kind_display()} on the other")
    return said


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
            scored.setdefault(pair, (ratio, f"same partner; names {round(ratio * 100)} % similar"))
    best = sorted(scored.items(), key=lambda item: (-item[1][0], item[0]))[:limit]
    contacts = Contact.objects.select_related("partner").in_bulk({pk for pair, _ in best for pk in pair})
    return [
        Pair(contacts[a], contacts[b], score, reason)
        for (a, b), (score, reason) in best
        if a in contacts and b in contacts
    ]


def why_partners_alike(first: Partner, second: Partner) -> str:
    """The duplicates page's reasons for one pair (for the merge page), or what sets them apart."""
    match = compare_names(first.name, second.name)
    said = [match.reason if match else "names of different bodies"]
    if first.country != second.country:
        said.append("different countries")
    elif not _kinds_compatible(first.kind, second.kind):
        said.append(f"same country; different kinds ({first.get_kind_display()} / {second.get_kind_display()})")
    else:
        said.extend(_agreements(first, second))
    return "; ".join(said)


def why_contacts_alike(first: Contact, second: Contact) -> str:
    """The duplicates page's reason for one pair of contacts (for the merge page), or what sets them apart."""
    said = []
    if first.email and second.email and first.email.strip().casefold() == second.email.strip().casefold():
        said.append("same email")
    ratio = SequenceMatcher(None, *(loose_key(split_titles(c.full_name)[2] or c.full_name) for c in (first, second))).ratio()
    said.append(f"{'same partner' if first.partner_id == second.partner_id else 'different partners'}; "
                f"names {round(ratio * 100)} % similar")
    return "; ".join(said)


def why_alike(first, second) -> str:
    """why_partners_alike or why_contacts_alike, by the records' model."""
    return (why_contacts_alike if isinstance(first, Contact) else why_partners_alike)(first, second)
