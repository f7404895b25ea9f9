"""``flask merchant ...``: merchants and their secrets."""

from __future__ import annotations

import click
from flask.cli import AppGroup, with_appcontext

from ..platform.db import transaction
from . import registry as merchants
from .accounts import AccountError

merchant_cli = AppGroup("merchant", help="Merchants.")


@merchant_cli.command("create")
@click.argument("slug")
@click.option("--name", required=True, help="The shop's name as shoppers see it.")
@click.option("--email", default=None, help="Admin login (default: admin@SLUG.example).")
@click.option("--password", default=None, help="Admin password, 12+ characters (default: generated).")
@with_appcontext
def merchant_create(slug: str, name: str, email: str | None, password: str | None) -> None:
    """Create a merchant with an admin login; print its API key and password once."""
    try:
        with transaction():
            created = merchants.create(slug, name, email=email, password=password)
    except (merchants.MerchantError, AccountError) as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"merchant {created.merchant.slug} created; these secrets are shown only now:")
    echo_secrets(created)


def echo_secrets(created: merchants.NewMerchant) -> None:
    """Print a new merchant's admin login and API key (shown this once)."""
    click.echo(f"admin_email: {created.admin_email}")
    click.echo(f"admin_password: {created.admin_password}")
    click.echo(f"api_key: {created.api_key}")
