"""Tell which kind of catalog a file is from its first bytes and header row."""

from __future__ import annotations

import csv
import io
import re
from pathlib import PurePath

from .reading import decode, first_line, header_key, shorten, sniff_delimiter
from .results import CatalogFormatError

EXPECTED = "expected a product CSV/TSV export, a JSON product list or an RSS/Atom product feed"
# Magic numbers of files merchants upload by mistake, with what to tell them.
_BINARY_KINDS = (
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"%PDF", "a PDF document"),
    (b"PK\x03\x04", "an Excel workbook or ZIP archive (save the sheet as CSV first)"),
    (b"\xd0\xcf\x11\xe0", "an old Excel workbook (save the sheet as CSV first)"),
    (b"\x1f\x8b", "a gzip archive (unpack it first)"),
)
_HTML_PAGE = re.compile(r"<!doctype\s+html|<html[\s>]", re.I)


def source_name(filename: str | None) -> str:
    """Return how messages name the file: its base name, or "The catalog"."""
    name = shorten(PurePath(filename).name, 80) if filename else ""
    return name if name.strip() else "The catalog"


def reject_binary(data: bytes, source: str) -> None:
    """Raise CatalogFormatError when ``data`` is empty or plainly not text."""
    if not data.strip():
        raise CatalogFormatError(f"{source} is empty: {EXPECTED}.")
    for magic, kind in _BINARY_KINDS:
        if data.startswith(magic):
            raise CatalogFormatError(f"{source} is not a catalog: it looks like {kind}; {EXPECTED}.")
    if b"\x00" in data[:4096] and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise CatalogFormatError(f"{source} is not a catalog: it is a binary file; {EXPECTED}.")


def detect_text_format(text: str, source: str) -> str:
    """Return the format of decoded catalog text, judged by its first character and CSV header."""
    start = text.lstrip("\ufeff \t\r\n")[:512]
    if not start:
        raise CatalogFormatError(f"{source} is empty: {EXPECTED}.")
    if start.startswith("<"):
        if _HTML_PAGE.match(start):
            raise CatalogFormatError(f"{source} is a web page (HTML), not a catalog; {EXPECTED}.")
        return "google_merchant"
    if start[0] in "[{":
        return "generic_json"
    return _csv_format(text)


def detect_format(data: bytes, filename: str | None = None) -> str:
    """Return which of FORMATS ``data`` is, from its content; ``filename`` only names it in errors.

    Raises:
        CatalogFormatError: when the file is empty, binary or a web page.
    """
    source = source_name(filename)
    reject_binary(data, source)
    return detect_text_format(decode(data), source)


def _csv_format(text: str) -> str:
    """Return the format a CSV/TSV header row points to."""
    header = first_line(text.lstrip("\ufeff \t\r\n"))
    try:
        cells = next(csv.reader(io.StringIO(header, newline=""), delimiter=sniff_delimiter(header)), [])
    except csv.Error:  # a header CSV cannot read (an unclosed quote): the generic reader says where
        return "generic_csv"
    keys = {header_key(cell) for cell in cells}
    if "handle" in keys and ({"variant_price", "body_html"} & keys):
        return "shopify"
    if "regular_price" in keys or {"type", "sku", "name"} <= keys:
        return "woocommerce"
    google_prefixed = any(cell.strip().lower().startswith("g:") for cell in cells)
    if "image_link" in keys or {"availability", "link"} <= keys or google_prefixed:
        return "google_merchant"
    return "generic_csv"
