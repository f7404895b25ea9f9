"""WooCommerce's product CSV export: products plus variation rows folded into their parents."""

from __future__ import annotations

import re

from .reading import CsvRow, CsvTable, category_path, first_url, parse_available, plain_text, shorten, split_list
from .validation import Draft

# Up to four digits: a header of thousands of digits is no attribute (and too long for int()).
_ATTRIBUTE_NAME = re.compile(r"attribute_(\d{1,4})_name")
# Category names may hold an escaped comma ("Shoes\, Boots"): split on the others only.
_CATEGORY_SPLIT = re.compile(r"(?<!\\),")


def parse_woocommerce(table: CsvTable, *, default_currency: str) -> list[Draft]:
    """Read a WooCommerce export: one draft per product, with its variations folded in."""
    numbers = sorted(int(m.group(1)) for key in table.keys if (m := _ATTRIBUTE_NAME.fullmatch(key)))
    drafts: list[Draft] = []
    parents: dict[str, Draft] = {}
    variations: list[CsvRow] = []
    for row in table.rows:
        if "variation" in _types(row):
            variations.append(row)
            continue
        draft = _product(row, numbers, default_currency)
        drafts.append(draft)
        for key in (row.values.get("sku", ""), _id_reference(row)):
            if key:
                parents.setdefault(key, draft)
    prices: dict[int, list[float]] = {}
    for row in variations:
        reference = row.values.get("parent", "")
        parent = parents.get(reference)
        if parent is None:
            orphan = Draft(row.number, external_id=_external_id(row), title=plain_text(row.values.get("name", "")))
            message = (
                f"Variation's parent '{shorten(reference)}' is not in the file."
                if reference
                else "Variation has no parent."
            )
            orphan.problem("parent", message)
            drafts.append(orphan)
            continue
        _add_attributes(parent, row, numbers)
        prices.setdefault(id(parent), []).extend(_variation_prices(parent, row))
    for draft in drafts:
        amounts = prices.get(id(draft))
        if draft.price is None and amounts:
            draft.price = min(amounts)
            if max(amounts) != draft.price:
                draft.attributes["price_max"] = max(amounts)
    drafts.sort(key=lambda d: d.row)
    return drafts


def _types(row: CsvRow) -> set[str]:
    """Return the product types of a row ("simple, downloadable, virtual" -> three)."""
    return {part.strip().lower() for part in row.values.get("type", "").split(",")}


def _id_reference(row: CsvRow) -> str:
    """Return the "id:NN" form a variation's Parent column may use."""
    return f"id:{row.values['id']}" if row.values.get("id") else ""


def _external_id(row: CsvRow) -> str:
    """Return the SKU, else "woo-" and the WooCommerce ID."""
    sku, woo_id = row.values.get("sku", ""), row.values.get("id", "")
    return sku or (f"woo-{woo_id}" if woo_id else "")


def _product(row: CsvRow, numbers: list[int], default_currency: str) -> Draft:
    """Read one simple, variable, grouped or external product row."""
    values = row.values
    categories = [part.replace("\\,", ",") for part in _CATEGORY_SPLIT.split(values.get("categories", ""))]
    draft = Draft(
        row.number,
        external_id=_external_id(row),
        title=plain_text(values.get("name", "")),
        description=plain_text(values.get("description", "") or values.get("short_description", ""), multiline=True),
        category=category_path(categories[0]),
        tags=tuple(split_list(values.get("tags", ""))),
        currency=default_currency,
        url=values.get("external_url", ""),
        image_url=first_url(values.get("images", "")),
        available=(
            parse_available(values.get("published", ""))
            and parse_available(values.get("in_stock", ""))
            and values.get("visibility_in_catalog", "").lower() != "hidden"
        ),
    )
    brands = split_list(values.get("brands", "") or values.get("brand", ""))
    draft.brand = brands[0] if brands else ""
    regular = draft.read_price(values.get("regular_price", ""), field_name="regular_price", label="Regular price")
    sale = draft.read_price(values.get("sale_price", ""), field_name="sale_price", label="Sale price")
    draft.set_prices(regular, sale)
    _add_attributes(draft, row, numbers)
    return draft


def _add_attributes(draft: Draft, row: CsvRow, numbers: list[int]) -> None:
    """Merge the row's "Attribute N name" / "Attribute N value(s)" pairs into the draft."""
    for n in numbers:
        name = row.values.get(f"attribute_{n}_name", "")
        if name:
            draft.add_values(name, split_list(row.values.get(f"attribute_{n}_value_s", "")))


def _variation_prices(parent: Draft, row: CsvRow) -> list[float]:
    """Return a variation's selling price (sale when lower), reporting bad cells against the parent."""
    regular = parent.read_price(
        row.values.get("regular_price", ""), field_name="regular_price", label="Regular price", row=row.number
    )
    sale = parent.read_price(
        row.values.get("sale_price", ""), field_name="sale_price", label="Sale price", row=row.number
    )
    found = [price.amount for price in (regular, sale) if price is not None]
    return [min(found)] if found else []
