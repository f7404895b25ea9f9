"""The stored predictive scores as campaign exports show them (columns in CSV, an object in JSON)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from ..models import ProfileScore
from ..platform.db import get_session


def scores_of(profile_ids: list[str]) -> dict[str, ProfileScore]:
    """Return the stored scores of these profiles, by profile id."""
    if not profile_ids:
        return {}
    found = get_session().scalars(sa.select(ProfileScore).where(ProfileScore.profile_id.in_(profile_ids)))
    return {s.profile_id: s for s in found}


def score_columns(score: ProfileScore | None) -> dict[str, str]:
    """Return the export's score columns: empty for a profile without orders or never scored."""
    scored = score is not None and score.basis == "orders"
    return {
        "Propensity 90d": f"{score.propensity_90d:.4f}" if scored and score.propensity_90d is not None else "",
        "Churn Risk": score.churn_band or "" if scored else "",
        "Expected Spend 12m": str(score.expected_spend_12m) if scored and score.expected_spend_12m is not None else "",
        "Scores Model": f"{score.model_version} {score.scored_on.isoformat()}" if scored else "",
    }


def score_json(score: ProfileScore | None) -> dict[str, Any] | None:
    """Return a profile's scores for the JSON export (None: never scored; numbers null without orders)."""
    if score is None:
        return None
    return {
        "basis": score.basis,
        "propensity_90d": score.propensity_90d,
        "churn_risk": score.churn_risk,
        "churn_band": score.churn_band,
        "expected_spend_12m": float(score.expected_spend_12m) if score.expected_spend_12m is not None else None,
        "model_version": score.model_version,
        "scored_on": score.scored_on.isoformat(),
    }
