"""``flask --app app eval``: retrieval quality on relevance sets and on the quiz personas."""

from __future__ import annotations

import time
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from recommender import NO_DIVERSITY
from recommender.evaluation import FORMATS, DatasetError, load
from recommender.evaluation.runner import METHODS, MethodResult, evaluate, table

from . import merchants
from .persona_eval import DEFAULT_PERSONAS, PersonaError, evaluate_personas, load_personas
from .quizzes import live_quiz
from .recommendations import configured_diversity
from .search import get_embedder


@click.command("eval")
@click.option("--format", "format_", type=click.Choice(FORMATS), default="wands", show_default=True)
@click.option(
    "--dir",
    "folders",
    multiple=True,
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="A relevance set's folder; repeat for several sets.",
)
@click.option("--method", "methods", multiple=True, type=click.Choice(METHODS), help="Only these (default: all).")
@click.option(
    "--personas",
    type=click.Path(dir_okay=False, path_type=Path),
    default=DEFAULT_PERSONAS,
    show_default=True,
    help="Quiz-answer personas scored on the demo merchant ('-' to skip).",
)
@click.option("--diverse/--no-diverse", default=False, show_default=True, help="Re-rank production for variety.")
@with_appcontext
def eval_command(
    format_: str, folders: tuple[Path, ...], methods: tuple[str, ...], personas: Path, diverse: bool
) -> None:
    """Index each relevance set through the production path and score every retrieval method."""
    if not folders and str(personas) == "-":
        raise click.UsageError("nothing to evaluate: give --dir, or keep --personas")
    results: dict[str, list[MethodResult]] = {}
    for folder in folders:
        click.echo(f"# {folder.name}")
        try:
            dataset = load(folder, format_)  # type: ignore[arg-type]
            diversity = configured_diversity() if diverse else NO_DIVERSITY
            rows = evaluate(dataset, get_embedder(), methods or METHODS, _hnsw_threshold(), diversity)
        except DatasetError as exc:
            raise click.ClickException(str(exc)) from exc
        for row in rows:
            click.echo(row.scores.line(row.method))
        results[folder.name] = rows
    if str(personas) != "-":
        row = _personas(personas, diverse)
        if row is not None:
            click.echo("# quiz personas")
            click.echo(row.scores.line(row.method))
            results["quiz-personas"] = [row]
    click.echo("")
    click.echo(table(results))


def _personas(path: Path, diverse: bool) -> MethodResult | None:
    """Score the personas on the demo merchant; None (with a note) when there is no demo."""
    merchant = merchants.get_by_slug(current_app.config["DEMO_MERCHANT"])
    if merchant is None or not merchant.active_index:
        click.echo("# quiz personas skipped: the demo merchant is not loaded (flask demo load)")
        return None
    started = time.perf_counter()
    try:
        personas = load_personas(path)
        scores, rows = evaluate_personas(merchant, live_quiz(merchant), personas, diverse=diverse)
    except (PersonaError, OSError) as exc:
        raise click.ClickException(f"{path}: {exc}") from exc
    elapsed = (time.perf_counter() - started) * 1000 / max(len(rows), 1)
    return MethodResult("production", scores, elapsed)


def _hnsw_threshold() -> int:
    return int(current_app.config["HNSW_THRESHOLD"])
