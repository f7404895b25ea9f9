"""Merchant API: taste clusters of stored profiles."""

from __future__ import annotations

from flask import jsonify
from flask.typing import ResponseReturnValue

from ..marketing import clusters
from . import bp
from .auth import current_merchant, merchant_required
from .documented import documented
from .openapi_schemas import CLUSTERS


@bp.get("/clusters")
@documented("Taste clusters: sizes, nearest categories, typical answers", auth="merchant", response=CLUSTERS)
@merchant_required
def get_clusters() -> ResponseReturnValue:
    """Return the taste clusters: size, nearest categories, typical answers and members."""
    report = clusters.taste_clusters(current_merchant())
    return jsonify(
        {
            "silhouette": report.silhouette,
            "fixed_k": report.fixed_k,
            "clusters": [
                {
                    "cluster": c.index,
                    "size": c.size,
                    "share": round(c.share, 4),
                    "categories": c.categories,
                    "typical_answers": [{"question": q, "answer": a, "share": round(s, 4)} for q, a, s in c.typical],
                    "profile_ids": c.profile_ids,
                }
                for c in report.clusters
            ],
        }
    )
