"""Order files a merchant imports: Shopify's orders CSV export, or an invoices table (TSV).

Each file becomes incoming orders plus row errors (as catalog imports report them: row, field,
message); an order with any bad row is skipped whole, never half-written. Recording is
idempotent by order id, so importing a file again updates rather than doubles.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from ..models import Merchant
from ..platform.db import transaction
from .events import shop_currency
from .orders import IncomingOrder, Line, record

MAX_AMOUNT = Decimal("1000000")
BATCH = 200
SHOPIFY_COLUMNS = ("Name", "Total", "Lineitem sku", "Lineitem quantity", "Lineitem price")
INVOICE_COLUMNS = ("invoice", "invoiced_at", "total", "cancelled")
# Shopify financial statuses that undo a sale.
REVERSED = {"refunded", "voided"}


class OrderFileRejected(ValueError):
    """The file is not an order export Attune reads; nothing was imported."""


@dataclass(frozen=True)
class RowError:
    """A row that could not be read: its number (the header is row 1), the field and why."""

    row: int
    field: str
    message: str


@dataclass
class ParsedOrders:
    """The orders a file holds and the rows that could not be read."""

    format: str
    orders: list[IncomingOrder] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)


@dataclass(frozen=True)
class ImportSummary:
    """What an import did."""

    created: int
    updated: int
    cancelled: int


def parse(data: bytes, currency: str | None) -> ParsedOrders:
    """Read a Shopify orders export or an invoices table; raise :class:`OrderFileRejected` for anything else.

    ``currency`` is the shop's: Shopify rows in another are refused; an invoices table (which has
    no currency column) is taken to be in it.
    """
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise OrderFileRejected("the file is not UTF-8 text") from exc
    first = text.split("\n", 1)[0]
    if all(name in first for name in INVOICE_COLUMNS) and "\t" in first:
        if not currency:
            raise OrderFileRejected("an invoices table has no currency: give --currency (the shop has no catalog yet)")
        return _invoices(csv.DictReader(io.StringIO(text), delimiter="\t"), currency)
    if all(name in first for name in SHOPIFY_COLUMNS):
        return _shopify(csv.DictReader(io.StringIO(text)), currency)
    raise OrderFileRejected(
        "not an order export Attune reads: expected Shopify's orders CSV (Name, Total, Lineitem sku, ...) "
        "or an invoices table (invoice, invoiced_at, total, cancelled)"
    )


def parse_for(merchant: Merchant, data: bytes, currency: str | None = None) -> ParsedOrders:
    """Read an order file for ``merchant``: in the shop's currency (its catalog's), else ``currency``.

    Raises:
        OrderFileRejected: the file is not one Attune reads, or ``currency`` is not the shop's.
    """
    shop = shop_currency(merchant)
    chosen = (currency or "").strip().upper() or None
    if chosen and shop and chosen != shop:
        raise OrderFileRejected(f"currency {chosen}: this shop sells in {shop}")
    return parse(data, chosen or shop)


def import_orders(
    merchant: Merchant, parsed: ParsedOrders, on_progress: Callable[[int], None] | None = None
) -> ImportSummary:
    """Record every parsed order, a batch per transaction; ``on_progress`` gets each batch's size."""
    created = updated = cancelled = 0
    for batch in _batches(parsed.orders):
        with transaction():
            for incoming in batch:
                _, new = record(merchant, incoming, source=parsed.format)
                created, updated = created + new, updated + (not new)
                cancelled += incoming.cancelled
        if on_progress:
            on_progress(len(batch))
    return ImportSummary(created, updated, cancelled)


def _batches(orders: list[IncomingOrder]) -> Iterator[list[IncomingOrder]]:
    for start in range(0, len(orders), BATCH):
        yield orders[start : start + BATCH]


def _shopify(rows: csv.DictReader[str], currency: str | None) -> ParsedOrders:
    """One row per line item; the order's own fields are on its first row."""
    parsed = ParsedOrders("shopify_csv")
    groups: dict[str, list[tuple[int, dict[str, str]]]] = {}
    for number, row in enumerate(rows, start=2):
        name = (row.get("Name") or "").strip()
        if not name:
            parsed.errors.append(RowError(number, "Name", "empty: every row names its order"))
            continue
        groups.setdefault(name, []).append((number, row))
    for name, lines in groups.items():
        try:
            parsed.orders.append(_shopify_order(name, lines, currency))
        except _RowProblem as problem:
            parsed.errors.append(problem.error)
    return parsed


def _shopify_order(name: str, lines: list[tuple[int, dict[str, str]]], currency: str | None) -> IncomingOrder:
    number, head = lines[0]
    order_currency = (head.get("Currency") or currency or "").strip().upper()
    if currency and order_currency != currency:
        raise _RowProblem(number, "Currency", f"{order_currency or 'empty'}: this shop sells in {currency}")
    when = _cell(head, "Paid at") or _cell(head, "Created at")
    status = _cell(head, "Financial Status").lower()
    items = [
        Line(
            _required(row, n, "Lineitem sku"),
            _quantity(row, n, "Lineitem quantity"),
            _money(row, n, "Lineitem price"),
        )
        for n, row in lines
    ]
    return IncomingOrder(
        order_id=name,
        placed_at=_moment(when, number, "Paid at"),
        currency=order_currency,
        total=_money(head, number, "Total"),
        items=items,
        email=_cell(head, "Email") or None,
        cancelled=bool(_cell(head, "Cancelled at")) or status in REVERSED,
    )


def _invoices(rows: csv.DictReader[str], currency: str) -> ParsedOrders:
    """One row per invoice, without lines; a cancellation is its own invoice with a negative total."""
    parsed = ParsedOrders("invoices")
    for number, row in enumerate(rows, start=2):
        try:
            invoice = _required(row, number, "invoice")
            total = _money({"total": _cell(row, "total").lstrip("-")}, number, "total")
            parsed.orders.append(
                IncomingOrder(
                    order_id=invoice,
                    placed_at=_moment(_cell(row, "invoiced_at"), number, "invoiced_at"),
                    currency=currency,
                    total=total,
                    cancelled=_cell(row, "cancelled") == "1" or invoice.upper().startswith("C"),
                )
            )
        except _RowProblem as problem:
            parsed.errors.append(problem.error)
    return parsed


class _RowProblem(Exception):
    def __init__(self, row: int, field: str, message: str) -> None:
        super().__init__(message)
        self.error = RowError(row, field, message)


def _cell(row: dict[str, str], name: str) -> str:
    return (row.get(name) or "").strip()


def _required(row: dict[str, str], number: int, name: str) -> str:
    value = _cell(row, name)
    if not value:
        raise _RowProblem(number, name, "empty")
    if len(value) > 200:
        raise _RowProblem(number, name, "longer than 200 characters")
    return value


def _money(row: dict[str, str], number: int, name: str) -> Decimal:
    text = _cell(row, name)
    try:
        value = Decimal(text).quantize(Decimal("0.01"))
    except (InvalidOperation, ValueError):
        raise _RowProblem(number, name, f"{text!r} is not an amount") from None
    if not value.is_finite() or not Decimal(0) <= value <= MAX_AMOUNT:
        raise _RowProblem(number, name, f"{text} is not between 0 and {MAX_AMOUNT}")
    return value


def _quantity(row: dict[str, str], number: int, name: str) -> int:
    text = _cell(row, name)
    if not text.isdigit() or not 1 <= int(text) <= 10_000:
        raise _RowProblem(number, name, f"{text!r} is not a quantity from 1 to 10000")
    return int(text)


def _moment(text: str, number: int, name: str) -> dt.datetime:
    """Read Shopify's "2026-11-30 14:03:12 +0100" or ISO 8601; a time without a zone is UTC."""
    for reader in (lambda t: dt.datetime.strptime(t, "%Y-%m-%d %H:%M:%S %z"), dt.datetime.fromisoformat):
        try:
            moment = reader(text)
        except ValueError:
            continue
        return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)
    raise _RowProblem(number, name, f"{text!r} is not a date and time")
