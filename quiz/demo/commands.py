"""``flask demo ...``: the demo shop and its partner page."""

from __future__ import annotations

import click
from flask.cli import AppGroup, with_appcontext
from werkzeug.serving import run_simple

from .. import merchants
from ..merchants.commands import echo_secrets
from ..outcomes import verdicts
from .ab_test import LIFT, DemoTestRefused, run_demo_test
from .shop import load_demo, partner_site

demo_cli = AppGroup("demo", help="The demo merchant.")


@demo_cli.command("load")
@with_appcontext
def demo_load() -> None:
    """Create the demo merchant with its catalog and index when missing."""
    created = load_demo()
    if created is None:
        click.echo("demo merchant already loaded")
    else:
        click.echo("demo merchant created; these secrets are shown only now:")
        echo_secrets(created)


@demo_cli.command("partner")
@click.option("--port", default=5001, show_default=True, help="Port of the partner site.")
@click.option("--attune", "attune_url", default="http://127.0.0.1:5000", show_default=True, help="Attune's URL.")
@with_appcontext
def demo_partner(port: int, attune_url: str) -> None:
    """Serve a partner page on http://localhost:PORT that embeds the demo quiz (another site than Attune's)."""
    click.echo(f"partner demo on http://localhost:{port}/ (embedding {attune_url})")
    run_simple("localhost", port, partner_site(attune_url, f"http://localhost:{port}"), use_reloader=False)


@demo_cli.command("ab-test")
@click.option("--merchant", "slug", default="demo", show_default=True, help="The merchant's slug.")
@click.option(
    "--shoppers", default=800, show_default=True, type=click.IntRange(20, 100_000), help="Simulated shoppers."
)
@click.option(
    "--lift", default=LIFT, show_default=True, type=click.FloatRange(-0.3, 0.6), help="B's extra finish rate."
)
@click.option("--seed", default=7, show_default=True, help="Random seed of the simulated shoppers.")
@click.option("--choose-winner", is_flag=True, help="Choose the leader as the winner when the result is significant.")
@with_appcontext
def demo_ab_test(slug: str, shoppers: int, lift: float, seed: int, choose_winner: bool) -> None:
    """Run an A/B test to a result with simulated shoppers, and print each variant's numbers and the verdict."""
    merchant = merchants.get_by_slug(slug)
    if merchant is None:
        raise click.ClickException(f"no merchant {slug!r}")
    try:
        run = run_demo_test(merchant, shoppers=shoppers, lift=lift, seed=seed, choose_winner=choose_winner)
    except DemoTestRefused as exc:
        raise click.ClickException(str(exc)) from exc
    metric = run.results["metric"]
    click.echo(f"test {run.experiment_id}: {run.results['name']} ({metric}), {shoppers} simulated shoppers")
    for row in run.results["variants"]:
        rate = row["rate"]
        against = "control" if row["p_value"] is None else f"p = {row['p_value']:.4f}"
        click.echo(
            f"  {row['name']}: {row['completions']}/{row['exposures']} finished, "
            f"{verdicts.shown(metric, rate['value'])} (95% {verdicts.shown(metric, rate['low'])}"
            f"-{verdicts.shown(metric, rate['high'])}), {against}"
        )
    click.echo(f"{run.verdict.headline}. {run.verdict.detail}")
    if run.results["winner"]:
        click.echo(f"winner: {run.results['winner']} (its ranking settings are now the shop's)")
