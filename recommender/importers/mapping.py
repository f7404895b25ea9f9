"""Column mapping for the generic formats: which merchant column or key feeds which product field."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from ..domain import FILE_FIELDS
from .reading import category_path, first_url, is_currency, parse_available, plain_text, shorten, split_list, unique
from .results import CatalogFormatError
from .validation import LIST_ATTRIBUTES, Draft, attribute_key

# Header names merchants commonly use for each field, in order of preference (as normalised by header_key).
SYNONYMS: dict[str, tuple[str, ...]] = {
    "id": ("id", "product_id", "productid", "item_id", "external_id", "handle", "code"),
    "title": ("title", "name", "product_name", "product_title", "item_name", "productname"),
    "description": ("description", "body", "body_html", "product_description", "long_description", "short_description"),
    "brand": ("brand", "vendor", "manufacturer", "brand_name"),
    "category": ("category", "product_type", "type", "categories", "product_category", "google_product_category"),
    "tags": ("tags", "keywords", "labels", "tag"),
    "price": ("price", "regular_price", "unit_price", "price_amount", "amount"),
    "currency": ("currency", "currency_code"),
    "url": ("url", "link", "product_url", "permalink", "product_link", "page_url"),
    "image_url": ("image_url", "image", "image_link", "image_src", "images", "picture", "thumbnail", "main_image"),
    "available": ("available", "availability", "in_stock", "is_available", "stock_status", "instock"),
    "sizes": ("size", "sizes"),
    "colours": ("colour", "color", "colours", "colors"),
    "materials": ("material", "materials"),
    "gender": ("gender",),
}
CORE_FIELDS = frozenset(FILE_FIELDS)
# Without an id column, each product's id comes from the first of these it has (docs/catalog-import.md),
# then from its product URL, then from a hash of its title and URL: the same file always gives the same ids.
ID_SOURCES: dict[str, tuple[str, ...]] = {
    "sku": ("sku", "variant_sku", "product_sku", "item_sku", "article_number", "item_number"),
    "gtin": ("gtin", "ean", "upc", "barcode", "variant_barcode", "isbn", "gtin13", "ean13"),
    "mpn": ("mpn", "manufacturer_part_number", "part_number"),
}
_LISTED_COLUMNS = 15

Getter = Callable[[str], Any]


def resolve_fields(
    mapping: Mapping[str, str] | None,
    available: Mapping[str, str],
    lookup: Callable[[str], str | None],
    *,
    columns: Sequence[str],
    source: str,
    noun: str,
) -> dict[str, str]:
    """Return our field -> the key that reads it: the merchant's mapping first, then common names.

    ``available`` maps normalised names to keys; ``lookup`` finds the key for a name the merchant
    wrote in the mapping, or None.
    """
    listing = ", ".join(shorten(c, 40) for c in columns[:_LISTED_COLUMNS])
    listing += ", ..." if len(columns) > _LISTED_COLUMNS else ""
    fields: dict[str, str] = {}
    for name, column in (mapping or {}).items():
        if not isinstance(name, str) or not name.strip():
            raise CatalogFormatError("Mapping keys must be product field names such as 'title' or 'price'.")
        if not isinstance(column, str) or not column.strip():
            raise CatalogFormatError(f"The mapping for '{shorten(name)}' must name a {noun} of the file.")
        key = lookup(column.strip())
        if key is None:
            raise CatalogFormatError(
                f"The mapping names {noun} '{shorten(column)}' for '{shorten(name)}', but {source} has no such {noun}; "
                f"its {noun}s are: {listing}."
            )
        name = name.strip().lower()
        fields[name if name in CORE_FIELDS else attribute_key(name)] = key
    used = set(fields.values())
    for name, synonyms in SYNONYMS.items():
        if name in fields:
            continue
        key = next((available[s] for s in synonyms if s in available and available[s] not in used), None)
        if key is not None:
            fields[name] = key
            used.add(key)
    if "title" not in fields:
        expected = ", ".join(SYNONYMS["title"][:5])
        raise CatalogFormatError(
            f"{source} has no title {noun}: expected one of {expected} (or a mapping for 'title'); "
            f"its {noun}s are: {listing}."
        )
    return fields


def id_sources(fields: Mapping[str, str], available: Mapping[str, str]) -> dict[str, str]:
    """Return the keys ids are derived from (``sku``/``gtin``/``mpn`` -> key) when no field reads the id.

    Empty when the file has an id column (or a mapping for 'id').
    """
    if "id" in fields:
        return {}
    sources: dict[str, str] = {}
    for name, synonyms in ID_SOURCES.items():
        key = next((available[s] for s in synonyms if s in available), None)
        if key is not None:
            sources[name] = key
    return sources


def derive_id(get: Getter, sources: Mapping[str, str], title: str, url: str) -> tuple[str, str]:
    """Return (id, origin) for a product of a file without ids: its SKU, GTIN or MPN, else a URL or title hash.

    The hashes are the first 16 hex digits of SHA-256, prefixed ``url-`` (of the product URL) or
    ``title-`` (of the title and URL joined by a newline), so the same row always gets the same id.
    """
    for name in ("sku", "gtin", "mpn"):
        if name in sources and (value := as_text(get(sources[name])).strip()):
            return value, name
    if url:
        return "url-" + _digest(url), "url"
    return "title-" + _digest(f"{title}\n{url}"), "hash"


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def draft_from(
    get: Getter,
    fields: Mapping[str, str],
    row: int,
    default_currency: str,
    derived_from: Mapping[str, str] | None = None,
) -> Draft:
    """Build a draft from one generic row or object, reading each field through ``get``.

    Without an ``id`` field the id is derived (see :func:`derive_id`) from ``derived_from``.
    """

    def value(name: str) -> Any:
        return get(fields[name]) if name in fields else None

    draft = Draft(
        row,
        external_id=as_text(value("id")).strip(),
        title=plain_text(as_text(value("title"))),
        description=plain_text(as_text(value("description")), multiline=True),
        brand=plain_text(as_text(value("brand"))),
        category=category_path(as_text(_first(value("category")))),
        tags=tuple(_items(value("tags"))),
        currency=default_currency,
        url=as_text(value("url")).strip(),
        image_url=first_url(as_text(_first(value("image_url")))),
    )
    if "id" not in fields and draft.title:
        draft.external_id, draft.id_origin = derive_id(get, derived_from or {}, draft.title, draft.url)
    available = value("available")
    draft.available = available if isinstance(available, bool) else parse_available(as_text(available))
    draft.set_price(draft.read_price(_price_text(value("price"))))
    currency = as_text(value("currency")).strip()
    if currency and is_currency(currency):
        draft.currency = currency.upper()
    elif currency:
        draft.problem("currency", f"Currency '{shorten(currency)}' is not a three-letter code such as USD.")
    for name, key in fields.items():
        if name not in CORE_FIELDS:
            _set_attribute(draft, name, get(key))
    return draft


def as_text(value: Any) -> str:
    """Return a cell or JSON value as text (numbers without a trailing ".0", lists joined)."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, list | tuple):
        return ", ".join(text for text in (as_text(v) for v in value) if text)
    if isinstance(value, dict):
        return next((as_text(value[k]) for k in ("src", "url", "href", "name", "value") if k in value), "")
    return str(value)


def _first(value: Any) -> Any:
    """Return the first element of a JSON list, or the value itself."""
    if isinstance(value, list | tuple):
        return value[0] if value else None
    return value


def _items(value: Any) -> list[str]:
    """Return a list value (JSON list or "a, b; c | d" text) as unique plain-text items."""
    if isinstance(value, list | tuple):
        return unique(plain_text(as_text(v)) for v in value)
    return split_list(as_text(value), ",;|")


def _price_text(value: Any) -> str:
    """Return a price value as text, reading {"amount": 12, "currency": "EUR"} objects too."""
    if isinstance(value, dict):
        amount = next((value[k] for k in ("amount", "value", "price") if k in value), None)
        return f"{as_text(amount)} {as_text(value.get('currency') or value.get('currency_code'))}".strip()
    return as_text(value)


def _set_attribute(draft: Draft, name: str, value: Any) -> None:
    """Store an extra field: facet lists as lists, JSON numbers and flags as they are, the rest as text."""
    if name in LIST_ATTRIBUTES:
        draft.add_values(name, _items(value))
    elif isinstance(value, bool | int | float):
        draft.attributes[name] = value
    elif isinstance(value, list | tuple):
        if items := _items(value):
            draft.attributes[name] = items
    elif text := plain_text(as_text(value)):
        draft.attributes[name] = text
