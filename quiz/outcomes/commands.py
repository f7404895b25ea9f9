"""`flask orders import`: a merchant's order history from a file, with progress and row errors."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import AppGroup, with_appcontext

from .. import merchants
from .events import shop_currency
from .order_imports import OrderFileRejected, import_orders, parse_for

orders_cli = AppGroup("orders", help="The merchant's orders.")
SHOWN_ERRORS = 10


@orders_cli.command("import")
@click.option("--merchant", "slug", required=True, help="The merchant's slug.")
@click.option("--currency", default=None, help="Currency of an invoices table (default: the shop's catalog's).")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@with_appcontext
def orders_import(slug: str, currency: str | None, file: Path) -> None:
    """Import Shopify's orders CSV export or an invoices table; importing again updates, never doubles."""
    merchant = merchants.get_by_slug(slug)
    if merchant is None:
        raise click.ClickException(f"no merchant {slug!r}")
    shop = shop_currency(merchant)
    if currency and shop and currency.upper() != shop:
        raise click.ClickException(f"--currency {currency.upper()}: this shop sells in {shop}")
    try:
        parsed = parse_for(merchant, file.read_bytes(), currency)
    except OrderFileRejected as exc:
        raise click.ClickException(f"{file.name}: {exc}") from exc
    for error in parsed.errors[:SHOWN_ERRORS]:
        click.echo(f"row {error.row}, {error.field}: {error.message}", err=True)
    if len(parsed.errors) > SHOWN_ERRORS:
        click.echo(f"... and {len(parsed.errors) - SHOWN_ERRORS} more rows skipped", err=True)
    if not parsed.orders:
        raise click.ClickException(f"{file.name}: no order could be imported ({len(parsed.errors)} rows skipped)")
    with click.progressbar(length=len(parsed.orders), label=f"Importing {file.name}", show_eta=True) as bar:
        summary = import_orders(merchant, parsed, bar.update)
    click.echo(
        f"{file.name}: {parsed.format}, {len(parsed.orders)} orders: {summary.created} new, "
        f"{summary.updated} updated, {summary.cancelled} cancelled, {len(parsed.errors)} rows skipped"
    )
