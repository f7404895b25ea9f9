"""Evaluate the quiz path on hand-labelled shopper personas: nDCG@10, recall@50 and MRR.

A persona is a complete set of quiz answers (in the API's format) plus the products that
shopper would accept, graded 2 (exactly what they want) or 1 (acceptable). The demo shop's
personas live in ``tests/data/quiz_personas.yaml``. :func:`evaluate_personas` runs each
persona's answers through the production path (the API's answer validation, then
:func:`quiz.shopping.recommendations.recommend` with the app's settings, page after page the way
"Show me something different" fetches them) and scores the ranked product ids with the
metrics of :mod:`recommender.evaluation.metrics`.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
import yaml
from flask import current_app

from recommender.evaluation.metrics import Scores, ndcg_at, recall_at, reciprocal_rank, score_runs

from ..demo.shop import CATALOG as DEMO_CATALOG
from ..models import Merchant, Product
from ..platform.db import get_session
from ..quizzes.answers import AnswerError, clean_answers
from ..quizzes.schema import Quiz, load_quiz
from ..quizzes.store import default_definition
from ..shopping.recommendations import recommend

DEFAULT_PERSONAS = Path(__file__).resolve().parents[2] / "tests" / "data" / "quiz_personas.yaml"
GRADES = (1, 2)
FIELDS = ("id", "description", "answers", "accept")


class PersonaError(ValueError):
    """A persona file that cannot be evaluated; the message names the persona and the field."""


@dataclass(frozen=True)
class Persona:
    """A shopper: their quiz answers and the products they would accept (external id -> grade)."""

    id: str
    description: str
    answers: Mapping[str, Any]
    accept: Mapping[str, int]


@dataclass(frozen=True)
class PersonaRow:
    """One persona's scores, with the ranked external ids they came from."""

    persona_id: str
    ndcg10: float
    recall50: float
    mrr: float
    accepted: int  # products the persona accepts
    found: int  # of those, how many the ranking holds
    ranked: tuple[str, ...]

    def line(self) -> str:
        """Return a one-line summary, in the layout of :meth:`Scores.line`."""
        return (
            f"{self.persona_id} ndcg@10={self.ndcg10:.3f} recall@50={self.recall50:.3f} "
            f"mrr={self.mrr:.3f} found={self.found}/{self.accepted}"
        )


def demo_products(path: Path = DEMO_CATALOG) -> dict[str, bool]:
    """Return the demo catalog's external ids, each with whether the product is available."""
    data = json.loads(path.read_text(encoding="utf-8"))
    return {str(p["id"]): bool(p.get("available", True)) for p in data["products"]}


def load_personas(
    path: Path | str = DEFAULT_PERSONAS,
    quiz: Quiz | None = None,
    products: Mapping[str, bool] | None = None,
) -> list[Persona]:
    """Return the personas of a YAML file, each checked against a quiz and a catalog.

    Args:
        path: a file with a ``personas`` list (see ``tests/data/quiz_personas.yaml``).
        quiz: the quiz the answers must fit, as a complete submission; the default quiz
            (the demo merchant's) when omitted.
        products: external id -> available, of the catalog the accepted products must come
            from; the demo catalog when omitted.

    Raises:
        PersonaError: a file that is not a persona list, a persona without one of its fields,
            answers the quiz's own validation refuses, or accepted products that are unknown
            or unavailable; the message names the persona and the field.
    """
    quiz = quiz or load_quiz(default_definition())
    products = demo_products() if products is None else products
    entries = _read_entries(Path(path))
    personas = [_persona(entry, index, quiz, products) for index, entry in enumerate(entries)]
    _check_unique([p.id for p in personas], Path(path))
    return personas


def evaluate_personas(
    merchant: Merchant,
    quiz: Quiz,
    personas: Sequence[Persona],
    limit: int = 50,
    diverse: bool = True,
    page_size: int | None = None,
) -> tuple[Scores, list[PersonaRow]]:
    """Return the mean scores and one row per persona of the production recommendations.

    Needs an app context. Each persona's answers are validated as the API does, then
    recommended for exactly as a shopper gets them: pages of ``page_size`` items (the app's
    ``RECOMMENDATION_LIMIT`` by default), each page excluding what was shown before, until
    ``limit`` items are ranked. ``page_size`` of ``limit`` or more asks for one long page.
    ``diverse=False`` turns the first page's variety re-ranking off.

    Raises:
        PersonaError: answers this quiz refuses, or accepted products the merchant's
            catalog does not have or has unavailable.
    """
    if limit < 1:
        raise ValueError("limit must be at least 1")
    size = page_size or current_app.config["RECOMMENDATION_LIMIT"]
    _check_accepted(personas, merchant_products(merchant), f"{merchant.slug}'s catalog")
    runs = {p.id: _ranked(merchant, quiz, p, limit, diverse, size) for p in personas}
    return score_rankings(personas, runs)


def score_rankings(personas: Sequence[Persona], runs: Mapping[str, Sequence[str]]) -> tuple[Scores, list[PersonaRow]]:
    """Return the mean scores and per-persona rows of ranked external ids by persona id.

    A persona missing from ``runs`` counts as answered with nothing. Any ranking can be
    scored, so baselines (random, reversed) are measured the same way as production.
    """
    if not personas:
        raise PersonaError("no personas to evaluate")
    judgements = {p.id: p.accept for p in personas}
    rows = [_row(p, tuple(runs.get(p.id, ()))) for p in personas]
    return score_runs(runs, judgements), rows


def merchant_products(merchant: Merchant) -> dict[str, bool]:
    """Return the merchant's external ids, each with whether the product is available."""
    rows = get_session().execute(
        sa.select(Product.external_id, Product.available).where(Product.merchant_id == merchant.id)
    )
    return {external_id: bool(available) for external_id, available in rows}


def _ranked(merchant: Merchant, quiz: Quiz, persona: Persona, limit: int, diverse: bool, size: int) -> list[str]:
    """Return the external ids a shopper with the persona's answers is shown, page by page."""
    answers = _clean(quiz, persona.id, persona.answers)
    shown: list[str] = []
    while len(shown) < limit:
        wanted = min(size, limit - len(shown))
        page = recommend(merchant, quiz, answers, wanted, exclude=shown, diverse=diverse).items
        if not page:
            break
        shown.extend(item.item.external_id for item in page)
    return shown[:limit]


def _row(persona: Persona, ranked: tuple[str, ...]) -> PersonaRow:
    found = sum(1 for pid in set(ranked) if persona.accept.get(pid, 0) > 0)
    return PersonaRow(
        persona_id=persona.id,
        ndcg10=ndcg_at(ranked, persona.accept, 10),
        recall50=recall_at(ranked, persona.accept, 50),
        mrr=reciprocal_rank(ranked, persona.accept),
        accepted=sum(1 for grade in persona.accept.values() if grade > 0),
        found=found,
        ranked=ranked,
    )


def _read_entries(path: Path) -> list[Any]:
    """Return the raw persona entries of a file."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise PersonaError(f"{path}: cannot read the persona file ({exc.strerror})") from exc
    except yaml.YAMLError as exc:
        raise PersonaError(f"{path}: not valid YAML ({exc})") from exc
    entries = data.get("personas") if isinstance(data, dict) else None
    if not isinstance(entries, list) or not entries:
        raise PersonaError(f"{path}: expected a non-empty 'personas' list")
    return entries


def _persona(entry: Any, index: int, quiz: Quiz, products: Mapping[str, bool]) -> Persona:
    """Return one checked persona of the file (``index`` names it when it has no id)."""
    if not isinstance(entry, dict):
        raise PersonaError(f"persona #{index + 1}: expected a mapping with {', '.join(FIELDS)}")
    pid = entry.get("id")
    if not isinstance(pid, str) or not pid.strip():
        raise PersonaError(f"persona #{index + 1}: id: expected a non-empty string")
    unknown = sorted(set(entry) - set(FIELDS))
    if unknown:
        raise PersonaError(f"persona {pid!r}: unknown fields {', '.join(map(str, unknown))}")
    description = entry.get("description")
    if not isinstance(description, str) or not description.strip():
        raise PersonaError(f"persona {pid!r}: description: expected a non-empty string")
    answers = entry.get("answers")
    if not isinstance(answers, dict):
        raise PersonaError(f"persona {pid!r}: answers: expected a mapping of question id to answer")
    _clean(quiz, pid, answers)
    persona = Persona(pid, description.strip(), answers, _accept(pid, entry.get("accept")))
    _check_accepted([persona], products, "the catalog")
    return persona


def _clean(quiz: Quiz, pid: str, answers: Mapping[str, Any]) -> dict[str, Any]:
    """Return the answers as the API cleans a finished quiz; raise naming each refused answer."""
    try:
        return clean_answers(quiz, answers, complete=True)
    except AnswerError as exc:
        problems = "; ".join(f"answers.{qid}: {' '.join(map(str, msgs))}" for qid, msgs in sorted(exc.fields.items()))
        raise PersonaError(f"persona {pid!r}: {problems}") from exc


def _accept(pid: str, accept: Any) -> dict[str, int]:
    """Return the accepted products of a persona, checked to be ids graded 1 or 2."""
    if not isinstance(accept, dict) or not accept:
        raise PersonaError(f"persona {pid!r}: accept: expected a non-empty mapping of product id to grade")
    bad = [str(k) for k, grade in accept.items() if isinstance(grade, bool) or grade not in GRADES]
    if bad:
        raise PersonaError(f"persona {pid!r}: accept: grades must be 1 or 2, not for {', '.join(bad)}")
    return {str(k): int(grade) for k, grade in accept.items()}


def _check_accepted(personas: Sequence[Persona], products: Mapping[str, bool], where: str) -> None:
    """Raise naming any accepted product ``products`` does not hold, or holds unavailable."""
    for persona in personas:
        unknown = sorted(pid for pid in persona.accept if pid not in products)
        if unknown:
            raise PersonaError(f"persona {persona.id!r}: accept: unknown product ids in {where}: {', '.join(unknown)}")
        gone = sorted(pid for pid in persona.accept if not products[pid])
        if gone:
            raise PersonaError(f"persona {persona.id!r}: accept: unavailable products in {where}: {', '.join(gone)}")


def _check_unique(ids: Collection[str], path: Path) -> None:
    seen: set[str] = set()
    for pid in ids:
        if pid in seen:
            raise PersonaError(f"{path}: persona id {pid!r} is used twice")
        seen.add(pid)
