"""Plain data passed in and out of the recommender: no Flask, no SQLAlchemy."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any, Literal


@dataclass(frozen=True)
class ProductRecord:
    """A product as read from a catalog file, before it has a database id."""

    external_id: str
    title: str
    description: str = ""
    brand: str = ""
    category: str = ""
    tags: tuple[str, ...] = ()
    price: float | None = None
    currency: str = "USD"
    url: str = ""
    image_url: str = ""
    available: bool = True
    attributes: Mapping[str, Any] = field(default_factory=dict)

    @property
    def top_category(self) -> str:
        """Return the first segment of the category path ("Outerwear" of "Outerwear > Fleece")."""
        return self.category.split(">")[0].strip()

    def as_item(self, item_id: int = 0) -> CatalogItem:
        """Return the record as a :class:`CatalogItem` with the given id."""
        return CatalogItem(**{f.name: getattr(self, f.name) for f in fields(self)}, id=item_id)


# The product's fields, declared once (those of ProductRecord, in its order): the stored product's
# columns, the column mapping, the admin's mapping form and the API's product and item bodies
# derive from this list.
PRODUCT_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(ProductRecord))
# The fields a catalog file's column may feed, as files, column mappings and the API name them:
# the shop's own id is "id" there, and ``attributes`` gather every other column.
FILE_FIELDS: tuple[str, ...] = tuple("id" if name == "external_id" else name for name in PRODUCT_FIELDS[:-1])


@dataclass(frozen=True)
class CatalogItem(ProductRecord):
    """A stored product as the recommender sees it: a record with its database id."""

    id: int = 0


@dataclass(frozen=True)
class QueryPart:
    """A piece of text that expresses what the shopper wants, with its weight.

    ``cacheable`` marks texts that repeat across shoppers (option labels, signals), whose
    embeddings are worth caching; free text typed by a shopper is not cached.
    """

    text: str
    weight: float
    cacheable: bool = True


@dataclass(frozen=True)
class Boost:
    """Raise the score of items whose attribute holds a value, and say why."""

    attribute: str
    value: str
    weight: float
    reason: str


@dataclass(frozen=True)
class PriceRange:
    """An inclusive budget; either end may be open."""

    low: float | None = None
    high: float | None = None

    def contains(self, price: float | None) -> bool:
        """Return whether ``price`` lies inside the range (unknown prices never do)."""
        if price is None:
            return False
        if self.low is not None and price < self.low:
            return False
        return not (self.high is not None and price > self.high)


@dataclass(frozen=True)
class Preferences:
    """Everything the recommender needs to know about one shopper's answers."""

    parts: tuple[QueryPart, ...]
    budget: PriceRange | None = None
    categories: frozenset[str] = frozenset()
    excluded_categories: frozenset[str] = frozenset()
    boosts: tuple[Boost, ...] = ()
    keywords: tuple[str, ...] = ()
    # Hard attribute filters: each attribute must hold one of its values ("materials": {"merino"}).
    attribute_filters: tuple[tuple[str, frozenset[str]], ...] = ()
    pinned: tuple[str, ...] = ()  # external ids always shown first (the merchant's picks)
    excluded_items: frozenset[str] = frozenset()  # external ids never shown
    # What the shopper typed, for exact-word matching; never option labels or filter values.
    search_text: str = ""
    # Soft exclusions: items whose attribute holds one of these values ("gender": {"men"} for a
    # shopper who answered "Woman") come only when too few others fit, marked as such.
    avoided: tuple[tuple[str, frozenset[str]], ...] = ()
    # The shopper's language when their text does not say ("es" for the Spanish quiz), or "".
    language: str = ""


ReasonKind = Literal[
    "words",  # the item's text has words the shopper typed: ``words``
    "boost",  # an answer's boost matched; ``text`` is the merchant's reason for it
    "category",  # in ``category``, a category the shopper picked
    "budget",  # within the shopper's ``budget`` (prices in ``currency``)
    "pinned",  # the merchant pins the item for the shopper's answers
    "close",  # near the meaning of what the shopper typed
    "fit",  # near the meaning of the shopper's choices
    "over_budget",  # fallback: a little over the budget
    "outside_budget",  # fallback: outside the budget
    "other_category",  # fallback: from ``category``, outside the categories picked
    "avoided",  # fallback: holds a value the shopper's answer sets aside (a cut for men, for a woman)
]


@dataclass(frozen=True)
class Reason:
    """Why an item was picked, as data: the application words it in the shopper's language."""

    kind: ReasonKind
    words: tuple[str, ...] = ()
    text: str = ""
    category: str = ""
    budget: PriceRange | None = None
    currency: str = ""


@dataclass(frozen=True)
class Recommendation:
    """A ranked item with its score and the reasons shown to the shopper.

    ``fallback`` marks items that do not meet every filter, offered because too few did.
    """

    item_id: int
    score: float
    reasons: tuple[Reason, ...]
    fallback: bool = False


@dataclass(frozen=True)
class Diversity:
    """How much to trade relevance for variety in the first page of results.

    ``weight`` is the MMR trade-off (0 = by relevance alone); ``per_group`` caps the items of one
    leaf category and of one brand (0 = no cap).
    """

    weight: float = 0.15
    per_group: int = 4


NO_DIVERSITY = Diversity(weight=0.0, per_group=0)
