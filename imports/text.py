"""Text helpers shared by the importer and the duplicate finder: name keys and country names.

Real files spell the same thing many ways ("Viet Nam"/"Vietnam", "Korea, South"/
"Korea, Republic of", "São Tomé"/"Sao Tome", curly apostrophes); these turn
them into comparable keys and ISO 3166 alpha-2 codes.
"""

import functools
import re

from partners.countries import COUNTRY_ALIASES, resolve_country  # noqa: F401 (re-exported)

from diplomacy_crm.text import strip_accents

_SPACES = re.compile(r"\s+")
_NON_WORD = re.compile(r"[^\w\s]")


@functools.lru_cache(maxsize=65536)
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


# The country resolver lives with the country field (partners/countries.py); the importer's name for it.
country_code = resolve_country
