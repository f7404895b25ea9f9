"""Read any supported catalog file: detect its format, hand it to that format's reader, check rows."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from .detection import detect_text_format, reject_binary, source_name
from .generic_csv import parse_generic_csv
from .generic_json import parse_generic_json
from .google_merchant import parse_feed, parse_merchant_tsv
from .reading import decode, is_currency, read_csv
from .results import FORMATS, CatalogFormatError, ParsedCatalog
from .shopify import parse_shopify
from .validation import Draft, finish
from .woocommerce import parse_woocommerce

GENERIC_FORMATS = ("generic_csv", "generic_json")


def parse_catalog(
    data: bytes,
    *,
    format: str | None = None,
    filename: str | None = None,
    mapping: Mapping[str, str] | None = None,
    default_currency: str = "USD",
) -> ParsedCatalog:
    """Read a merchant's catalog file into valid products and per-row problems.

    ``format`` is detected when None. A ``mapping`` (our field -> the merchant's column or JSON
    key) applies to generic CSV and JSON files only; platform exports and feeds ignore it, so a
    merchant's saved mapping never gets in the way of their Shopify or Google files.

    Raises:
        CatalogFormatError: when the format is unknown, the mapping does not fit, or the file is
            not a catalog or holds no valid product.
        ValueError: when ``default_currency`` is not an ISO 4217 code.
    """
    if not is_currency(default_currency):
        raise ValueError(
            f"default_currency must be a three-letter ISO 4217 code such as 'USD', not {default_currency!r}."
        )
    if format is not None and format not in FORMATS:
        raise CatalogFormatError(f"Unknown catalog format '{format}': expected one of {', '.join(FORMATS)}.")
    source = source_name(filename)
    reject_binary(data, source)
    text = decode(data)
    detected = format or detect_text_format(text, source)
    if detected not in GENERIC_FORMATS:
        mapping = None
    currency = default_currency.upper()
    drafts, used = _drafts(detected, data, text, mapping, currency, source)
    return replace(finish(drafts, format_name=detected, source=source), mapping_used=used)


def _drafts(
    format_name: str, data: bytes, text: str, mapping: Mapping[str, str] | None, currency: str, source: str
) -> tuple[list[Draft], dict[str, str]]:
    """Run the reader for ``format_name``; return its drafts and, for generic files, the mapping used."""
    if format_name == "generic_json":
        return parse_generic_json(text, mapping=mapping, default_currency=currency, source=source)
    if format_name == "google_merchant" and _is_xml(text):
        return parse_feed(data, default_currency=currency, source=source), {}
    if _is_xml(text):
        raise CatalogFormatError(f"{source} is an XML feed, but the {format_name} format expects a CSV file.")
    table = read_csv(text)
    if not table.columns:
        raise CatalogFormatError(f"{source} has no header row.")
    if format_name == "shopify":
        return parse_shopify(table, default_currency=currency), {}
    if format_name == "woocommerce":
        return parse_woocommerce(table, default_currency=currency), {}
    if format_name == "google_merchant":
        return parse_merchant_tsv(table, default_currency=currency), {}
    return parse_generic_csv(table, mapping=mapping, default_currency=currency, source=source)


def _is_xml(text: str) -> bool:
    """Return whether decoded text starts like an XML document."""
    return text.lstrip("\ufeff \t\r\n").startswith("<")
