"""``flask index ...``, ``flask catalog ...``, ``flask jobs ...``: indexes, imports and the job worker."""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup, with_appcontext
from redis.exceptions import ConnectionError as RedisDown

from recommender.importers import FORMATS

from .. import merchants
from ..platform.db import transaction
from .engine import get_encoders
from .imports import ImportPreview, ImportRejected, create_import, preview_import, run_import
from .sync import rebuild_index, reembed_stale
from .worker import work

index_cli = AppGroup("index", help="Search indexes.")
catalog_cli = AppGroup("catalog", help="Catalog imports.")
jobs_cli = AppGroup("jobs", help="Background jobs (the production shape's job worker).")
PREVIEW_ERRORS = 20  # row errors a dry run prints before "... and N more"


@index_cli.command("rebuild")
@click.option("--merchant", "slug", required=True, help="The merchant's slug.")
@with_appcontext
def index_rebuild(slug: str) -> None:
    """Rebuild a merchant's index from stored embeddings (re-embedding only products another model embedded)."""
    merchant = merchants.get_by_slug(slug)
    if merchant is None:
        raise click.ClickException(f"no merchant {slug!r}")
    with transaction():
        again = reembed_stale(merchant)
        version = rebuild_index(merchant)
    if again:
        models = " + ".join(get_encoders().model_ids())
        click.echo(f"embedded {again} products again: they were embedded by another model (now {models})")
    click.echo(f"index {version} is active for {slug}")


@catalog_cli.command("import")
@click.option("--merchant", "slug", required=True, help="The merchant's slug.")
@click.option("--format", "format_", type=click.Choice(FORMATS), default=None, help="Skip detection.")
@click.option("--mode", type=click.Choice(["full", "upsert"]), default="upsert", show_default=True)
@click.option(
    "--dry-run",
    is_flag=True,
    help="Show what the import would do (format, mapping, first products, row errors) and change nothing.",
)
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@with_appcontext
def catalog_import(slug: str, format_: str | None, mode: str, dry_run: bool, file: Path) -> None:
    """Import a catalog file now, with a progress bar and a summary line."""
    merchant = merchants.get_by_slug(slug)
    if merchant is None:
        raise click.ClickException(f"no merchant {slug!r}")
    if dry_run:
        try:
            preview = preview_import(merchant, file.read_bytes(), file.name, format_, mode)
        except ImportRejected as exc:
            raise click.ClickException(f"{file.name}: {exc}") from exc
        _echo_preview(preview)
        return
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
    for warning in job.warnings:
        click.echo(f"warning: {warning}")
    click.echo(
        f"{file.name}: {job.format}, {job.total} products: {s['created']} new, {s['updated']} updated, "
        f"{s['unchanged']} unchanged, {s['deactivated']} made unavailable, {job.failed} rows skipped "
        f"({s['embedded']} embedded)"
    )


def _echo_preview(preview: ImportPreview) -> None:
    """Print an import preview: format, mapping, the first products, row errors, then a summary line."""
    click.echo(f"format: {preview.format}")
    mapping = ", ".join(f"{field} <- {column}" for field, column in preview.mapping.items())
    click.echo(f"mapping: {mapping or 'the format’s own columns'}")
    click.echo(f"first {len(preview.products)} products:")
    for record in preview.products:
        price = "no price" if record.price is None else f"{record.price:.2f} {record.currency}"
        click.echo(f"  {record.external_id}  {record.title}  ({price}; {record.category or 'no category'})")
    for error in preview.errors[:PREVIEW_ERRORS]:
        click.echo(f"row {error['row']}: {error['field'] or 'row'}: {error['message']}")
    if len(preview.errors) > PREVIEW_ERRORS:
        click.echo(f"... and {len(preview.errors) - PREVIEW_ERRORS} more row errors")
    for warning in preview.warnings:
        click.echo(f"warning: {warning}")
    click.echo(
        f"{preview.filename}: dry run, nothing changed: {preview.total} products would give {preview.created} new, "
        f"{preview.updated} updated, {preview.unchanged} unchanged, {preview.deactivated} made unavailable, "
        f"{preview.failed} rows skipped"
    )


@jobs_cli.command("worker")
@click.option("--burst", is_flag=True, help="Run the jobs waiting now, then exit.")
@with_appcontext
def jobs_worker(burst: bool) -> None:
    """Run imports from the Redis queue (REDIS_URL), plus the retention purge and webhook retries."""
    try:
        work(current_app._get_current_object(), burst=burst)  # type: ignore[attr-defined]
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc
    except RedisDown as exc:
        raise click.ClickException(f"Redis at REDIS_URL cannot be reached: {exc}") from exc
