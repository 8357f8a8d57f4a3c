"""Countries beyond ISO 3166-1's current list: Kosovo, and states that no longer exist (ISO 3166-3).

Real diplomatic records name the U.S.S.R., Yugoslavia, Czechoslovakia and
the German Democratic Republic; Kosovo (XK, the user-assigned code the EU,
the World Bank and most data sets use) is a country people meet today. All
of them are added to django-countries' one list (settings.COUNTRIES_OVERRIDE
is `COUNTRIES_OVERRIDE` below), so every surface that uses that list — the
model fields' validation, forms, filters, the API and its schema, the
importer's code and name lookup — accepts them and shows their names.

The former countries, and only those listed here (ISO 3166-3, dissolved or
merged states whose records cannot honestly be filed under a successor):

====  ==========================================  ===================================
Code  Shown as                                    Also recognised by name
====  ==========================================  ===================================
SU    U.S.S.R.                                    Soviet Union, USSR, Union of Soviet
                                                  Socialist Republics
YU    Yugoslavia                                  SFR / FR Yugoslavia, Serbia and
                                                  Montenegro (see below)
CS    Czechoslovakia                              Czech and Slovak Federative Republic
DD    German Democratic Republic                  East Germany, GDR
YD    South Yemen                                 Democratic Yemen, People's Democratic
                                                  Republic of Yemen
AN    Netherlands Antilles                        (dissolved in 2010)
====  ==========================================  ===================================

CS is ambiguous in ISO's own history: Czechoslovakia's code until 1993,
then Serbia and Montenegro's from 2003 to 2006. Here CS is Czechoslovakia
(its meaning for two decades, and the one diplomatic archives mostly use).
Serbia and Montenegro was the Federal Republic of Yugoslavia renamed in 2003
(same state, same numeric code 891), so its name is read as YU.

A state that was only renamed keeps its current code: Burma is MM, Zaire
CD, Ceylon LK, West Germany DE (the importer's alias table reads those
names). Such records stay together with the later ones in filters.

New records are not steered to a former country: forms list them after the
current ones, in a group of their own (`country_choices()`), while a stored
former country is always accepted and shown.
"""

import functools

KOSOVO = {"XK": {"name": "Kosovo", "alpha3": "XKX"}}

FORMER_COUNTRIES = {
    "SU": {"name": "U.S.S.R.", "alpha3": "SUN", "numeric": 810},
    "YU": {"name": "Yugoslavia", "alpha3": "YUG", "numeric": 891},
    "CS": {"name": "Czechoslovakia", "alpha3": "CSK", "numeric": 200},
    "DD": {"name": "German Democratic Republic", "alpha3": "DDR", "numeric": 278},
    "YD": {"name": "South Yemen", "alpha3": "YMD", "numeric": 720},
    "AN": {"name": "Netherlands Antilles", "alpha3": "ANT", "numeric": 530},
}

# Other names of the same states, lower case, for name lookups (the importer's
# country resolver reads these after django-countries' own names). One name per
# code stays in the country list itself, so no choice list shows a state twice.
OTHER_NAMES = {
    "soviet union": "SU",
    "ussr": "SU",
    "union of soviet socialist republics": "SU",
    "socialist federal republic of yugoslavia": "YU",
    "federal republic of yugoslavia": "YU",
    "serbia and montenegro": "YU",
    "czech and slovak federative republic": "CS",
    "czechoslovak socialist republic": "CS",
    "east germany": "DD",
    "germany, east": "DD",
    "gdr": "DD",
    "democratic yemen": "YD",
    "yemen, democratic": "YD",
    "people's democratic republic of yemen": "YD",
    "yemen, south": "YD",
    "republic of kosovo": "XK",
}

COUNTRIES_OVERRIDE = {**KOSOVO, **FORMER_COUNTRIES}

FORMER_GROUP = "Former countries (historical records)"


def code_for_name(name: str) -> str | None:
    """The code of one of the extra states' other names ("Soviet Union" → SU), or None."""
    return OTHER_NAMES.get(" ".join((name or "").replace("\u2019", "'").casefold().split()))


def is_former(code) -> bool:
    """True for a code of a state that no longer exists (FORMER_COUNTRIES)."""
    return str(getattr(code, "code", code) or "").upper() in FORMER_COUNTRIES


def country_choices() -> list:
    """Every country as (code, name), current ones first by name, then the former ones in their own group.

    The group is an optgroup in a <select>; a ChoiceField validates either kind.
    One list per language for the process: forms share it (never change it in place).
    """
    from django.utils.translation import get_language

    return _country_choices(get_language())


@functools.cache
def _country_choices(language) -> list:
    from django_countries import countries  # settings must be loaded first

    current, former = [], []
    for code, name in countries:
        (former if code in FORMER_COUNTRIES else current).append((code, name))
    return [*current, (FORMER_GROUP, former)]
