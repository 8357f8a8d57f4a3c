"""The duplicate finder compares kind and country as well as names, and says why (issue 16).

"Government of Mexico" (the national government) and "Government of Mexico
City" (a city) were offered as a "100 % same name" merge: a national
government and a city are never a pair, and a name with an extra word that
names another place is never the same name (partners.similarity).
"""

import pytest
from django.urls import reverse

from imports.duplicates import partner_duplicates
from partners.similarity import compare_names
from tests.factories import PartnerFactory

pytestmark = pytest.mark.django_db


def _pairs() -> dict[frozenset, tuple[int, str]]:
    return {frozenset((p.first.name, p.second.name)): (p.percent, p.reason) for p in partner_duplicates()}


def test_a_national_government_and_a_city_are_never_the_same():
    PartnerFactory(name="Government of Mexico", country="MX", kind="national_government")
    PartnerFactory(name="Government of Mexico City", country="MX", kind="city")
    PartnerFactory(name="Mexico", country="MX", kind="city")
    assert _pairs() == {}
    # The same national government under a shorter name is a likely duplicate.
    PartnerFactory(name="Mexico", country="MX", kind="national_government")
    assert _pairs() == {frozenset(("Government of Mexico", "Mexico")): (
        90, "same name but for “government”; same country (Mexico); same kind (National government)")}


def test_an_extra_word_that_names_another_place_is_not_the_same_name():
    # Even of one kind (two records nobody classified), "Mexico City" is not "Mexico".
    PartnerFactory(name="Government of Mexico", country="MX", kind="other")
    PartnerFactory(name="Government of Mexico City", country="MX", kind="other")
    PartnerFactory(name="Ministry of Foreign Affairs", country="MX", kind="national_government")
    PartnerFactory(name="Ministry of Foreign Affairs and Trade", country="MX", kind="national_government")
    assert _pairs() == {}
    assert compare_names("Government of Mexico", "Government of Mexico City") is None


def test_each_pair_says_why():
    PartnerFactory(name="Löhne", country="DE", kind="city")
    PartnerFactory(name="Lohne", country="DE", kind="city")
    PartnerFactory(name="City of Paris", country="FR", kind="city")
    PartnerFactory(name="Paris", country="FR", kind="city")
    PartnerFactory(name="Ministry of Foreign Affairs", country="JP", kind="national_government")
    PartnerFactory(name="Ministry of Foregn Affairs", country="JP", kind="national_government")
    PartnerFactory(name="Korea, South", country="KR", kind="national_government")
    PartnerFactory(name="South Korea", country="KR", kind="other")
    PartnerFactory(name="Paris", country="US", kind="city")  # Paris, Texas: another country, not a pair
    assert _pairs() == {
        frozenset(("Löhne", "Lohne")): (98, "same name after folding accents; same country (Germany); "
                                            "same kind (City or region)"),
        frozenset(("Korea, South", "South Korea")): (95, "same words (order, punctuation or “of”, “the”… aside); "
                                                         "same country (South Korea); kind “Other” on one, "
                                                         "National government on the other"),
        frozenset(("Ministry of Foreign Affairs", "Ministry of Foregn Affairs")): (
            94, "names 94 % similar; same country (Japan); same kind (National government)"),
        frozenset(("City of Paris", "Paris")): (90, "same name but for “city”; same country (France); "
                                                    "same kind (City or region)"),
    }


def test_the_duplicates_page_shows_the_reasons(client, officer):
    PartnerFactory(name="Komló", country="HU", kind="city")
    PartnerFactory(name="Kömlő", country="HU", kind="city")
    PartnerFactory(name="Government of Mexico", country="MX", kind="national_government")
    PartnerFactory(name="Government of Mexico City", country="MX", kind="city")
    client.force_login(officer)
    page = client.get(reverse("imports:duplicates")).content.decode()
    assert "Partners (1)" in page
    assert "98 %" in page and "same name after folding accents; same country (Hungary); same kind (City or region)" in page
    assert "Government of Mexico" not in page


def test_the_reasons_for_one_pair_for_the_merge_page():
    from imports.duplicates import why_partners_alike

    lohne = PartnerFactory(name="Löhne", country="DE", kind="city")
    other = PartnerFactory(name="Lohne", country="DE", kind="city")
    assert why_partners_alike(lohne, other) == (
        "same name after folding accents; same country (Germany); same kind (City or region)")
    national = PartnerFactory(name="Government of Mexico", country="MX", kind="national_government")
    city = PartnerFactory(name="Government of Mexico City", country="MX", kind="city")
    assert why_partners_alike(national, city) == (
        "names of different bodies; same country; different kinds (National government / City or region)")
