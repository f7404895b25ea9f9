"""Any JSON export: a list of product objects, keys found by common names or a (dotted) mapping."""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import partial
from typing import Any

from .mapping import draft_from, id_sources, resolve_fields
from .reading import header_key
from .results import CatalogFormatError
from .validation import Draft

LIST_KEYS = ("products", "items")


def parse_generic_json(
    text: str, *, mapping: Mapping[str, str] | None, default_currency: str, source: str
) -> tuple[list[Draft], dict[str, str]]:
    """Read a JSON list of products (or an object holding one under "products" or "items").

    Also returns the mapping used: product field -> the key that fed it.
    """
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise CatalogFormatError(
            f"{source} is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})."
        ) from exc
    except RecursionError as exc:
        raise CatalogFormatError(f"{source} is JSON nested too deeply to be a product list.") from exc
    except ValueError as exc:  # an integer of thousands of digits, refused by Python's int limit
        raise CatalogFormatError(f"{source} holds a number too long to read ({exc}).") from exc
    items = _product_list(document)
    objects = [item for item in items or [] if isinstance(item, dict)]
    if not objects:
        raise CatalogFormatError(
            f"{source} is JSON but not a product list: expected a list of product objects, "
            'or an object with such a list under "products" or "items".'
        )
    available: dict[str, str] = {}
    for obj in objects:
        for key in obj:
            available.setdefault(header_key(str(key)), str(key))

    def lookup(path: str) -> str | None:
        if any(value_at(obj, path) is not None for obj in objects):
            return path
        return available.get(header_key(path))

    fields = resolve_fields(mapping, available, lookup, columns=list(available.values()), source=source, noun="key")
    sources = id_sources(fields, available)
    drafts: list[Draft] = []
    for index, item in enumerate(items or [], start=1):
        if isinstance(item, dict):
            drafts.append(draft_from(partial(value_at, item), fields, index, default_currency, sources))
        else:
            draft = Draft(index)
            draft.problem("", f"Item {index} is not a product object.")
            drafts.append(draft)
    used = dict(fields) | {f"id_from_{name}": key for name, key in sources.items()}
    return drafts, used


def value_at(obj: Mapping[str, Any], path: str) -> Any:
    """Return the value at a key or dotted path ("price.amount", "variants.0.price"), or None."""
    if path in obj:
        return obj[path]
    current: Any = obj
    for part in path.split("."):
        if isinstance(current, dict):
            current = current.get(part)
        elif isinstance(current, list) and part.isdigit() and int(part) < len(current):
            current = current[int(part)]
        else:
            return None
    return current


def _product_list(document: Any) -> list[Any] | None:
    """Return the list of products a JSON document holds, or None."""
    if isinstance(document, list):
        return document
    if isinstance(document, dict):
        for key in LIST_KEYS:
            if isinstance(document.get(key), list):
                return document[key]
    return None
