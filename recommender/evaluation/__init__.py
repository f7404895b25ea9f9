"""Measure retrieval quality: relevance sets, ranking metrics and a runner over every method.

Usable without Flask::

    from recommender import Embedder
    from recommender.evaluation import evaluate, load, table

    results = evaluate(load("path/to/wands", "wands"), Embedder())
"""

from .datasets import FORMATS, DatasetError, RelevanceSet, load
from .metrics import Scores, ndcg_at, recall_at, reciprocal_rank, score_runs

__all__ = [
    "FORMATS",
    "DatasetError",
    "RelevanceSet",
    "Scores",
    "load",
    "ndcg_at",
    "recall_at",
    "reciprocal_rank",
    "score_runs",
]
