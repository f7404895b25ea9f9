"""`flask journeys`: switch journeys on, and run them (or see what a run would do)."""

from __future__ import annotations

import click
import sqlalchemy as sa
from flask import current_app
from flask.cli import AppGroup, with_appcontext

from .. import merchants
from ..models import Merchant
from ..platform.db import get_session, transaction
from . import journeys
from .runner import Decision, run

journeys_cli = AppGroup("journeys", help="Triggered messages: reminders, fresh picks, new products, win-back.")


def _merchants(slug: str | None) -> list[Merchant]:
    if slug is None:
        return list(get_session().scalars(sa.select(Merchant).order_by(Merchant.id)))
    merchant = merchants.get_by_slug(slug)
    if merchant is None:
        raise click.ClickException(f"no merchant {slug!r}")
    return [merchant]


@journeys_cli.command("enable")
@click.option("--merchant", "slug", required=True, help="The merchant's slug.")
@click.option("--delay-hours", type=click.IntRange(0, 24 * 90), default=None, help="Hours after the trigger.")
@click.option(
    "--threshold",
    type=click.FloatRange(0, 1),
    default=None,
    help="win_back: the churn risk from which; new_products: the least closeness to the taste.",
)
@click.option("--off", is_flag=True, help="Switch the journey off instead.")
@click.argument("kind", type=click.Choice(journeys.AVAILABLE))
@with_appcontext
def journeys_enable(slug: str, delay_hours: int | None, threshold: float | None, off: bool, kind: str) -> None:
    """Switch a journey on (or off with --off), optionally with its delay or win-back threshold."""
    (merchant,) = _merchants(slug)
    with transaction():
        journey = journeys.configure(merchant, kind, enabled=not off, delay_hours=delay_hours, threshold=threshold)
    click.echo(f"{merchant.slug}: {kind} {'on' if journey.enabled else 'off'}, after {journey.delay_hours} hours")


@journeys_cli.command("run")
@click.option("--merchant", "slug", default=None, help="One merchant's slug (default: every merchant).")
@click.option("--dry-run", is_flag=True, help="Print what would go to whom and why; send and record nothing.")
@with_appcontext
def journeys_run(slug: str | None, dry_run: bool) -> None:
    """Decide every switched-on journey's candidates now and send what passes every check."""
    base = current_app.config.get("PUBLIC_URL") or "http://localhost"

    def show(decision: Decision) -> None:
        picks = f" [{', '.join(decision.products)}]" if decision.products else ""
        who = f"{decision.kind} profile {decision.profile_id} {decision.channel}"
        click.echo(f"{who}: {decision.status}: {decision.reason}{picks}")

    totals: dict[str, int] = {}
    with current_app.test_request_context(base_url=base):  # links in messages are built on PUBLIC_URL
        for merchant in _merchants(slug):
            for decision in run(merchant, dry_run=dry_run, each=show):
                totals[decision.status] = totals.get(decision.status, 0) + 1
    summary = ", ".join(f"{n} {status}" for status, n in sorted(totals.items())) or "no candidates"
    click.echo(("dry run: " if dry_run else "") + summary)
