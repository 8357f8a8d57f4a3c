"""Text helpers shared by the importer and the duplicate finder: name keys and country names.

Real files spell the same thing many ways ("Viet Nam"/"Vietnam", "Korea, South"/
"Korea, Republic of", "São Tomé"/"Sao Tome", curly apostrophes); these turn
them into comparable keys and ISO 3166 alpha-2 codes.
"""

import re

from django_countries import countries

from diplomacy_crm.text import strip_accents

_SPACES = re.compile(r"\s+")
_NON_WORD = re.compile(r"[^\w\s]")
_PARENS = re.compile(r"\s*\(([^()]*)\)\s*")


def name_key(text: str) -> str:
    """The matching key of a name: accents, case and spacing ignored ("São  Paulo" == "sao paulo")."""
    return _SPACES.sub(" ", strip_accents(text or "").casefold()).strip()


# Words that say nothing about which body it is, for fuzzy comparison only.
_NOISE = {"the", "of", "de", "del", "la", "le", "el", "and", "city", "municipality", "ville", "stadt", "gemeinde"}


def loose_key(text: str) -> str:
    """A looser key for spotting likely duplicates: punctuation and filler words dropped too."""
    words = _NON_WORD.sub(" ", name_key(text)).split()
    kept = [w for w in words if w not in _NOISE]
    return " ".join(kept or words)


# Names the django-countries lookup misses, as found in the real files
# (State Department, Wikidata), keyed by name_key() with "&" spelled "and".
COUNTRY_ALIASES = {
    "korea, south": "KR",
    "korea, republic of": "KR",
    "republic of korea": "KR",
    "korea": "KR",
    "korea, north": "KP",
    "korea, democratic people's republic of": "KP",
    "people's republic of china": "CN",
    "china, people's republic of": "CN",
    "prc": "CN",
    "republic of china": "TW",
    "china, republic of": "TW",
    "burma": "MM",
    "cape verde": "CV",
    "cote d'ivoire": "CI",
    "ivory coast": "CI",
    "east timor": "TL",
    "timor leste": "TL",
    "congo, democratic republic of": "CD",
    "congo, democratic republic of the": "CD",
    "democratic republic of the congo": "CD",
    "zaire": "CD",
    "congo, republic of": "CG",
    "congo, republic of the": "CG",
    "republic of the congo": "CG",
    "federated states of micronesia": "FM",
    "micronesia, federated states of": "FM",
    "germany, federal republic of": "DE",
    "federal republic of germany": "DE",
    "kingdom of the netherlands": "NL",
    "the netherlands": "NL",
    "holland": "NL",
    "kingdom of hungary": "HU",
    "kyrgyz republic": "KG",
    "kirghizia": "KG",
    "macedonia, former yugoslav republic of": "MK",
    "republic of macedonia": "MK",
    "republic of ireland": "IE",
    "sao tome and principe": "ST",
    "slovak republic": "SK",
    "somali republic": "SO",
    "st. kitts and nevis": "KN",
    "st. christopher and nevis": "KN",
    "st. lucia": "LC",
    "st. vincent and the grenadines": "VC",
    "the bahamas": "BS",
    "the gambia": "GM",
    "vatican": "VA",
    "vatican city": "VA",
    "western samoa": "WS",
    "samoa": "WS",
    "uk": "GB",
    "great britain": "GB",
    "britain": "GB",
    "england": "GB",
    "scotland": "GB",
    "wales": "GB",
    "northern ireland": "GB",
    "usa": "US",
    "u.s.": "US",
    "u.s.a.": "US",
    "united states": "US",
    "america": "US",
    "uae": "AE",
    "emirates": "AE",
    "czechia": "CZ",
    "turkiye": "TR",
    "swaziland": "SZ",
    "palestinian territories": "PS",
    "palestinian authority": "PS",
    "palestinian national authority": "PS",
    "west bank": "PS",
    "bosnia": "BA",
    "bosnia-herzegovina": "BA",
    "kosovo": "XK",
    "muscat and oman": "OM",
    "ceylon": "LK",
    "siam": "TH",
    "upper volta": "BF",
    "dahomey": "BJ",
    "byelorussia": "BY",
    "malaya": "MY",
    "tanganyika": "TZ",
    "khmer republic": "KH",
    "southern rhodesia": "ZW",
    "zimbabwe rhodesia": "ZW",
}


def _normal_country_text(text: str) -> str:
    text = name_key(text).replace("’", "'").replace("‘", "'").replace("&", "and")
    return text


def country_code(value: str) -> str | None:
    """The ISO 3166 alpha-2 code for a code or a country name, or None when unknown.

    Tries, in order: an alpha-2 or alpha-3 code; django-countries' names
    (official and common); the alias table; the text without a parenthesis
    ("Burma (Myanmar)"), then the parenthesis itself ("Upper Volta (Burkina Faso)";
    "Yugoslavia (Kosovo)" is a historical state, so only whole names count);
    "A, B" read as "B A" ("Korea, South" → "South Korea").
    """
    raw = (value or "").strip()
    if not raw:
        return None
    if len(raw) == 2 and raw.isalpha():
        code = raw.upper()
        if code in countries or code == "XK":
            return code
    if len(raw) == 3 and raw.isalpha():
        code = countries.alpha2(raw.upper())
        if code:
            return code
    return _country_by_name(raw, depth=0)


def _country_by_name(raw: str, depth: int) -> str | None:
    code = countries.by_name(raw) or countries.by_name(strip_accents(raw))
    if code:
        return code
    key = _normal_country_text(raw)
    if key in COUNTRY_ALIASES:
        return COUNTRY_ALIASES[key]
    code = countries.by_name(key)
    if code:
        return code
    if depth:
        return None
    inside = _PARENS.findall(raw)
    outside = _PARENS.sub(" ", raw).strip()
    if inside and outside:
        # "Burma (Myanmar)", "Upper Volta (Burkina Faso)": either name may be the current one,
        # but a historical state with a region in brackets ("Yugoslavia (Kosovo)") stays unknown.
        found = _country_by_name(outside, depth + 1)
        if found:
            return found
        for part in inside:
            found = _country_by_name(part, depth + 1)
            if found and _normal_country_text(outside) not in _HISTORICAL:
                return found
        return None
    if "," in raw:
        head, _, tail = raw.partition(",")
        return _country_by_name(f"{tail.strip()} {head.strip()}", depth + 1)
    if key.startswith("the "):
        return _country_by_name(raw.strip()[4:], depth + 1)
    return None


# States that no longer exist: their rows are errors, never silently a successor.
_HISTORICAL = {"yugoslavia", "serbia-montenegro", "serbia and montenegro", "u.s.s.r.", "ussr", "czechoslovakia",
               "prussia", "german democratic republic"}
