"""``flask --app app ...`` commands: database, demo, merchants, indexes."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup, with_appcontext

from . import merchants
from .catalog import rebuild_index
from .db import transaction

db_cli = AppGroup("db", help="Database schema.")
demo_cli = AppGroup("demo", help="The demo merchant.")
merchant_cli = AppGroup("merchant", help="Merchants.")
index_cli = AppGroup("index", help="Search indexes.")


@db_cli.command("upgrade")
@with_appcontext
def db_upgrade() -> None:
    """Apply database migrations."""
    from flask import current_app

    from .migrate import upgrade

    upgrade(current_app)
    click.echo("database is up to date")


@demo_cli.command("load")
@with_appcontext
def demo_load() -> None:
    """Create the demo merchant with its catalog and index when missing."""
    from .demo import load_demo

    key = load_demo()
    if key is None:
        click.echo("demo merchant already loaded")
    else:
        click.echo("demo merchant created")
        click.echo(f"api_key: {key}")


@merchant_cli.command("create")
@click.argument("slug")
@click.option("--name", required=True, help="The shop's name as shoppers see it.")
@with_appcontext
def merchant_create(slug: str, name: str) -> None:
    """Create a merchant and print its API key once."""
    try:
        with transaction():
            merchant, key = merchants.create(slug, name)
    except merchants.MerchantError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"merchant {merchant.slug} created")
    click.echo(f"api_key: {key}")


@index_cli.command("rebuild")
@click.option("--merchant", "slug", required=True, help="The merchant's slug.")
@with_appcontext
def index_rebuild(slug: str) -> None:
    """Rebuild a merchant's index from stored embeddings (no re-embedding)."""
    merchant = merchants.get_by_slug(slug)
    if merchant is None:
        raise click.ClickException(f"no merchant {slug!r}")
    with transaction():
        version = rebuild_index(merchant)
    click.echo(f"index {version} is active for {slug}")


def init_app(app: Flask) -> None:
    """Register the command groups."""
    for group in (db_cli, demo_cli, merchant_cli, index_cli):
        app.cli.add_command(group)
