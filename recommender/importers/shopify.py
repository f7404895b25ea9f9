"""Shopify's product CSV export: one product per Handle, spread over variant and image rows."""

from __future__ import annotations

from .reading import CsvRow, CsvTable, category_path, first_url, parse_available, plain_text, split_list
from .validation import Draft

_OPTIONS = (1, 2, 3)
_URL_COLUMNS = ("url", "product_url", "online_store_url")
_IGNORED_OPTION_VALUES = frozenset({"default title"})


def parse_shopify(table: CsvTable, *, default_currency: str) -> list[Draft]:
    """Read a Shopify product export, one draft per Handle in file order."""
    groups: list[list[CsvRow]] = []
    by_handle: dict[str, list[CsvRow]] = {}
    for row in table.rows:
        handle = row.values.get("handle", "")
        group = by_handle.get(handle) if handle else None
        # A second titled row for a handle is a second product: the duplicate-id check reports it.
        if group is None or row.values.get("title"):
            group = [row]
            groups.append(group)
            if handle:
                by_handle[handle] = group
        else:
            group.append(row)
    url_key = next((key for key in _URL_COLUMNS if key in table.keys), "")
    return [_product(group, url_key, default_currency) for group in groups]


def _product(rows: list[CsvRow], url_key: str, default_currency: str) -> Draft:
    """Fold one handle's rows into a draft: first row for the text, every row for prices and options."""
    first = rows[0].values
    draft = Draft(
        rows[0].number,
        external_id=first.get("handle", ""),
        title=plain_text(first.get("title", "")),
        description=plain_text(first.get("body_html", ""), multiline=True),
        brand=plain_text(first.get("vendor", "")),
        category=category_path(first.get("type", "") or first.get("product_category", "")),
        tags=tuple(split_list(first.get("tags", ""))),
        currency=default_currency,
        url=first.get(url_key, "") if url_key else "",
    )
    if not draft.external_id:
        draft.problem("id", "Handle is missing.")
    status = first.get("status", "").lower()
    published = first.get("published", "") or first.get("published_on_online_store", "")
    draft.available = parse_available(published) and status in ("", "active")
    if gender := plain_text(first.get("google_shopping_gender", "")):
        draft.attributes["gender"] = gender
    names = {i: first.get(f"option{i}_name", "") for i in _OPTIONS}
    amounts: list[float] = []
    for row in rows:
        values = row.values
        for i in _OPTIONS:
            name = values.get(f"option{i}_name") or names[i]
            value = plain_text(values.get(f"option{i}_value", ""))
            if name and value and value.lower() not in _IGNORED_OPTION_VALUES:
                draft.add_values(name, [value])
        price = draft.read_price(values.get("variant_price", ""), label="Variant price", row=row.number)
        if price is not None:
            amounts.extend(a for a in (price.amount, price.high) if a is not None)
        if not draft.image_url:
            draft.image_url = first_url(values.get("image_src", "") or values.get("variant_image", ""))
    if amounts:
        draft.price = min(amounts)
        if max(amounts) != draft.price:
            draft.attributes["price_max"] = max(amounts)
    return draft
