"""Turn raw catalog bytes into clean values: decoding, CSV tables, plain text, prices, flags."""

from __future__ import annotations

import codecs
import csv
import html
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass

import nh3
import pycountry

from .results import CatalogFormatError

DELIMITERS = (",", ";", "\t", "|")
_BOMS = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))

# Tags after which a reader sees a new line; appended before nh3 drops the tags themselves.
_BLOCK_TAG = re.compile(r"<\s*/?\s*(?:br|p|div|li|ul|ol|h[1-6]|tr|table|blockquote|section|article|hr)\b[^>]*>", re.I)
_TAG_LIKE = re.compile(r"<[a-zA-Z/!?]")
_ANY_TAG = re.compile(r"<[^>]*>")
_SPACES = re.compile(r"[^\S\n]+")
_LINE_BREAKS = re.compile(r"\s*\n\s*")
_WHITESPACE = re.compile(r"\s+")
_UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")

_AMOUNT = re.compile(r"[-\u2212]?\d(?:[\d.,'\s\u00a0\u202f]*\d)?")
_LETTERS3 = re.compile(r"(?<![A-Za-z])[A-Za-z]{3}(?![A-Za-z])")
_SYMBOL = re.compile(r"(?i)us\$|r\$|rs\.?|zł|kr|[$€£¥₹₩]")
_SYMBOL_CURRENCY = {"us$": "USD", "r$": "BRL", "rs": "INR", "rs.": "INR", "zł": "PLN", "€": "EUR", "£": "GBP"}
_SYMBOL_CURRENCY |= {"¥": "JPY", "₹": "INR", "₩": "KRW"}
_PRICE_FILLER = re.compile(r"--?|[\u2013\u2014~:]|\bto\b|\s")
_PLAIN_NUMBER = re.compile(r"\d+(?:\.\d+)?")

_TRUE = frozenset(
    {"1", "t", "true", "y", "yes", "on", "in stock", "in_stock", "instock", "available", "active", "published"}
    | {"preorder", "pre-order", "pre_order", "backorder", "on backorder", "available for order", "limited availability"}
)
_FALSE = frozenset(
    {"0", "f", "false", "n", "no", "off", "out of stock", "out_of_stock", "outofstock", "sold out", "soldout"}
    | {"discontinued", "unavailable", "inactive", "draft", "archived", "hidden", "private"}
)


@dataclass(frozen=True)
class CsvRow:
    """One non-empty record of a CSV file, keyed by normalised header."""

    number: int
    values: dict[str, str]


@dataclass(frozen=True)
class CsvTable:
    """A CSV/TSV file read into rows, with its columns as written and as normalised keys."""

    columns: tuple[str, ...]
    keys: tuple[str, ...]
    rows: list[CsvRow]


@dataclass(frozen=True)
class Price:
    """A price read from text: its low end, the high end of a range, and any currency it named."""

    amount: float
    high: float | None = None
    currency: str | None = None


def decode(data: bytes) -> str:
    """Decode catalog bytes: UTF-8 with or without BOM, UTF-16 with BOM, else cp1252."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                return data.decode(encoding)
            except UnicodeDecodeError as exc:
                raise CatalogFormatError(f"The file starts like {encoding} text but cannot be decoded: {exc}.") from exc
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def header_key(name: str) -> str:
    """Return a column name in the form used for lookups ("Body (HTML)" -> "body_html", "g:price" -> "price")."""
    key = name.strip().lstrip("\ufeff").lower()
    key = key.removeprefix("g:")
    return re.sub(r"[^0-9a-z]+", "_", key).strip("_")


def first_line(text: str) -> str:
    """Return the first record of CSV text, honouring quotes (bounded to the first 64 KB)."""
    quoted = False
    for index, char in enumerate(text[:65536]):
        if char == '"':
            quoted = not quoted
        elif char in "\r\n" and not quoted:
            return text[:index]
    return text[:65536]


def sniff_delimiter(text: str) -> str:
    """Return the delimiter among , ; tab | that splits the header row into the most columns."""
    header = re.sub(r'"[^"]*"', "", first_line(text))
    counts = {delimiter: header.count(delimiter) for delimiter in DELIMITERS}
    best = max(DELIMITERS, key=lambda d: counts[d])
    return best if counts[best] else ","


def read_csv(text: str) -> CsvTable:
    """Read CSV or TSV text into a table, numbering rows as a spreadsheet does."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sniff_delimiter(text))
    columns: tuple[str, ...] = ()
    pairs: list[tuple[str, int]] = []
    rows: list[CsvRow] = []
    number = 0
    try:
        for number, record in enumerate(reader, start=1):
            if not any(cell.strip() for cell in record):
                continue
            if not columns:
                columns = tuple(cell.strip().lstrip("\ufeff") for cell in record)
                keys = [header_key(column) for column in columns]
                first_index: dict[str, int] = {}
                for index, key in enumerate(keys):
                    if key:
                        first_index.setdefault(key, index)
                pairs = list(first_index.items())
                continue
            width = len(record)
            rows.append(CsvRow(number, {key: record[i].strip() if i < width else "" for key, i in pairs}))
    except csv.Error as exc:
        raise CatalogFormatError(f"The CSV file cannot be read near row {number + 1}: {exc}.") from exc
    return CsvTable(columns, tuple(header_key(column) for column in columns), rows)


def plain_text(value: str, *, multiline: bool = False) -> str:
    """Return ``value`` as safe plain text: tags dropped, entities decoded, whitespace collapsed.

    With ``multiline`` paragraph and line breaks survive as single newlines.
    """
    text = value
    for _ in range(4):
        if "<" not in text and "&" not in text:
            break
        text = html.unescape(nh3.clean(_BLOCK_TAG.sub(r"\g<0>\n", text), tags=set()))
        if not _TAG_LIKE.search(text):
            break
    else:
        text = _ANY_TAG.sub(" ", text)
    if not multiline:
        return _WHITESPACE.sub(" ", text).strip()
    return _LINE_BREAKS.sub("\n", _SPACES.sub(" ", text)).strip()


def category_path(value: str) -> str:
    """Return a category path with its separators normalised to " > "."""
    return " > ".join(part for part in (p.strip() for p in plain_text(value).split(">")) if part)


def unique(values: Iterable[str]) -> list[str]:
    """Return the non-empty values, stripped, without case-insensitive repeats, in order."""
    seen: dict[str, str] = {}
    for value in values:
        value = value.strip()
        if value:
            seen.setdefault(value.casefold(), value)
    return list(seen.values())


def split_list(value: str, separators: str = ",") -> list[str]:
    """Split a delimited list ("a, b, a") into unique plain-text items."""
    if not value:
        return []
    parts = re.split("[" + re.escape(separators) + "]", value) if len(separators) > 1 else value.split(separators)
    return unique(plain_text(part) for part in parts)


def first_url(value: str) -> str:
    """Return the first URL of a comma-separated list of URLs (commas inside a URL are kept)."""
    return re.split(r",\s*(?=https?://|/)", value.strip(), maxsplit=1)[0].strip()


def parse_available(value: str, default: bool = True) -> bool:
    """Read an availability flag or stock word ("in stock", "0", "draft"); blank or unknown gives ``default``."""
    word = _WHITESPACE.sub(" ", value.strip().lower())
    if not word:
        return default
    if word in _TRUE:
        return True
    if word in _FALSE:
        return False
    try:
        return float(word) > 0
    except ValueError:
        return default


def is_currency(code: str) -> bool:
    """Return whether ``code`` is an ISO 4217 currency code."""
    return len(code) == 3 and code.isalpha() and pycountry.currencies.get(alpha_3=code.upper()) is not None


def parse_price(raw: str, label: str = "Price") -> Price | None:
    """Read a price such as "1.299,00", "$12.99", "12.99 USD" or "4.86 -- 6.22"; blank gives None.

    Raises:
        ValueError: with a message for the merchant when the text is not a price.
    """
    text = raw.strip()
    if not text:
        return None
    problem = ValueError(f"{label} '{shorten(text)}' is not a number.")
    amounts = _AMOUNT.findall(text)
    rest = _AMOUNT.sub(" ", text)
    currency: str | None = None
    for word in _LETTERS3.findall(rest):
        if not is_currency(word):
            raise problem
        currency = word.upper()
    rest = _LETTERS3.sub(" ", rest)
    for symbol in _SYMBOL.findall(rest):
        currency = currency or _SYMBOL_CURRENCY.get(symbol.lower())
    rest = _PRICE_FILLER.sub("", _SYMBOL.sub(" ", rest))
    if rest or not amounts or len(amounts) > 2:
        raise problem
    try:
        values = sorted(_number(amount) for amount in amounts)
    except ValueError:
        raise problem from None
    high = values[-1] if values[-1] != values[0] else None
    return Price(values[0], high, currency)


def _number(text: str) -> float:
    """Read one amount whose thousands and decimal separators may be "," or "."."""
    negative = text[0] in "-\u2212"
    digits = re.sub(r"[\s'\u00a0\u202f]", "", text.lstrip("-\u2212"))
    if "," in digits and "." in digits:
        thousands = "." if digits.rfind(",") > digits.rfind(".") else ","
        digits = digits.replace(thousands, "").replace(",", ".")
    elif "," in digits:
        head, *groups = digits.split(",")
        if len(groups) == 1 and len(groups[0]) != 3:
            digits = f"{head}.{groups[0]}"
        elif all(len(group) == 3 for group in groups):
            digits = digits.replace(",", "")
    elif digits.count(".") > 1 and all(len(group) == 3 for group in digits.split(".")[1:]):
        digits = digits.replace(".", "")
    if not _PLAIN_NUMBER.fullmatch(digits):
        raise ValueError(text)
    return -float(digits) if negative else float(digits)


def shorten(text: str, limit: int = 60) -> str:
    """Cut a value quoted in a message to a readable length, on one line without control characters."""
    text = _UNPRINTABLE.sub(" ", text)
    return text if len(text) <= limit else text[: limit - 1] + "…"
