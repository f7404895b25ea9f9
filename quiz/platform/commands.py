"""``flask db ...``: the database schema."""

from __future__ import annotations

import click
import sqlalchemy as sa
from flask import current_app
from flask.cli import AppGroup, with_appcontext
from sqlalchemy.engine import make_url

from .migrate import upgrade

db_cli = AppGroup("db", help="Database schema.")


@db_cli.command("upgrade")
@with_appcontext
def db_upgrade() -> None:
    """Apply database migrations."""
    upgrade(current_app)
    click.echo("database is up to date")


@db_cli.command("create")
@with_appcontext
def db_create() -> None:
    """Create the PostgreSQL database DATABASE_URL names when it is missing (SQLite: nothing to do)."""
    url = make_url(current_app.config["DATABASE_URL"])
    if not url.drivername.startswith("postgresql"):
        click.echo("database exists (SQLite makes its file on first use)")
        return
    admin = sa.create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            found = conn.scalar(sa.text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": url.database})
            if not found:
                conn.execute(sa.text(f'CREATE DATABASE "{url.database}"'))
    finally:
        admin.dispose()
    click.echo("database exists" if found else f"database {url.database} created")
