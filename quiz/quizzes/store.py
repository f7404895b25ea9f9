"""Quiz definitions of a merchant: the live version, publishing, and the default quiz."""

from __future__ import annotations

import copy
import re
from collections import Counter
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import sqlalchemy as sa
import yaml
from flask import current_app

from ..models import Merchant, Product, QuizDefinition
from ..platform.db import get_session
from ..platform.errors import NotReady
from .schema import Quiz, load_quiz

DEFAULT_QUIZ = Path(__file__).parents[1] / "content" / "default_quiz.yaml"
CACHE = "attune.quizzes"
# The default quiz's question whose options follow the catalog.
CATEGORY_QUESTION = "categories"
MAX_CACHED_QUIZZES = 256
MAX_CATEGORY_OPTIONS = 12


class NoQuiz(NotReady, LookupError):
    """The merchant has no quiz definition (answered 503)."""


class NoSuchVersion(LookupError):
    """The merchant has no quiz version with that number."""


def default_definition() -> dict[str, Any]:
    """Return the raw default quiz that new merchants start from."""
    data: dict[str, Any] = yaml.safe_load(DEFAULT_QUIZ.read_text(encoding="utf-8"))
    return data


def publish(merchant: Merchant, definition: Mapping[str, Any], origin: str = "merchant") -> QuizDefinition:
    """Validate ``definition`` and store it as the merchant's next, live version.

    ``origin`` is "default" for quizzes Attune generated, which keep following the catalog.

    Raises:
        marshmallow.ValidationError: with dotted paths; nothing is stored.
    """
    quiz = load_quiz(definition)
    session = get_session()
    latest = session.scalar(
        sa.select(sa.func.max(QuizDefinition.version)).where(QuizDefinition.merchant_id == merchant.id)
    )
    row = QuizDefinition(
        merchant_id=merchant.id,
        version=(latest or 0) + 1,
        locale=quiz.locale,
        definition=dict(definition),
        origin=origin,
    )
    session.add(row)
    session.flush()
    return row


def live_definition(merchant: Merchant) -> QuizDefinition:
    """Return the stored row of the merchant's live quiz."""
    row = get_session().scalar(
        sa.select(QuizDefinition)
        .where(QuizDefinition.merchant_id == merchant.id)
        .order_by(QuizDefinition.version.desc())
        .limit(1)
    )
    if row is None:
        raise NoQuiz(f"{merchant.name} has no quiz yet")
    return row


def live_quiz(merchant: Merchant) -> Quiz:
    """Return the merchant's live quiz, loaded (cached per stored version)."""
    return _loaded(live_definition(merchant))


def quiz_version(merchant: Merchant, version: int) -> Quiz:
    """Return one of the merchant's quiz versions, loaded (an A/B variant's); the live quiz if it is gone."""
    row = get_version(merchant, version)
    return _loaded(row) if row is not None else live_quiz(merchant)


def _loaded(row: QuizDefinition) -> Quiz:
    cache: dict[int, Quiz] = current_app.extensions.setdefault(CACHE, {})
    quiz = cache.get(row.id)
    if quiz is None:
        quiz = load_quiz(row.definition, version=row.version)
        if len(cache) >= MAX_CACHED_QUIZZES:
            cache.clear()  # old versions are rarely asked for again; reload the live ones
        cache[row.id] = quiz
    return quiz


def follow_catalog(merchant: Merchant) -> QuizDefinition | None:
    """Fit a generated quiz to the catalog and to today's default quiz; merchants' own quizzes stay as they are.

    Starting from the default quiz (so its improved texts and translations reach generated
    quizzes), options whose categories the catalog does not have are dropped and categories
    without an option get one, labelled with the category's name. Returns the new version, if any.
    """
    live = live_definition(merchant)
    if live.origin != "default":
        return None
    definition = default_definition()
    for section in definition["sections"]:
        for question in section["questions"]:
            if question["id"] == CATEGORY_QUESTION:
                question["options"] = _category_options(question["options"], catalog_categories(merchant))
    if definition == live.definition:
        return None
    return publish(merchant, definition, origin="default")


def _category_options(options: list[dict[str, Any]], categories: list[str]) -> list[dict[str, Any]]:
    present = set(categories)

    def still_fits(option: dict[str, Any]) -> bool:
        signals = option.get("signals", {})
        wanted = set(signals.get("categories", []))
        return bool(signals.get("any")) or (bool(wanted) and wanted <= present)

    kept = [o for o in options if still_fits(o)]
    covered = {c for o in kept for c in o.get("signals", {}).get("categories", [])}
    taken = {o["value"] for o in kept}
    for category in categories:
        if category not in covered:
            value = _option_value(category, taken)
            taken.add(value)
            kept.append({"value": value, "label": category, "signals": {"categories": [category]}})
    return kept


def _option_value(category: str, taken: set[str]) -> str:
    base = re.sub(r"[^a-z0-9]+", "_", category.lower()).strip("_")[:60] or "category"
    value, n = base, 2
    while value in taken:
        value, n = f"{base}_{n}", n + 1
    return value


def catalog_categories(merchant: Merchant, limit: int = MAX_CATEGORY_OPTIONS) -> list[str]:
    """Return the catalog's top-level categories of available products, most common first."""
    rows = get_session().scalars(
        sa.select(Product.category).where(Product.merchant_id == merchant.id, Product.available.is_(True))
    )
    counts = Counter(top for c in rows if (top := c.split(">")[0].strip()))
    return [name for name, _ in counts.most_common(limit)]


def versions(merchant: Merchant) -> list[QuizDefinition]:
    """Return the merchant's quiz versions, newest (the live one) first."""
    return list(
        get_session().scalars(
            sa.select(QuizDefinition)
            .where(QuizDefinition.merchant_id == merchant.id)
            .order_by(QuizDefinition.version.desc())
        )
    )


def get_version(merchant: Merchant, version: int) -> QuizDefinition | None:
    """Return one of the merchant's quiz versions, if it exists."""
    return get_session().scalar(
        sa.select(QuizDefinition).where(QuizDefinition.merchant_id == merchant.id, QuizDefinition.version == version)
    )


def rollback(merchant: Merchant, version: int) -> QuizDefinition:
    """Publish an earlier version's definition again as the newest version; history is never rewritten.

    The copy keeps the earlier version's origin, so a generated quiz brought back follows the
    catalog again. When the live version already is that definition (a repeated click), it is
    returned as it is.

    Raises:
        NoSuchVersion: the merchant has no such version.
        marshmallow.ValidationError: the old definition no longer passes today's schema.
    """
    row = get_version(merchant, version)
    if row is None:
        raise NoSuchVersion(f"{merchant.name} has no quiz version {version}")
    live = live_definition(merchant)
    if live.definition == row.definition and live.origin == row.origin:
        return live
    return publish(merchant, copy.deepcopy(row.definition), origin=row.origin)
