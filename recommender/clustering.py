"""Taste clusters: k-means on normalised preference vectors, k chosen by silhouette."""

from __future__ import annotations

from dataclasses import dataclass

import faiss
import numpy as np

MAX_SILHOUETTE_SAMPLE = 2000  # silhouette is quadratic: score a fixed sample of large sets


@dataclass(frozen=True)
class Clustering:
    """Which cluster each vector is in, the clusters' unit centroids, and how well they separate."""

    labels: np.ndarray
    centroids: np.ndarray
    silhouette: float

    @property
    def k(self) -> int:
        """Return the number of clusters."""
        return int(len(self.centroids))


def cluster(vectors: np.ndarray, k: int | None = None, k_max: int = 8, seed: int = 1234) -> Clustering | None:
    """Cluster unit ``vectors`` into ``k`` groups, or the k in 2..k_max with the best silhouette.

    Automatic choices keep groups of three on average at least (n // 3 clusters at most): a
    "taste" shared by one or two shoppers is not one. Returns None with fewer than four vectors.
    """
    data = np.ascontiguousarray(vectors, dtype=np.float32)
    n = len(data)
    if n < 4:
        return None
    candidates = [k] if k else list(range(2, max(2, min(k_max, n // 3)) + 1))
    best: Clustering | None = None
    for count in candidates:
        if not 2 <= count <= n:
            continue
        found = _kmeans(data, count, seed)
        if best is None or found.silhouette > best.silhouette:
            best = found
    return best


def _kmeans(data: np.ndarray, k: int, seed: int) -> Clustering:
    kmeans = faiss.Kmeans(data.shape[1], k, niter=30, nredo=10, spherical=True, seed=seed, min_points_per_centroid=1)
    kmeans.train(data)
    _, assigned = kmeans.index.search(data, 1)
    labels = assigned[:, 0].astype(np.int64)
    centroids = kmeans.centroids / np.maximum(np.linalg.norm(kmeans.centroids, axis=1, keepdims=True), 1e-12)
    return Clustering(labels, centroids.astype(np.float32), silhouette(data, labels, seed))


def silhouette(data: np.ndarray, labels: np.ndarray, seed: int = 1234) -> float:
    """Return the mean silhouette with cosine distance (1 = tight, well-apart clusters; 0 = overlap)."""
    if len(set(labels.tolist())) < 2:
        return -1.0
    rows = np.arange(len(data))
    if len(rows) > MAX_SILHOUETTE_SAMPLE:
        rows = np.random.default_rng(seed).choice(rows, MAX_SILHOUETTE_SAMPLE, replace=False)
    sample, sample_labels = data[rows], labels[rows]
    distance = 1.0 - sample @ sample.T
    scores = []
    for i, label in enumerate(sample_labels):
        same = sample_labels == label
        same[i] = False
        if not same.any():
            scores.append(0.0)  # a cluster of one scores 0 by convention
            continue
        inner = distance[i, same].mean()
        outer = min(distance[i, sample_labels == other].mean() for other in set(sample_labels.tolist()) - {label})
        scores.append((outer - inner) / max(inner, outer, 1e-12))
    return float(np.mean(scores))
