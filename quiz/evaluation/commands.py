"""``flask --app app eval``: retrieval quality on relevance sets and on the quiz personas."""

from __future__ import annotations

import time
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from recommender import NO_DIVERSITY, Preferences
from recommender.evaluation import FORMATS, DatasetError, load
from recommender.evaluation.runner import (
    METHODS,
    MethodResult,
    ShopperPath,
    evaluate,
    floors_missed,
    parse_floor,
    table,
)

from .. import merchants
from ..catalog.engine import get_embedder, get_encoders
from ..quizzes.schema import Quiz, load_quiz
from ..quizzes.store import default_definition, live_quiz
from ..shopping.preferences import build_preferences
from ..shopping.recommendations import configured_diversity
from .personas import DEFAULT_PERSONAS, PersonaError, evaluate_personas, load_personas


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
@click.option(
    "--diverse/--no-diverse",
    default=True,
    show_default=True,
    help="Vary production's pages as the app does (its default); --no-diverse ranks by relevance alone.",
)
@click.option(
    "--floor",
    "floor_texts",
    multiple=True,
    metavar="SET[:METHOD]=NDCG",
    help="Exit non-zero when a set's method (production by default) scores nDCG@10 below this; repeatable.",
)
@with_appcontext
def eval_command(
    format_: str,
    folders: tuple[Path, ...],
    methods: tuple[str, ...],
    personas: Path,
    diverse: bool,
    floor_texts: tuple[str, ...],
) -> None:
    """Index each relevance set through the production path and score every retrieval method."""
    if not folders and str(personas) == "-":
        raise click.UsageError("nothing to evaluate: give --dir, or keep --personas")
    try:
        floors = [parse_floor(text) for text in floor_texts]
    except ValueError as exc:
        raise click.UsageError(str(exc)) from exc
    results: dict[str, list[MethodResult]] = {}
    for folder in folders:
        click.echo(f"# {folder.name}")
        try:
            dataset = load(folder, format_)  # type: ignore[arg-type]
            rows = evaluate(
                dataset,
                get_embedder(),
                methods or METHODS,
                _hnsw_threshold(),
                shopper_path(diverse),
                get_encoders().by_language,
            )
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
    missed = floors_missed(results, floors)
    if missed:
        raise click.ClickException("quality below its floor: " + "; ".join(missed))


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


def shopper_path(diverse: bool = True) -> ShopperPath:
    """Return what a shopper's free-text answer goes through in this app.

    The default quiz's "need" question and its preference builder, the configured page size
    (so the candidate depth of each page) and the configured variety of each page.
    """
    quiz = load_quiz(default_definition())
    question = _need_question(quiz)

    def preferences(text: str) -> Preferences:
        return build_preferences(quiz, {question: text})

    return ShopperPath(
        preferences=preferences,
        page_size=int(current_app.config["RECOMMENDATION_LIMIT"]),
        diversity=configured_diversity() if diverse else NO_DIVERSITY,
    )


def _need_question(quiz: Quiz) -> str:
    """Return the id of the quiz's free-text question that describes what the shopper wants."""
    for question in quiz.questions():
        if question.type == "text" and question.role == "need":
            return question.id
    raise click.ClickException("the default quiz has no free-text 'need' question to evaluate with")


def _hnsw_threshold() -> int:
    return int(current_app.config["HNSW_THRESHOLD"])
