"""Recommendations for a shopper's answers, timed, with the product details to show."""

from __future__ import annotations

import time
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from flask import current_app

from recommender import NO_DIVERSITY, CatalogItem, Diversity

from . import metrics
from .models import Merchant
from .preferences import build_preferences
from .quiz_schema import Quiz
from .reasons import phrase
from .search import recommender_for


@dataclass(frozen=True)
class RecommendedItem:
    """A recommended product as shown to the shopper (``fallback``: outside some filter)."""

    item: CatalogItem
    score: float
    reasons: tuple[str, ...]  # worded in the request's language
    fallback: bool = False


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
) -> RecommendationResult:
    """Return up to ``limit`` products for validated ``answers``, skipping the ``exclude`` external ids."""
    started = time.perf_counter()
    recommender = recommender_for(merchant)
    prefs = build_preferences(quiz, answers)
    vector = recommender.preference_vector(prefs)
    ranked = recommender.recommend(
        prefs,
        limit=limit,
        exclude=recommender.catalog.ids_of(exclude) if exclude else (),
        vector=vector,
        diversity=configured_diversity() if diverse else NO_DIVERSITY,
    )
    items = [
        RecommendedItem(recommender.catalog.items[r.item_id], r.score, tuple(map(phrase, r.reasons)), r.fallback)
        for r in ranked
    ]
    took_s = time.perf_counter() - started
    metrics.observe_recommendation(took_s)
    return RecommendationResult(items, vector, took_s * 1000)


def configured_diversity() -> Diversity:
    """Return the configured diversity knob."""
    config = current_app.config
    return Diversity(weight=config["DIVERSITY_WEIGHT"], per_group=config["DIVERSITY_PER_GROUP"])
