"""The one rule for "these two partner names may be the same body" (partners.similarity)."""

import pytest

from partners.similarity import compare_names


@pytest.mark.parametrize(
    ("first", "second", "percent", "reason"),
    [
        ("Seoul", "SEOUL ", 100, "same name"),
        ("Löhne", "Lohne", 98, "same name after folding accents"),
        ("Komló", "Kömlő", 98, "same name after folding accents"),
        ("Korea, South", "South Korea", 95, "same words (order, punctuation or “of”, “the”… aside)"),
        ("Consulate General of El Salvador", "Consulate-General of El Salvador", 95,
         "same words (order, punctuation or “of”, “the”… aside)"),
        ("Ministry of Foreign Affairs", "Ministry of Foregn Affairs", 94, "names 94 % similar"),
        ("City of Paris", "Paris", 90, "same name but for “city”"),
        ("Ville de Paris", "City of Paris", 90, "same name but for “ville” / “city”"),
        ("Malmö Municipality", "Malmo", 90, "same name but for “municipality”"),
        ("Government of Mexico", "Mexico", 90, "same name but for “government”"),
    ],
)
def test_alike_names_and_why(first, second, percent, reason):
    match = compare_names(first, second)
    assert match is not None
    assert (match.percent, match.reason) == (percent, reason)
    again = compare_names(second, first)
    assert again.percent == percent  # symmetric


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("Government of Mexico", "Government of Mexico City"),  # "City" after a name: another place
        ("Mexico", "Mexico City"),
        ("Ministry of Foreign Affairs", "Ministry of Foreign Affairs and Trade"),
        ("Embassy of Austria", "Embassy of Australia"),  # two edits in a 7-letter word: not a typo
        ("Embassy of Iran", "Embassy of Iraq"),  # short words must be equal
        ("Slovakia", "Slovenia"),
        ("Government", "Council"),  # designators alone name nothing
        ("Paris", "Lyon"),
        ("", "Paris"),
    ],
)
def test_different_bodies_are_never_alike(first, second):
    assert compare_names(first, second) is None
    assert compare_names(second, first) is None
