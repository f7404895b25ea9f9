"""Taste clustering on vectors whose right grouping is known."""

from __future__ import annotations

import numpy as np

from recommender.clustering import cluster, silhouette


def blobs(centres: int, per: int, dim: int = 16, spread: float = 0.05, seed: int = 3) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    axes = np.eye(dim, dtype=np.float32)[:centres]
    points = np.concatenate([axes[c] + rng.normal(0, spread, (per, dim)) for c in range(centres)]).astype(np.float32)
    points /= np.linalg.norm(points, axis=1, keepdims=True)
    return points, np.repeat(np.arange(centres), per)


def test_silhouette_picks_the_number_of_groups_that_is_there() -> None:
    for centres in (2, 3, 5):
        points, truth = blobs(centres, 30)
        found = cluster(points)
        assert found is not None and found.k == centres, (centres, found and found.k)
        # every true group lands in exactly one cluster
        assert all(len(set(found.labels[truth == c].tolist())) == 1 for c in range(centres))
        assert found.silhouette > 0.8


def test_a_fixed_k_and_too_few_vectors() -> None:
    points, _ = blobs(3, 20)
    assert cluster(points, k=2).k == 2
    assert cluster(points[:3]) is None


def test_silhouette_is_low_for_noise_and_high_for_separated_groups() -> None:
    rng = np.random.default_rng(0)
    noise = rng.normal(size=(200, 16)).astype(np.float32)
    noise /= np.linalg.norm(noise, axis=1, keepdims=True)
    assert silhouette(noise, rng.integers(0, 3, 200)) < 0.05
    points, truth = blobs(3, 40)
    assert silhouette(points, truth) > 0.8
