"""Text shaping shared by indexing and explaining: product documents and keyword matching."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Sequence

from .domain import CatalogItem
from .language import LANGUAGES, STOPWORDS, detect, fold
from .language import stem as snowball_stem

_WORD = re.compile(r"[^\W_]+(?:[-'][^\W_]+)*")
# Longest description text embedded per product: the model truncates at 256 word pieces anyway.
DESCRIPTION_CHARS = 600
# The version of the recipe below. Bump it with any change to what is embedded: it is part of
# every content hash, so the next import of each catalog re-embeds every product.
DOCUMENT_RECIPE = 2
FACETS = ("activity", "style", "material", "materials", "gender")


def item_document(item: CatalogItem) -> str:
    """Return the text embedded for a product (recipe ``DOCUMENT_RECIPE``).

    The category path comes first, as the context that says what the product is
    ("Pet Supplies / Pet Houses & Cages: Foldable Hutch"): shoppers describe needs in those
    terms far more than in a title's words (needs-dev nDCG@10 0.486 -> 0.521, docs/relevance.md).
    Then the brand, tags and key facets, then the description, trimmed, when the model can read
    its script (the bundled model knows English; a feed's Chinese keywords only blur the vector).
    """
    category = " / ".join(p.strip() for p in item.category.split(">") if p.strip())
    head = f"{category}: {item.title}" if category else item.title
    tags = ", ".join(dict.fromkeys([*item.tags, *_facets(item)]))
    body = item.description[:DESCRIPTION_CHARS] if _mostly_latin(item.description) else ""
    return ". ".join(p for p in (head, item.brand, tags, body) if p)


def document_hash(document: str, models: Sequence[str] = ()) -> str:
    """Return the content hash of an embedded text under the current recipe and ``models``.

    The ids of the models that embed the text are part of the hash, so a product embedded by
    another model (or another set of models) counts as changed and is embedded again, once.
    """
    head = f"recipe {DOCUMENT_RECIPE}" + "".join(f"\nmodel {m}" for m in models)
    return hashlib.sha256(f"{head}\n{document}".encode()).hexdigest()


def _facets(item: CatalogItem) -> list[str]:
    attrs = item.attributes or {}
    facets: list[str] = []
    for key in FACETS:
        value = attrs.get(key)
        if isinstance(value, (list, tuple)):
            facets.extend(str(v) for v in value)
        elif value:
            facets.append(str(value))
    return facets


def _mostly_latin(text: str) -> bool:
    """Return whether most letters of ``text`` are Latin (accents included)."""
    letters = [c for c in text[:DESCRIPTION_CHARS] if c.isalpha()]
    return bool(letters) and sum(ord(c) < 0x250 for c in letters) >= 0.5 * len(letters)


def stems(word: str) -> set[str]:
    """Return the stems of a word in every language the quiz speaks ("chaquetas" -> "chaquet", ...)."""
    folded = fold(word)
    return {snowball_stem(part, language) for part in re.split(r"[-']", folded) if part for language in LANGUAGES}


def keywords(text: str) -> tuple[str, ...]:
    """Return the distinct meaningful words of ``text`` as typed, in order.

    Stop words are those of the language ``text`` is written in, so "para" goes from Spanish.
    """
    stop = STOPWORDS[detect(text)]
    words = (w for w in _WORD.findall(text.lower()) if fold(w) not in stop and len(w) > 2)
    return tuple(dict.fromkeys(words))


def item_terms(item: CatalogItem) -> set[str]:
    """Return the stems a keyword may match on (title, tags, category, facets), in every language."""
    attrs = item.attributes or {}
    parts: list[str] = [item.title, item.category, *item.tags]
    for key in ("activity", "style", "material", "materials", "colours"):
        value = attrs.get(key)
        parts.extend(str(v) for v in (value if isinstance(value, (list, tuple)) else [value]) if v)
    return {s for w in _WORD.findall(" ".join(parts).lower()) for s in stems(w)}


def matched_keywords(words: Iterable[str], item: CatalogItem, limit: int = 3) -> list[str]:
    """Return up to ``limit`` of the shopper's words (as typed) that the item also carries."""
    terms = item_terms(item)
    return [w for w in words if stems(w) & terms][:limit]
