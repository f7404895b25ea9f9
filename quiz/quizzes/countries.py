"""Country choices for `country` questions: ISO 3166-1 codes (pycountry) named in each language (CLDR, via Babel)."""

from __future__ import annotations

import unicodedata
from functools import lru_cache

import pycountry
from babel import Locale, UnknownLocaleError


@lru_cache(maxsize=8)
def country_names(locales: tuple[str, ...]) -> tuple[tuple[str, dict[str, str]], ...]:
    """Return ``(alpha-2 code, {locale: name})`` for every country, sorted by the first locale's names.

    A language CLDR does not know falls back to the English (pycountry) name.
    """
    territories = {}
    for code in locales:
        try:
            territories[code] = Locale.parse(code.replace("-", "_")).territories
        except (UnknownLocaleError, ValueError):
            territories[code] = {}
    rows = []
    for country in pycountry.countries:
        english = getattr(country, "common_name", None) or country.name
        rows.append(
            (country.alpha_2, {code: names.get(country.alpha_2, english) for code, names in territories.items()})
        )
    return tuple(sorted(rows, key=lambda row: sort_key(row[1][locales[0]])))


def sort_key(name: str) -> str:
    """Return a key that sorts names as people expect: "Österreich" with the O's, case ignored."""
    return unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().casefold()
