"""A supplier-style catalog without an id column, made from the real exports in ../shared/data."""

from __future__ import annotations

import csv
import io

from .conftest import SHARED_DATA

CATALOGS = SHARED_DATA / "catalogs"
WOO = CATALOGS / "woocommerce" / "classic-commerce_sample_products.csv"
APPAREL = CATALOGS / "shopify" / "apparel.csv"
HEADER = ("Product name", "SKU", "Price", "Category", "Image", "Link", "Description")
AVAILABLE = WOO.exists() and APPAREL.exists()
SKIP_REASON = "../shared/data/catalogs is not beside the checkout"


def _rows(path: object) -> list[dict[str, str]]:
    with open(path, encoding="utf-8", newline="") as handle:  # type: ignore[call-overload]
        return list(csv.DictReader(handle))


def supplier_rows() -> list[tuple[str, ...]]:
    """Return the supplier's rows: WooCommerce products with a SKU, Shopify products without.

    Of the Shopify products the first ten carry a product link and the rest nothing but a title,
    as wholesalers' sheets do.
    """
    rows: list[tuple[str, ...]] = []
    for row in _rows(WOO):
        if row["Type"].startswith(("simple", "external")):
            image = row["Images"].split(",")[0].strip()
            rows.append(
                (row["Name"], row["SKU"], row["Regular price"], row["Categories"], image, "", row["Short description"])
            )
    titled = [row for row in _rows(APPAREL) if row["Title"]]
    for index, row in enumerate(titled):
        link = f"https://supplier.example/p/{row['Handle']}" if index < 10 else ""
        category = f"Apparel > {row['Tags'].title()}"
        rows.append((row["Title"], "", row["Variant Price"], category, row["Image Src"], link, row["Body (HTML)"]))
    return rows


def supplier_csv(rows: list[tuple[str, ...]] | None = None) -> bytes:
    """Return the supplier's sheet as a semicolon-separated CSV export, without any id column."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(HEADER)
    writer.writerows(supplier_rows() if rows is None else rows)
    return out.getvalue().encode("utf-8")
