"""Country names as real files write them → ISO 3166 alpha-2 codes: one resolver for every way in.

Real files spell the same country many ways ("Viet Nam"/"Vietnam", "Korea,
South"/"Republic of Korea"/"South Korea", "Côte d'Ivoire", "Türkiye", "UK",
"USA", curly apostrophes). `resolve_country(text)` tries an alpha-2 or alpha-3
code, django-countries' names, the alias table below, then the text without
or inside a parenthesis and "A, B" read as "B A". A historical state is never
silently turned into a successor (see _HISTORICAL).
"""

import functools
import re

from django_countries import countries

from diplomacy_crm.country_codes import code_for_name
from diplomacy_crm.text import strip_accents

_SPACES = re.compile(r"\s+")
_PARENS = re.compile(r"\s*\(([^()]*)\)\s*")


def _key(text: str) -> str:
    return _SPACES.sub(" ", strip_accents(text or "").casefold()).strip()


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
    "union of south africa": "ZA",
    # North Yemen: ISO 3166 gave YE to the Yemen Arab Republic, and the Republic of Yemen (1990) kept it, as
    # DE continues West Germany; South Yemen is the former YD (diplomacy_crm.country_codes).
    "yemen arab republic": "YE",
    "north yemen": "YE",
    "bosnian federation": "BA",
    "federation of bosnia and herzegovina": "BA",
    "congo (kinshasa)": "CD",
    "congo-kinshasa": "CD",
    "congo, kinshasa": "CD",
    "congo (brazzaville)": "CG",
    "congo-brazzaville": "CG",
    "congo, brazzaville": "CG",
    "macau": "MO",
    "macao": "MO",
    "south korea": "KR",
    "north korea": "KP",
    "russia": "RU",
    "viet nam": "VN",
    "czech republic": "CZ",
    "united states of america": "US",
    "united kingdom of great britain and northern ireland": "GB",
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
    text = _key(text).replace("’", "'").replace("‘", "'").replace("&", "and")
    return text


@functools.lru_cache(maxsize=4096)
def resolve_country(value: str) -> str | None:
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
    code = code_for_name(raw)  # other names of the former states ("Soviet Union", "East Germany")
    if code:
        return code
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
