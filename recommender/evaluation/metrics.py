"""Ranking metrics over graded judgements: nDCG@k, recall@k and MRR.

Grades follow WANDS: 2 = exact, 1 = partial, 0 (or no judgement) = irrelevant. Products
nobody judged count as irrelevant, so every metric ranks against the whole catalog.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

Judgements = Mapping[str, int]  # product id -> grade, for one query


def dcg(grades: Sequence[int]) -> float:
    """Return the discounted cumulative gain of grades in rank order (gain 2^g - 1)."""
    return sum((2**grade - 1) / math.log2(rank + 2) for rank, grade in enumerate(grades))


def ndcg_at(ranked: Sequence[str], judged: Judgements, k: int = 10) -> float:
    """Return nDCG@k of ``ranked`` product ids; 0 when the query has no relevant product."""
    ideal = dcg(sorted((g for g in judged.values() if g > 0), reverse=True)[:k])
    if ideal == 0:
        return 0.0
    return dcg([judged.get(pid, 0) for pid in ranked[:k]]) / ideal


def recall_at(ranked: Sequence[str], judged: Judgements, k: int = 50) -> float:
    """Return the share of relevant products (grade > 0) found in the first ``k``."""
    relevant = {pid for pid, grade in judged.items() if grade > 0}
    if not relevant:
        return 0.0
    return len(relevant.intersection(ranked[:k])) / len(relevant)


def reciprocal_rank(ranked: Sequence[str], judged: Judgements) -> float:
    """Return 1 / rank of the first relevant product, 0 when none is ranked."""
    for rank, pid in enumerate(ranked, start=1):
        if judged.get(pid, 0) > 0:
            return 1.0 / rank
    return 0.0


@dataclass(frozen=True)
class Scores:
    """Mean metrics of one method over a set of queries."""

    ndcg10: float
    recall50: float
    mrr: float
    queries: int

    def line(self, method: str) -> str:
        """Return the one-line summary the eval command prints."""
        return f"{method} ndcg@10={self.ndcg10:.3f} recall@50={self.recall50:.3f} mrr={self.mrr:.3f}"


def score_runs(runs: Mapping[str, Sequence[str]], judgements: Mapping[str, Judgements]) -> Scores:
    """Return the mean metrics of ranked lists by query id over every judged query.

    A judged query missing from ``runs`` counts as a query the method answered with nothing.
    """
    queries = [q for q, judged in judgements.items() if any(g > 0 for g in judged.values())]
    if not queries:
        raise ValueError("no query has a relevant product: check the label file")
    totals = [0.0, 0.0, 0.0]
    for query in queries:
        ranked, judged = runs.get(query, ()), judgements[query]
        totals[0] += ndcg_at(ranked, judged, 10)
        totals[1] += recall_at(ranked, judged, 50)
        totals[2] += reciprocal_rank(ranked, judged)
    n = len(queries)
    return Scores(totals[0] / n, totals[1] / n, totals[2] / n, n)
