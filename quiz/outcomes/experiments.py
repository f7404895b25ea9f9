"""A/B tests: experiments, sticky assignment of shoppers to variants, and each variant's results.

A shopper (a consent subject) is assigned by a hash of the experiment id and its subject id,
so the same shopper gets the same variant on every page, in the widget and on return visits,
without storing anything before it is shown. The first time a variant is shown, an exposure is
recorded; finishing the quiz completes it; orders linked to the subject's profile and placed
after the exposure are its conversions and revenue. A shopper who erases their data stays in the
results as anonymous counts (``quiz.privacy.experiment_data``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from .. import quizzes
from ..models import Experiment, Exposure, Merchant, utcnow
from ..platform.db import get_session
from ..platform.errors import ApiError
from ..privacy import experiment_data
from ..quizzes.schema import Quiz
from . import ranking, stats

HASH_SPACE = 2**64


@dataclass(frozen=True)
class Variant:
    """What a shopper of one variant gets: a quiz version (None: the live one) and ranking settings."""

    name: str
    quiz_version: int | None = None
    diversity: bool = True
    category_prior: bool = True


LIVE = Variant("live")


def create(merchant: Merchant, data: dict[str, Any]) -> Experiment:
    """Store a draft experiment from validated ``data``; quiz versions must be the merchant's.

    Raises:
        ApiError: 422 naming the variant whose quiz version does not exist.
    """
    fields: dict[str, Any] = {}
    for n, variant in enumerate(data["variants"]):
        version = variant.get("quiz_version")
        if version is not None and quizzes.get_version(merchant, version) is None:
            fields[str(n)] = {"quiz_version": [f"This shop has no quiz version {version}."]}
    if fields:
        raise ApiError(422, "The request has invalid fields.", {"variants": fields})
    experiment = Experiment(merchant_id=merchant.id, name=data["name"], metric=data["metric"], status="draft")
    experiment.variants = [
        {
            "name": v["name"],
            "quiz_version": v.get("quiz_version"),
            # An unset setting stays as the shop has it (on, unless an earlier winner turned it off).
            "settings": {**ranking.shop_settings(merchant), **(v.get("settings") or {})},
            "weight": float(v["weight"]),
        }
        for v in data["variants"]
    ]
    get_session().add(experiment)
    get_session().flush()
    return experiment


def listed(merchant: Merchant) -> list[Experiment]:
    """Return the merchant's experiments, newest first."""
    return list(
        get_session().scalars(
            sa.select(Experiment)
            .where(Experiment.merchant_id == merchant.id)
            .order_by(Experiment.created_at.desc(), Experiment.id)
        )
    )


def get_or_404(merchant: Merchant, experiment_id: str) -> Experiment:
    """Return one of the merchant's experiments (404 for another's or none)."""
    found = get_session().scalar(
        sa.select(Experiment).where(Experiment.merchant_id == merchant.id, Experiment.id == experiment_id)
    )
    if found is None:
        raise ApiError(404, "No such experiment.")
    return found


def start(merchant: Merchant, experiment: Experiment) -> Experiment:
    """Start assigning shoppers; only a draft starts, and only while no other experiment runs."""
    if experiment.status != "draft":
        raise ApiError(409, "Only a draft experiment can start.", {"status": [f"It is {experiment.status}."]})
    other = running(merchant)
    if other is not None:
        raise ApiError(409, "Another experiment is running.", {"status": [f"Stop {other.name!r} first."]})
    experiment.status, experiment.started_at = "running", utcnow()
    get_session().flush()
    return experiment


def stop(experiment: Experiment) -> Experiment:
    """Stop assigning shoppers (they get the live quiz again); the results stay."""
    if experiment.status != "running":
        raise ApiError(409, "Only a running experiment can stop.", {"status": [f"It is {experiment.status}."]})
    experiment.status, experiment.stopped_at = "stopped", utcnow()
    get_session().flush()
    return experiment


def declare_winner(merchant: Merchant, experiment: Experiment, name: str) -> int | None:
    """Stop the experiment, record variant ``name`` as the winner and publish its quiz version.

    The winner's ranking settings become the shop's (every shopper gets them from now on).
    Returns the newly live quiz version, or None when the winner is the live quiz with other
    ranking settings (there is nothing to publish).
    """
    variant = next((v for v in experiment.variants if v["name"] == name), None)
    if variant is None:
        raise ApiError(422, "The request has invalid fields.", {"variant": ["Not a variant of this experiment."]})
    if experiment.status == "draft":
        raise ApiError(409, "A draft has no results to pick a winner from.", {"status": ["It is draft."]})
    if experiment.status == "running":
        stop(experiment)
    experiment.winner = name
    ranking.keep(merchant, variant.get("settings") or {})
    published = None
    if variant["quiz_version"] is not None:
        published = quizzes.rollback(merchant, variant["quiz_version"]).version
    get_session().flush()
    return published


def running(merchant: Merchant) -> Experiment | None:
    """Return the merchant's running experiment, if any."""
    return get_session().scalar(
        sa.select(Experiment).where(Experiment.merchant_id == merchant.id, Experiment.status == "running").limit(1)
    )


def pick(experiment_id: str, subject_id: str, variants: list[dict[str, Any]]) -> dict[str, Any]:
    """Return the variant of ``subject_id``: a stable hash of both ids, split by the variants' weights."""
    digest = hashlib.sha256(f"{experiment_id}:{subject_id}".encode()).digest()
    point = int.from_bytes(digest[:8], "big") / HASH_SPACE * sum(v["weight"] for v in variants)
    for variant in variants:
        point -= variant["weight"]
        if point < 0:
            return variant
    return variants[-1]


def variant_for(merchant: Merchant, subject_id: str | None, *, expose: bool = False) -> Variant:
    """Return what the shopper gets under the running experiment (when none runs: the live quiz
    with the shop's ranking settings).

    ``expose`` records the first showing; callers that only read ranking settings leave it off.
    """
    experiment = running(merchant) if subject_id else None
    if experiment is None or subject_id is None:
        return Variant(LIVE.name, None, **ranking.shop_settings(merchant))
    chosen = pick(experiment.id, subject_id, experiment.variants)
    if expose:
        _expose(experiment, subject_id, chosen["name"])
    settings = chosen.get("settings") or {}
    return Variant(
        chosen["name"],
        chosen.get("quiz_version"),
        bool(settings.get("diversity", True)),
        bool(settings.get("category_prior", True)),
    )


def quiz_for(merchant: Merchant, subject_id: str | None) -> Quiz:
    """Return the quiz a shopper is shown: its variant's quiz version, or the live quiz; records the exposure."""
    variant = variant_for(merchant, subject_id, expose=True)
    if variant.quiz_version is None:
        return quizzes.live_quiz(merchant)
    return quizzes.quiz_version(merchant, variant.quiz_version)


def version_for(merchant: Merchant, subject_id: str | None) -> int:
    """Return the quiz version the shopper is shown (its variant's, else the live one); records nothing."""
    variant = variant_for(merchant, subject_id)
    return variant.quiz_version if variant.quiz_version is not None else quizzes.live_quiz(merchant).version


def note_completed(merchant: Merchant, subject_id: str) -> None:
    """Mark the shopper's exposure to the running experiment as completed (finished the quiz)."""
    experiment = running(merchant)
    if experiment is None:
        return
    get_session().execute(
        sa.update(Exposure)
        .where(Exposure.experiment_id == experiment.id, Exposure.subject_id == subject_id)
        .where(Exposure.completed_at.is_(None))
        .values(completed_at=utcnow())
    )


def _expose(experiment: Experiment, subject_id: str, variant: str) -> None:
    session = get_session()
    seen = session.scalar(
        sa.select(Exposure.id).where(Exposure.experiment_id == experiment.id, Exposure.subject_id == subject_id)
    )
    if seen is not None:
        return
    # Committed now: a page that only reads would otherwise roll the exposure back at its end.
    session.add(
        Exposure(
            experiment_id=experiment.id, merchant_id=experiment.merchant_id, subject_id=subject_id, variant=variant
        )
    )
    try:
        session.commit()
    except IntegrityError:  # a second tab of the same shopper inserted it first
        session.rollback()


def results(experiment: Experiment) -> dict[str, Any]:
    """Return the experiment with each variant's exposures, outcomes, rate (95% interval) and significance.

    Each variant is compared with the first (the control); with more than two variants the 5%
    level is split between the comparisons (Bonferroni).
    """
    per_variant = _outcomes(experiment)
    comparisons = len(experiment.variants) - 1
    control = per_variant[experiment.variants[0]["name"]]
    rows = []
    for n, variant in enumerate(experiment.variants):
        seen = per_variant[variant["name"]]
        estimate = _estimate(experiment.metric, seen)
        p_value = None if n == 0 else _p_value(experiment.metric, control, seen)
        rows.append(
            {
                **variant,
                "exposures": seen.exposures,
                "completions": seen.completions,
                "conversions": seen.conversions,
                "revenue": round(seen.revenue.total, 2),
                "rate": {
                    "value": round(estimate.value, 4),
                    "low": round(estimate.low, 4),
                    "high": round(estimate.high, 4),
                },
                "difference": None
                if n == 0
                else round(estimate.value - _estimate(experiment.metric, control).value, 4),
                "p_value": None if p_value is None else round(p_value, 6),
                "significant": p_value is not None and stats.significant(p_value, comparisons),
            }
        )
    return {
        "id": experiment.id,
        "name": experiment.name,
        "metric": experiment.metric,
        "status": experiment.status,
        "winner": experiment.winner,
        "created_at": _iso(experiment.created_at),
        "started_at": _iso(experiment.started_at),
        "stopped_at": _iso(experiment.stopped_at),
        "significant": any(row["significant"] for row in rows),
        "variants": rows,
    }


@dataclass
class _Seen:
    exposures: int = 0
    completions: int = 0
    conversions: int = 0
    revenue: stats.Sample = field(default_factory=stats.Sample)  # per exposed visitor, zeros included


def _outcomes(experiment: Experiment) -> dict[str, _Seen]:
    """Count each variant's exposures, finishes, orders and revenue, erased shoppers' counts included."""
    exposures = (
        get_session()
        .execute(
            sa.select(Exposure.id, Exposure.variant, Exposure.completed_at).where(
                Exposure.experiment_id == experiment.id
            )
        )
        .all()
    )
    bought = experiment_data.bought_after(Exposure.experiment_id == experiment.id)
    seen = {v["name"]: _Seen() for v in experiment.variants}
    for exposure_id, variant, completed_at in exposures:
        row = seen.get(variant)
        if row is None:
            continue
        row.exposures += 1
        row.completions += completed_at is not None
        row.conversions += exposure_id in bought
        row.revenue.add(float(bought.get(exposure_id, 0)))
    for erased in experiment_data.erased_counts(experiment.id):
        row = seen.get(erased.variant)
        if row is None:
            continue
        row.exposures += erased.exposures
        row.completions += erased.completions
        row.conversions += erased.conversions
        row.revenue.add(float(erased.revenue), n=erased.exposures, squares=float(erased.revenue_squares))
    return seen


def _estimate(metric: str, seen: _Seen) -> stats.Estimate:
    if metric == "revenue_per_visitor":
        return stats.mean_interval(seen.revenue)
    hits = seen.completions if metric == "completion" else seen.conversions
    return stats.wilson(hits, seen.exposures)


def _p_value(metric: str, control: _Seen, other: _Seen) -> float:
    if metric == "revenue_per_visitor":
        return stats.welch_p(control.revenue, other.revenue)
    if metric == "completion":
        return stats.two_proportion_p(control.completions, control.exposures, other.completions, other.exposures)
    return stats.two_proportion_p(control.conversions, control.exposures, other.conversions, other.exposures)


def _iso(moment: dt.datetime | None) -> str | None:
    return moment.isoformat() if moment else None
