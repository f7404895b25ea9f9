"""Google Merchant Center feeds: RSS 2.0 or Atom XML with g: fields, or the tab-separated flavour."""

from __future__ import annotations

import codecs
import re
from collections.abc import Mapping
from xml.etree.ElementTree import Element, ParseError

import defusedxml.ElementTree as safe_xml
from defusedxml import DefusedXmlException

from .reading import CsvTable, category_path, decode, first_url, parse_available, plain_text, split_list
from .results import CatalogFormatError
from .validation import Draft

G_NAMESPACES = frozenset({"http://base.google.com/ns/1.0", "http://base.google.com/cns/1.0"})
ATOM_NAMESPACE = "http://www.w3.org/2005/Atom"
_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>")
_TEXT_ATTRIBUTES = ("item_group_id", "gtin", "mpn", "gender")


def parse_feed(data: bytes, *, default_currency: str, source: str) -> list[Draft]:
    """Read an RSS 2.0 or Atom feed, one draft per <item> or <entry>, numbered from 1."""
    root = _parse_xml(data, source)
    kind = _split(root.tag)[1]
    if kind in ("rss", "RDF"):
        items = [element for element in root.iter() if _split(element.tag)[1] == "item"]
    elif kind == "feed":
        items = [element for element in root if _split(element.tag)[1] == "entry"]
    else:
        raise CatalogFormatError(
            f"{source} is XML but not a product feed: expected an RSS 2.0 <rss> or Atom <feed> root, found <{kind}>."
        )
    if not items:
        raise CatalogFormatError(f"{source} is a feed without products: it has no <item> or <entry> elements.")
    return [_draft(_fields(item), index, default_currency) for index, item in enumerate(items, start=1)]


def parse_merchant_tsv(table: CsvTable, *, default_currency: str) -> list[Draft]:
    """Read the tab-separated (or CSV) feed whose header names Merchant Center attributes."""
    return [_draft(row.values, row.number, default_currency) for row in table.rows]


def _parse_xml(data: bytes, source: str) -> Element:
    """Parse feed bytes with defusedxml, falling back to our own decoding for mislabelled files."""
    candidates: list[bytes | str] = []
    if not data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        candidates.append(data.removeprefix(codecs.BOM_UTF8).lstrip())
    candidates.append(_XML_DECLARATION.sub("", decode(data).lstrip("\ufeff \t\r\n")))
    problem: ParseError | None = None
    for candidate in candidates:
        try:
            # No feed needs a DTD; refusing any stops entity bombs and external references at the first line.
            return safe_xml.fromstring(candidate, forbid_dtd=True)
        except DefusedXmlException as exc:
            raise CatalogFormatError(
                f"{source} declares a DTD, XML entities or external references (<!DOCTYPE ...>), "
                "refused for safety; feeds need none."
            ) from exc
        except ParseError as exc:
            problem = problem or exc
    raise CatalogFormatError(f"{source} is not well-formed XML ({problem}).")


def _split(tag: str) -> tuple[str, str]:
    """Return the namespace and local name of an element tag."""
    if tag.startswith("{"):
        namespace, _, name = tag[1:].partition("}")
        return namespace, name
    return "", tag


def _fields(item: Element) -> dict[str, str]:
    """Return an item's leaf fields by local name; g: fields win over plain RSS or Atom ones."""
    plain: dict[str, str] = {}
    google: dict[str, str] = {}
    for child in item:
        namespace, name = _split(child.tag)
        if namespace in G_NAMESPACES or "base.google.com" in namespace:
            target = google
        elif namespace in ("", ATOM_NAMESPACE):
            target = plain
        else:
            continue
        if name == "link" and child.get("href") is not None:
            if child.get("rel", "alternate") != "alternate":
                continue
            value = child.get("href", "").strip()
        elif len(child):
            continue  # nested groups such as <g:shipping> hold no product field
        else:
            value = "".join(child.itertext()).strip()
        if value:
            target.setdefault(name, value)
    return plain | google


def _draft(fields: Mapping[str, str], row: int, default_currency: str) -> Draft:
    """Build a draft from Merchant Center attributes (id, title, price, availability...)."""
    description = fields.get("description", "") or fields.get("summary", "") or fields.get("content", "")
    draft = Draft(
        row,
        external_id=fields.get("id", "") or fields.get("guid", ""),
        title=plain_text(fields.get("title", "")),
        description=plain_text(description, multiline=True),
        brand=plain_text(fields.get("brand", "")),
        currency=default_currency,
        url=fields.get("link", ""),
        image_url=first_url(fields.get("image_link", "")),
        available=parse_available(fields.get("availability", "")),
    )
    google_category = plain_text(fields.get("google_product_category", ""))
    if google_category.isdigit():
        draft.attributes["google_product_category"] = google_category
        google_category = ""
    draft.category = category_path(fields.get("product_type", "")) or category_path(google_category)
    price = draft.read_price(fields.get("price", ""))
    sale = draft.read_price(fields.get("sale_price", ""), field_name="sale_price", label="Sale price")
    draft.set_prices(price, sale)
    for name in _TEXT_ATTRIBUTES:
        if value := plain_text(fields.get(name, "")):
            draft.attributes[name] = value
    if size := plain_text(fields.get("size", "")):
        draft.add_values("size", [size])
    for name in ("color", "material"):
        draft.add_values(name, split_list(fields.get(name, ""), "/"))
    return draft
