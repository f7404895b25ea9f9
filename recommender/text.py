"""Text shaping shared by indexing and explaining: product documents and keyword matching."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable

from .domain import CatalogItem

_WORD = re.compile(r"[a-z0-9]+(?:[-'][a-z0-9]+)*")
# Words that carry no preference on their own ("for", "something", "need").
STOPWORDS = frozenset(
    """a about above after again all also am an and any are as at be because been being below
    between both but by can could did do does doing down during each few for from further get
    got had has have having he her here hers him his how i if in into is it its just like looking
    me more most my myself need needs no nor not now of off on once only or other our out over own
    really same she should so some something somewhat such than that the their them then there
    these they thing things this those through to too under until up very want wants was we were
    what when where which while who whom why will with would you your yours""".split()
)
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


def document_hash(document: str) -> str:
    """Return the content hash of an embedded text under the current recipe."""
    return hashlib.sha256(f"recipe {DOCUMENT_RECIPE}\n{document}".encode()).hexdigest()


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


def stem(word: str) -> str:
    """Fold a word to a crude singular so "jackets" meets "jacket"."""
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


def keywords(text: str) -> tuple[str, ...]:
    """Return the distinct meaningful words of ``text``, in order."""
    words = (w for w in _WORD.findall(text.lower()) if w not in STOPWORDS and len(w) > 2)
    return tuple(dict.fromkeys(words))


def item_terms(item: CatalogItem) -> set[str]:
    """Return the stemmed words a keyword may match on: title, tags, category, facets."""
    attrs = item.attributes or {}
    parts: list[str] = [item.title, item.category, *item.tags]
    for key in ("activity", "style", "material", "materials", "colours"):
        value = attrs.get(key)
        parts.extend(str(v) for v in (value if isinstance(value, (list, tuple)) else [value]) if v)
    return {stem(w) for w in _WORD.findall(" ".join(parts).lower())}


def matched_keywords(words: Iterable[str], item: CatalogItem, limit: int = 3) -> list[str]:
    """Return up to ``limit`` of the shopper's words that the item also carries."""
    terms = item_terms(item)
    return [w for w in words if stem(w) in terms][:limit]
