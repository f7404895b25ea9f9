"""``flask --app app ...`` commands: database, demo, merchants, indexes."""

from __future__ import annotations

from pathlib import Path

import click
from flask import Flask
from flask.cli import AppGroup, with_appcontext

from recommender.importers import FORMATS

from . import merchants
from .accounts import AccountError
from .catalog import rebuild_index
from .db import transaction

db_cli = AppGroup("db", help="Database schema.")
demo_cli = AppGroup("demo", help="The demo merchant.")
merchant_cli = AppGroup("merchant", help="Merchants.")
index_cli = AppGroup("index", help="Search indexes.")
catalog_cli = AppGroup("catalog", help="Catalog imports.")
profiles_cli = AppGroup("profiles", help="Stored shopper profiles.")
jobs_cli = AppGroup("jobs", help="Background jobs (the production shape's job worker).")


@db_cli.command("upgrade")
@with_appcontext
def db_upgrade() -> None:
    """Apply database migrations."""
    from flask import current_app

    from .migrate import upgrade

    upgrade(current_app)
    click.echo("database is up to date")


@db_cli.command("create")
@with_appcontext
def db_create() -> None:
    """Create the PostgreSQL database DATABASE_URL names when it is missing (SQLite: nothing to do)."""
    import sqlalchemy as sa
    from flask import current_app
    from sqlalchemy.engine import make_url

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


@demo_cli.command("load")
@with_appcontext
def demo_load() -> None:
    """Create the demo merchant with its catalog and index when missing."""
    from .demo import load_demo

    created = load_demo()
    if created is None:
        click.echo("demo merchant already loaded")
    else:
        click.echo("demo merchant created; these secrets are shown only now:")
        _echo_secrets(created)


@demo_cli.command("partner")
@click.option("--port", default=5001, show_default=True, help="Port of the partner site.")
@click.option("--attune", "attune_url", default="http://127.0.0.1:5000", show_default=True, help="Attune's URL.")
@with_appcontext
def demo_partner(port: int, attune_url: str) -> None:
    """Serve a partner page on http://localhost:PORT that embeds the demo quiz (another site than Attune's)."""
    from werkzeug.serving import run_simple

    from .demo import partner_site

    click.echo(f"partner demo on http://localhost:{port}/ (embedding {attune_url})")
    run_simple("localhost", port, partner_site(attune_url, f"http://localhost:{port}"), use_reloader=False)


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
    _echo_secrets(created)


def _echo_secrets(created: merchants.NewMerchant) -> None:
    click.echo(f"admin_email: {created.admin_email}")
    click.echo(f"admin_password: {created.admin_password}")
    click.echo(f"api_key: {created.api_key}")


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


@catalog_cli.command("import")
@click.option("--merchant", "slug", required=True, help="The merchant's slug.")
@click.option("--format", "format_", type=click.Choice(FORMATS), default=None, help="Skip detection.")
@click.option("--mode", type=click.Choice(["full", "upsert"]), default="upsert", show_default=True)
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@with_appcontext
def catalog_import(slug: str, format_: str | None, mode: str, file: Path) -> None:
    """Import a catalog file now, with a progress bar and a summary line."""
    from .imports import ImportRejected, create_import, run_import

    merchant = merchants.get_by_slug(slug)
    if merchant is None:
        raise click.ClickException(f"no merchant {slug!r}")
    try:
        job = create_import(merchant, file.read_bytes(), file.name, format_, mode)
    except ImportRejected as exc:
        raise click.ClickException(f"{file.name}: {exc}") from exc
    with click.progressbar(length=job.total, label=f"Importing {file.name}", show_eta=True) as bar:

        def advance(processed: int, _total: int) -> None:
            bar.update(processed - bar.pos)

        job = run_import(job.id, advance)
    if job.status != "done":
        raise click.ClickException(job.message)
    s = job.summary
    click.echo(
        f"{file.name}: {job.format}, {job.total} products: {s['created']} new, {s['updated']} updated, "
        f"{s['unchanged']} unchanged, {s['deactivated']} made unavailable, {job.failed} rows skipped "
        f"({s['embedded']} embedded)"
    )


@profiles_cli.command("purge-expired")
@with_appcontext
def profiles_purge_expired() -> None:
    """Delete profiles past their retention period and saved quizzes left for a week."""
    from .retention import purge

    done = purge()
    click.echo(f"{done.profiles} expired profiles deleted, {done.saved_quizzes} stale saved quizzes deleted")


@jobs_cli.command("worker")
@click.option("--burst", is_flag=True, help="Run the jobs waiting now, then exit.")
@with_appcontext
def jobs_worker(burst: bool) -> None:
    """Run imports from the Redis queue (REDIS_URL), plus the retention purge and webhook retries."""
    from flask import current_app
    from redis.exceptions import ConnectionError as RedisDown

    from .job_tasks import work

    try:
        work(current_app._get_current_object(), burst=burst)  # type: ignore[attr-defined]
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc
    except RedisDown as exc:
        raise click.ClickException(f"Redis at REDIS_URL cannot be reached: {exc}") from exc


def init_app(app: Flask) -> None:
    """Register the command groups."""
    from .eval_cli import eval_command

    for group in (db_cli, demo_cli, merchant_cli, index_cli, catalog_cli, profiles_cli, jobs_cli):
        app.cli.add_command(group)
    app.cli.add_command(eval_command)
