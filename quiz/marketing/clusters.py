"""Taste clusters of a merchant's stored profiles, labelled so that a merchant can read them."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import numpy as np
import sqlalchemy as sa

from recommender.clustering import cluster

from ..catalog.engine import recommender_for
from ..models import Merchant, Profile
from ..platform.db import get_session
from ..quizzes.store import live_quiz

MAX_CLUSTERS = 8
MIN_PROFILES = 4
LABEL_PRODUCTS = 20  # products nearest a centroid that name its categories
TYPICAL_SHARE = 0.4  # an answer is typical of a cluster when at least this share gave it, more than overall


@dataclass(frozen=True)
class TasteCluster:
    """One cluster: its size, nearest categories, most typical answers and members."""

    index: int
    size: int
    share: float
    categories: list[str]
    typical: list[tuple[str, str, float]]  # (question, answer, share of the cluster)
    profile_ids: list[str] = field(repr=False)
    centroid: list[float] = field(repr=False, default_factory=list)


@dataclass(frozen=True)
class TasteReport:
    """The clusters, how many, whether the merchant fixed that number, and their silhouette."""

    clusters: list[TasteCluster]
    silhouette: float | None
    fixed_k: bool


def assignments(merchant: Merchant) -> tuple[dict[str, int], np.ndarray | None, float | None]:
    """Return each clustered profile's cluster, the unit centroids and the silhouette."""
    rows = (
        get_session()
        .execute(
            sa.select(Profile.id, Profile.preference_embedding)
            .where(Profile.merchant_id == merchant.id, Profile.preference_embedding.is_not(None))
            .order_by(Profile.created_at, Profile.id)  # a stable order: the same profiles give the same clusters
        )
        .all()
    )
    decoded = [(pid, np.frombuffer(blob, dtype=np.float32)) for pid, blob in rows]
    # Vectors from an earlier model have another length: cluster those of the current one only.
    size = Counter(len(v) for _, v in decoded).most_common(1)[0][0] if decoded else 0
    rows = [(pid, v) for pid, v in decoded if len(v) == size]
    if len(rows) < MIN_PROFILES:
        return {}, None, None
    vectors = np.stack([v for _, v in rows])
    vectors = vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
    found = cluster(vectors, k=merchant.taste_clusters, k_max=MAX_CLUSTERS)
    if found is None:
        return {}, None, None
    return (
        {pid: int(label) for (pid, _), label in zip(rows, found.labels, strict=True)},
        found.centroids,
        found.silhouette,
    )


def taste_clusters(merchant: Merchant) -> TasteReport:
    """Return the merchant's taste clusters, largest first."""
    members, centroids, score = assignments(merchant)
    if centroids is None:
        return TasteReport([], None, merchant.taste_clusters is not None)
    profiles = {p.id: p for p in get_session().scalars(sa.select(Profile).where(Profile.id.in_(list(members))))}
    total = len(members)
    everyone = [p.answers or {} for p in profiles.values()]
    clusters = []
    for index, centroid in enumerate(centroids):
        ids = [pid for pid, label in members.items() if label == index]
        if not ids:
            continue
        answers = [profiles[pid].answers or {} for pid in ids if pid in profiles]
        typical = _typical(merchant, answers, everyone)
        categories = _categories(merchant, centroid)
        clusters.append(TasteCluster(index, len(ids), len(ids) / total, categories, typical, ids, centroid.tolist()))
    clusters.sort(key=lambda c: -c.size)
    return TasteReport(clusters, score, merchant.taste_clusters is not None)


def _categories(merchant: Merchant, centroid: np.ndarray) -> list[str]:
    """Return the two top-level categories most common among the products nearest the centroid."""
    catalog = recommender_for(merchant).catalog
    ids, _ = catalog.vectors.search(centroid, LABEL_PRODUCTS)
    items = [catalog.items[int(i)] for i in ids if int(i) in catalog.items]
    names = Counter(item.top_category for item in items if item.top_category)
    return [name for name, _ in names.most_common(2)]


def _typical(
    merchant: Merchant, answers: list[dict[str, object]], everyone: list[dict[str, object]]
) -> list[tuple[str, str, float]]:
    """Return up to three answers that set the cluster apart: shared by many in it, more than overall."""
    quiz = live_quiz(merchant)
    found = []
    for question in quiz.questions():
        if not question.options or not answers:
            continue
        inside, overall = _shares(question.id, answers), _shares(question.id, everyone)
        for value, share in inside.items():
            option = question.option(value)
            lift = share - overall.get(value, 0.0)
            if option is not None and share >= TYPICAL_SHARE and lift > 0:
                found.append((lift, str(question.label), str(option.label), share))
    found.sort(key=lambda t: (-t[0], -t[3]))
    return [(q, a, share) for _, q, a, share in found[:3]]


def _shares(question_id: str, answers: list[dict[str, object]]) -> dict[str, float]:
    """Return the share of ``answers`` that gave each value to a question."""
    counts: Counter[str] = Counter()
    for given in answers:
        value = given.get(question_id)
        counts.update({str(v) for v in (value if isinstance(value, list) else [value]) if v is not None})
    return {value: seen / len(answers) for value, seen in counts.items()} if answers else {}
