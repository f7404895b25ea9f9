"""Country choices for `country` questions (ISO 3166-1, from pycountry)."""

from __future__ import annotations

from functools import lru_cache


@lru_cache(maxsize=1)
def country_choices() -> tuple[tuple[str, str], ...]:
    """Return ``(alpha-2 code, common name)`` pairs sorted by name."""
    import pycountry

    pairs = ((c.alpha_2, getattr(c, "common_name", None) or c.name) for c in pycountry.countries)
    return tuple(sorted(pairs, key=lambda p: p[1]))
