"""The merchant's column mapping for generic CSV/JSON catalogs: one stored mapping, read and set here.

The admin's mapping page and ``GET/PUT /api/v1/catalog/mapping`` both go through this module, so
they hold the merchant to the same fields and limits.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from recommender import FILE_FIELDS

from ..models import Merchant

# The product fields a mapping may name, in the order forms list them (the product's, declared once).
MAPPED_FIELDS = FILE_FIELDS
MAX_COLUMN_LENGTH = 200


class MappingError(ValueError):
    """A mapping cannot be stored; ``fields`` maps each fault's path ("mapping.colour") to messages."""

    def __init__(self, fields: dict[str, list[str]]) -> None:
        super().__init__("The mapping has invalid fields; nothing was changed.")
        self.fields = fields


def current_mapping(merchant: Merchant) -> dict[str, str]:
    """Return the merchant's stored mapping (product field -> column or JSON key), in field order."""
    stored = merchant.column_mapping or {}
    return {name: stored[name] for name in MAPPED_FIELDS if stored.get(name)}


def clean_mapping(raw: Any) -> dict[str, str]:
    """Return ``raw`` as a mapping to store (blank columns dropped), or raise :class:`MappingError`."""
    if not isinstance(raw, Mapping):
        raise MappingError({"mapping": ["Send an object of product field -> column name."]})
    problems: dict[str, list[str]] = {}
    chosen: dict[str, str] = {}
    for name, column in raw.items():
        path = f"mapping.{name}"
        if name not in MAPPED_FIELDS:
            problems[path] = [f"Unknown product field; use one of: {', '.join(MAPPED_FIELDS)}."]
        elif column is None:
            continue
        elif not isinstance(column, str):
            problems[path] = ["Give the column name as text."]
        elif len(column.strip()) > MAX_COLUMN_LENGTH:
            problems[path] = [f"Longer than {MAX_COLUMN_LENGTH} characters."]
        elif column.strip():
            chosen[name] = column.strip()
    if problems:
        raise MappingError(problems)
    return {name: chosen[name] for name in MAPPED_FIELDS if name in chosen}


def set_mapping(merchant: Merchant, raw: Any) -> dict[str, str]:
    """Replace the merchant's mapping (in the caller's transaction) and return it as stored."""
    merchant.column_mapping = clean_mapping(raw)
    return current_mapping(merchant)
