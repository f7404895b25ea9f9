"""`flask scores`: compute the stored scores, and measure the model on an invoices file."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click
import sqlalchemy as sa
from flask.cli import AppGroup, with_appcontext

from .. import merchants
from ..models import Merchant
from ..platform.db import get_session
from .evaluation import EvalInputError, evaluate, read_invoices
from .scores import compute_all

scores_cli = AppGroup("scores", help="Predictive scores: will order, may leave, worth.")


@scores_cli.command("compute")
@click.option("--merchant", "slug", default=None, help="One merchant's slug (default: every merchant).")
@with_appcontext
def scores_compute(slug: str | None) -> None:
    """Score every live profile from its linked orders and store the scores with the model version and date."""
    if slug is not None:
        merchant = merchants.get_by_slug(slug)
        if merchant is None:
            raise click.ClickException(f"no merchant {slug!r}")
        chosen = [merchant]
    else:
        chosen = list(get_session().scalars(sa.select(Merchant).order_by(Merchant.id)))
    compute_all(
        chosen,
        lambda run: click.echo(
            f"{run.merchant}: {run.with_orders} profiles scored from orders, "
            f"{run.without_orders} without orders (no score), model {run.model_version}"
        ),
    )


@scores_cli.command("eval")
@click.option("--orders", "file", required=True, type=click.Path(dir_okay=False, path_type=Path), help="Invoices TSV.")
@click.option("--calibration-end", required=True, type=click.DateTime(["%Y-%m-%d"]), help="First day predicted.")
@click.option("--window-end", required=True, type=click.DateTime(["%Y-%m-%d"]), help="Last day predicted.")
def scores_eval(file: Path, calibration_end: dt.datetime, window_end: dt.datetime) -> None:
    """Train on the invoices before the calibration end; judge each method on the window.

    Prints ``METHOD auc=... logloss=... mae_orders=... mae_spend=...`` for recency, rfm, rate and
    production ("-" where a method predicts no such thing).
    """
    if not file.is_file():
        raise click.ClickException(f"{file}: no such file")
    try:
        results = evaluate(read_invoices(file.read_bytes()), calibration_end.date(), window_end.date())
    except EvalInputError as exc:
        raise click.ClickException(f"{file.name}: {exc}") from exc
    for result in results:
        click.echo(result.line())
