"""Recommendations for a shopper's answers, timed, with the product details to show."""

from __future__ import annotations

import time
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from flask import current_app

from recommender import NO_DIVERSITY, CatalogItem, Diversity, Reason

from ..catalog.engine import recommender_for
from ..models import Merchant
from ..outcomes import experiments
from ..outcomes.bought import owned_products
from ..platform import metrics
from ..platform.i18n import current_locale
from ..quizzes.schema import Quiz
from .preferences import build_preferences
from .reasons import category_names, owned_phrases, phrase


@dataclass(frozen=True)
class RecommendedItem:
    """A recommended product as shown to the shopper (``fallback``: outside some filter)."""

    item: CatalogItem
    score: float
    reasons: tuple[str, ...]  # worded in the request's language
    fallback: bool = False
    explained: tuple[Reason, ...] = ()  # the same reasons as data, to word again in another language
    owned: bool = False  # the shopper bought it before (a consumable, or after the hiding period)


@dataclass(frozen=True)
class RecommendationResult:
    """The ranked items, the preference vector they came from, and the time taken."""

    items: list[RecommendedItem]
    vector: np.ndarray | None
    took_ms: float


def recommend(
    merchant: Merchant,
    quiz: Quiz,
    answers: Mapping[str, Any],
    limit: int,
    exclude: Collection[str] = (),
    diverse: bool = True,
    subject_id: str | None = None,
    profile_id: str | None = None,
    among: Collection[str] | None = None,
) -> RecommendationResult:
    """Return up to ``limit`` products for validated ``answers``, skipping the ``exclude`` external ids.

    With the shopper's ``subject_id``, a running A/B test's variant may turn diversity or the
    category prior off. A product the shopper's profile (``subject_id``'s or ``profile_id``)
    bought before is marked ``owned`` and its reasons say so, never pitching it as new.
    ``among`` (external ids) restricts the results to those products.
    """
    started = time.perf_counter()
    variant = experiments.variant_for(merchant, subject_id)
    recommender = recommender_for(merchant)
    prefs = build_preferences(quiz, answers, current_locale())
    vector = recommender.preference_vector(prefs)
    ranked = recommender.recommend(
        prefs,
        limit=limit,
        exclude=recommender.catalog.ids_of(exclude) if exclude else (),
        vector=vector,
        diversity=configured_diversity() if diverse and variant.diversity else NO_DIVERSITY,
        category_prior=variant.category_prior,
        among=None if among is None else recommender.catalog.ids_of(among),
    )
    names = category_names(quiz, current_locale())
    owned = (
        owned_products(merchant, subject_id=subject_id, profile_id=profile_id) if subject_id or profile_id else set()
    )
    items = []
    for r in ranked:
        item = recommender.catalog.items[r.item_id]
        mine = item.external_id in owned
        reasons = owned_phrases(r.reasons, names) if mine else tuple(phrase(x, names) for x in r.reasons)
        items.append(RecommendedItem(item, r.score, reasons, r.fallback, r.reasons, mine))
    took_s = time.perf_counter() - started
    metrics.observe_recommendation(took_s)
    return RecommendationResult(items, vector, took_s * 1000)


def configured_diversity() -> Diversity:
    """Return the configured diversity knob."""
    config = current_app.config
    return Diversity(weight=config["DIVERSITY_WEIGHT"], per_group=config["DIVERSITY_PER_GROUP"])
