"""Row checks shared by every format: a product being read, its problems, and the final tally."""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, fields
from typing import Any
from urllib.parse import urlsplit

from ..domain import ProductRecord
from .reading import Price, parse_price, shorten, unique
from .results import CatalogFormatError, ParsedCatalog, RowError

# Attribute names merchants use for the facets the recommender knows, folded to one key each.
_ATTRIBUTE_KEYS = {
    "size": "sizes",
    "sizes": "sizes",
    "color": "colours",
    "colour": "colours",
    "colors": "colours",
    "colours": "colours",
    "material": "materials",
    "materials": "materials",
}
LIST_ATTRIBUTES = frozenset(_ATTRIBUTE_KEYS.values())
_SHOWN_PROBLEMS = 3
# How the derived-ids warning names each origin, in the order ids are derived.
ID_ORIGIN_NAMES = {"sku": "SKU", "gtin": "GTIN", "mpn": "MPN", "url": "product URL", "hash": "hash of title and URL"}
# Longest values a product field may hold (the database columns' sizes).
FIELD_LIMITS = {"external_id": 200, "title": 500, "brand": 200, "category": 500, "url": 2000, "image_url": 2000}
_FIELD_NAMES = {"external_id": "id"}
# The largest price the database column holds (12 digits, 2 after the point).
MAX_PRICE = 9_999_999_999.99
# NUL and the other C0 controls except tab and newline, and DEL.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


@dataclass
class Draft:
    """A product as read from a file, before the row checks turn it into a record."""

    row: int
    external_id: str = ""
    title: str = ""
    description: str = ""
    brand: str = ""
    category: str = ""
    tags: tuple[str, ...] = ()
    price: float | None = None
    currency: str = "USD"
    url: str = ""
    image_url: str = ""
    available: bool = True
    attributes: dict[str, Any] = field(default_factory=dict)
    # Where a derived id came from ("sku", "gtin", "mpn", "url", "hash"); empty when the file had ids.
    id_origin: str = ""
    problems: list[RowError] = field(default_factory=list)

    def problem(self, field_name: str, message: str, row: int | None = None) -> None:
        """Record a problem that keeps this product out of the catalog."""
        self.problems.append(RowError(self.row if row is None else row, field_name, message))

    def read_price(
        self, raw: str, *, field_name: str = "price", label: str = "Price", row: int | None = None
    ) -> Price | None:
        """Parse a price cell, recording a problem when it is not a number or is negative."""
        try:
            price = parse_price(raw, label)
        except ValueError as exc:
            self.problem(field_name, str(exc), row)
            return None
        if price is not None and price.amount < 0:
            self.problem(field_name, f"{label} '{shorten(raw.strip())}' is negative.", row)
            return None
        return price

    def set_prices(self, regular: Price | None, sale: Price | None) -> None:
        """Take a regular and a sale price: a lower sale price is the price, the regular one kept aside."""
        self.set_price(regular)
        if sale is not None and (regular is None or sale.amount < regular.amount):
            self.set_price(sale)
            if regular is not None:
                self.attributes["regular_price"] = regular.amount

    def set_price(self, price: Price | None) -> None:
        """Take a parsed price: its low end as the price, the top of a range as ``price_max``."""
        if price is None:
            return
        self.price = price.amount
        if price.high is not None:
            self.attributes["price_max"] = price.high
        if price.currency:
            self.currency = price.currency

    def add_values(self, name: str, values: Iterable[str]) -> None:
        """Merge option values into the attribute list named after ``name`` ("Size" -> "sizes")."""
        key = attribute_key(name)
        merged = unique([*self.attributes.get(key, []), *values])
        if key and merged:
            self.attributes[key] = merged


def attribute_key(name: str) -> str:
    """Return the attribute key for a merchant's option name ("Colour" -> "colours", "Fit Type" -> "fit_type")."""
    key = re.sub(r"[^0-9a-z]+", "_", name.strip().lower()).strip("_").removeprefix("pa_")
    return _ATTRIBUTE_KEYS.get(key, key)


def is_web_url(value: str) -> bool:
    """Return whether ``value`` is an absolute http(s) URL."""
    if any(char.isspace() for char in value):
        return False
    parts = urlsplit(value)
    return parts.scheme.lower() in ("http", "https") and bool(parts.netloc)


def finish(drafts: Sequence[Draft], *, format_name: str, source: str) -> ParsedCatalog:
    """Check every draft, keep the valid ones as records, and report the rest row by row.

    Raises:
        CatalogFormatError: when the file holds no product at all or no valid one.
    """
    if not drafts:
        raise CatalogFormatError(f"{source} has no product rows.")
    first_seen: dict[str, int] = {}
    records: list[ProductRecord] = []
    errors: list[RowError] = []
    skipped: set[str] = set()
    for draft in drafts:
        _scrub(draft)
        # A row unreadable as a whole gets that one message, not a missing title and id as well.
        unreadable = any(not problem.field for problem in draft.problems)
        problems = draft.problems if unreadable else [*draft.problems, *_check(draft, first_seen)]
        if problems:
            errors.extend(problems)
            if draft.external_id:
                skipped.add(draft.external_id)
        else:
            records.append(_record(draft))
    errors.sort(key=lambda error: error.row)
    if not records:
        shown = "; ".join(f"row {e.row}: {e.message}" for e in errors[:_SHOWN_PROBLEMS])
        raise CatalogFormatError(f"{source} has no valid product rows: first problems: {shown}")
    kept = {r.external_id for r in records}
    warnings = tuple(w for w in (derived_ids_warning(drafts),) if w)
    return ParsedCatalog(format_name, records, errors, len(drafts), frozenset(skipped - kept), warnings)


def derived_ids_warning(drafts: Sequence[Draft]) -> str:
    """Return the warning that a file had no id column, saying where the ids came from ("" if it had one)."""
    origins = Counter(d.id_origin for d in drafts if d.id_origin)
    if not origins:
        return ""
    parts = ", ".join(f"{origins[o]} from the {ID_ORIGIN_NAMES[o]}" for o in ID_ORIGIN_NAMES if origins[o])
    return (
        f"The file has no id column, so product ids were derived ({parts}). Importing the file again updates "
        "these products; a product whose SKU, GTIN, MPN or URL changes becomes a new product. "
        "Add an id column, or map one, to choose ids yourself."
    )


def _scrub(draft: Draft) -> None:
    """Remove what no database should hold: control characters in text, non-finite numbers."""
    for name in ("external_id", "title", "description", "brand", "category", "url", "image_url"):
        value = getattr(draft, name)
        if _CONTROL.search(value):
            setattr(draft, name, _CONTROL.sub(" " if name in ("title", "description") else "", value).strip())
    draft.tags = tuple(_CONTROL.sub("", t) for t in draft.tags)
    draft.attributes = {k: v for k, v in draft.attributes.items() if _storable(v)}


def _storable(value: Any) -> bool:
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, (list, tuple)):
        return all(_storable(v) for v in value)
    if isinstance(value, dict):
        return all(_storable(v) for v in value.values())
    return True


def _check(draft: Draft, first_seen: dict[str, int]) -> list[RowError]:
    """Return the problems the shared rules find in one draft."""
    problems: list[RowError] = []
    if not draft.title:
        problems.append(RowError(draft.row, "title", "Title is missing."))
    if not draft.external_id:
        problems.append(RowError(draft.row, "id", "Product id is missing."))
    elif draft.external_id in first_seen:
        seen = first_seen[draft.external_id]
        message = f"Duplicate id '{shorten(draft.external_id)}' (first seen on row {seen})."
        if draft.id_origin:
            message = (
                f"Same derived id '{shorten(draft.external_id)}' as row {seen} (from the "
                f"{ID_ORIGIN_NAMES[draft.id_origin]}): give one of them a SKU or an id."
            )
        problems.append(RowError(draft.row, "id", message))
    else:
        first_seen[draft.external_id] = draft.row
    for name, limit in FIELD_LIMITS.items():
        value = getattr(draft, name)
        if len(value) > limit:
            problems.append(RowError(draft.row, _FIELD_NAMES.get(name, name), f"Longer than {limit} characters."))
    if draft.price is not None and not (math.isfinite(draft.price) and draft.price <= MAX_PRICE):
        problems.append(RowError(draft.row, "price", f"Price is larger than {MAX_PRICE:,.2f}."))
    if draft.url and not is_web_url(draft.url):
        problems.append(RowError(draft.row, "url", f"URL '{shorten(draft.url)}' is not an absolute http(s) address."))
    if draft.image_url and not (draft.image_url.startswith("/") or is_web_url(draft.image_url)):
        message = (
            f"Image URL '{shorten(draft.image_url)}' is not an absolute http(s) address or a path starting with '/'."
        )
        problems.append(RowError(draft.row, "image_url", message))
    return problems


def _record(draft: Draft) -> ProductRecord:
    """Return the checked draft as an immutable record."""
    values = {f.name: getattr(draft, f.name) for f in fields(ProductRecord)}
    return ProductRecord(**{**values, "tags": tuple(unique(draft.tags)), "attributes": dict(draft.attributes)})
