"""`flask orders import`: Shopify's orders export and an invoices table, with progress and row errors."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskCliRunner

from quiz import merchants
from quiz.models import Order, OrderLine
from quiz.platform.db import get_session

from .helpers import make_merchant

INVOICES = Path(__file__).resolve().parents[2] / "shared" / "data" / "orders" / "online-retail-dev" / "invoices.tsv"
HEADER = "Name,Email,Financial Status,Paid at,Currency,Total,Lineitem quantity,Lineitem name,Lineitem price,Lineitem sku,Cancelled at,Created at"  # noqa: E501
SHOPIFY = f"""{HEADER}
#1001,ann@example.com,paid,2026-11-30 14:03:12 +0100,USD,258.00,1,Jacket,129.00,TS-0001,,2026-11-30 14:00:00 +0100
#1001,,,,,,1,Other,129.00,TS-0002,,
#1002,,paid,2026-12-01 09:00:00 +0100,USD,40.00,2,Mug,20.00,TS-0003,2026-12-02 10:00:00 +0100,2026-12-01 09:00:00 +0100
#1003,,paid,2026-12-01 09:00:00 +0100,USD,10.00,1,Nameless,10.00,,,2026-12-01 09:00:00 +0100
#1004,,paid,2026-12-01 09:00:00 +0100,EUR,10.00,1,Euro,10.00,TS-0001,,2026-12-01 09:00:00 +0100
"""


def _orders(app: Flask, slug: str = "demo") -> list[Order]:
    with app.app_context():
        merchant = merchants.get_by_slug(slug)
        rows = get_session().scalars(sa.select(Order).where(Order.merchant_id == merchant.id).order_by(Order.order_id))
        return list(rows)


def test_a_shopify_export_is_imported_once_with_row_errors(app: Flask, runner: FlaskCliRunner, tmp_path: Path) -> None:
    path = tmp_path / "orders_export.csv"
    path.write_text(SHOPIFY)
    result = runner.invoke(args=["orders", "import", "--merchant", "demo", str(path)])
    assert result.exit_code == 0, result.output
    assert "row 5, Lineitem sku: empty" in result.output
    assert "row 6, Currency: EUR: this shop sells in USD" in result.output
    assert "shopify_csv, 2 orders: 2 new, 0 updated, 1 cancelled, 2 rows skipped" in result.output
    first, second = _orders(app)
    assert (first.order_id, str(first.total), first.cancelled_at) == ("#1001", "258.00", None)
    assert second.order_id == "#1002" and second.cancelled_at is not None
    with app.app_context():
        lines = get_session().scalars(sa.select(OrderLine.product_id).order_by(OrderLine.id)).all()
    assert lines == ["TS-0001", "TS-0002", "TS-0003"]
    again = runner.invoke(args=["orders", "import", "--merchant", "demo", str(path)])
    assert "0 new, 2 updated" in again.output and len(_orders(app)) == 2


@pytest.mark.skipif(not INVOICES.exists(), reason="../shared/data/orders is not beside the checkout")
def test_an_invoices_table_is_imported_in_its_currency(app: Flask, runner: FlaskCliRunner, tmp_path: Path) -> None:
    make_merchant(app, "giftware")
    with INVOICES.open() as source:
        head = [next(source) for _ in range(301)]
    path = tmp_path / "invoices.tsv"
    path.write_text("".join(head))
    rows = list(csv.DictReader(head, delimiter="\t"))
    result = runner.invoke(args=["orders", "import", "--merchant", "giftware", "--currency", "gbp", str(path)])
    assert result.exit_code == 0, result.output
    cancellations = sum(r["cancelled"] == "1" for r in rows)
    assert f"invoices, 300 orders: 300 new, 0 updated, {cancellations} cancelled, 0 rows skipped" in result.output
    stored = {o.order_id: o for o in _orders(app, "giftware")}
    assert stored["536365"].currency == "GBP" and str(stored["536365"].total) == "139.12"
    assert stored["536365"].placed_at.replace(tzinfo=None).isoformat() == "2010-12-01T08:26:00"


def test_nothing_importable_exits_non_zero_with_one_line(runner: FlaskCliRunner, tmp_path: Path) -> None:
    junk = tmp_path / "notes.csv"
    junk.write_text("a,b\n1,2\n")
    result = runner.invoke(args=["orders", "import", "--merchant", "demo", str(junk)])
    assert result.exit_code != 0 and "not an order export Attune reads" in result.output
    bad = tmp_path / "bad.csv"
    bad.write_text(f"{HEADER}\n#1,,paid,never,USD,abc,1,X,1.00,TS-0001,,\n")
    result = runner.invoke(args=["orders", "import", "--merchant", "demo", str(bad)])
    assert result.exit_code != 0 and "no order could be imported (1 rows skipped)" in result.output
    wrong = runner.invoke(args=["orders", "import", "--merchant", "demo", "--currency", "GBP", str(bad)])
    assert wrong.exit_code != 0 and "this shop sells in USD" in wrong.output
    assert runner.invoke(args=["orders", "import", "--merchant", "nobody", str(bad)]).exit_code != 0
