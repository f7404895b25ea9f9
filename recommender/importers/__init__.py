"""Catalog importers: read merchants' Shopify, Google Merchant, WooCommerce and generic exports.

Usage::

    from recommender.importers import parse_catalog

    parsed = parse_catalog(upload.read(), filename=upload.filename)
    parsed.records  # valid ProductRecord objects, in file order
    parsed.errors  # RowError(row, field, message) for each skipped product
"""

from .catalog import parse_catalog
from .detection import detect_format
from .results import FORMATS, CatalogFormatError, ParsedCatalog, RowError

__all__ = ["FORMATS", "CatalogFormatError", "ParsedCatalog", "RowError", "detect_format", "parse_catalog"]
