"""HNSW efSearch against exact search: recall@50 of the exact top 50, and search time.

Run: `.venv/bin/python bench/hnsw_recall.py [--products 100000] [--record]`.

Vectors are the demo catalog's product texts, embedded with the app's model, then grown to N
with gaussian noise (re-normalised), as the latency bench grows catalogs; queries are real
shopper needs encoded by the same model. Each efSearch value is timed over the same queries on
the index the app builds above its HNSW threshold (``recommender.index_store.build_index``).
Target: the smallest efSearch whose recall@50 of exact is at least 0.98.
"""

from __future__ import annotations

import argparse
import statistics
import time

import _common
import numpy as np

EF_VALUES = (16, 32, 64, 128, 256, 512)
TARGET_RECALL = 0.98


def grown_vectors(products: int, noise: float = 0.02, seed: int = 7) -> np.ndarray:
    """Return ``products`` unit vectors grown from the demo catalog's embedded texts."""
    from quiz.demo import demo_records
    from recommender import Embedder, item_document

    base = Embedder().encode([item_document(r.as_item()) for r in demo_records()])
    rng = np.random.default_rng(seed)
    picks = np.arange(products) % len(base)
    vectors = base[picks] + rng.normal(0.0, noise, (products, base.shape[1])).astype(np.float32)
    return (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32)


def measure(products: int, queries: int) -> list[tuple[int, float, float]]:
    """Return ``(efSearch, recall@50, p50 ms)`` rows, with efSearch 0 standing for exact search."""
    from recommender import Embedder
    from recommender.index_store import build_index

    vectors = grown_vectors(products)
    ids = np.arange(1, products + 1, dtype=np.int64)
    query_vectors = Embedder().encode(_common.needs(queries))
    exact = build_index(ids, vectors, "flat")
    hnsw = build_index(ids, vectors, "hnsw")
    truth, exact_ms = _search(exact, query_vectors)
    rows = [(0, 1.0, exact_ms)]
    import faiss

    base = faiss.downcast_index(hnsw.index)
    for ef in EF_VALUES:
        base.hnsw.efSearch = ef
        found, ms = _search(hnsw, query_vectors)
        recall = float(np.mean([len(set(f) & set(t)) / len(t) for f, t in zip(found, truth, strict=True)]))
        rows.append((ef, recall, ms))
    return rows


def _search(index: object, queries: np.ndarray) -> tuple[list[list[int]], float]:
    results, times = [], []
    for query in queries:
        started = time.perf_counter()
        _, found = index.search(query.reshape(1, -1), 50)  # type: ignore[attr-defined]
        times.append((time.perf_counter() - started) * 1000)
        results.append(found[0].tolist())
    return results, statistics.median(times)


def main() -> None:
    """Print the efSearch table and, with --record, add it to docs/benchmarks.md."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--products", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--smoke", action="store_true", help="5,000 products and 20 queries, for CI")
    parser.add_argument("--record", action="store_true", help="append the figures to docs/benchmarks.md")
    args = parser.parse_args()
    products, queries = (5_000, 20) if args.smoke else (args.products, args.queries)
    rows = measure(products, queries)
    print(f"{products} products, {queries} needs, HNSW M=32; {_common.machine_summary()}")
    print(f"{'efSearch':>9} {'recall@50':>10} {'p50 ms':>8}")
    for ef, recall, ms in rows:
        print(f"{'exact' if ef == 0 else ef:>9} {recall:10.3f} {ms:8.3f}")
    enough = [ef for ef, recall, _ in rows if ef and recall >= TARGET_RECALL]
    print(f"smallest efSearch with recall@50 >= {TARGET_RECALL}: {enough[0] if enough else 'none measured'}")
    if args.record:
        cells = [f"{'exact' if ef == 0 else ef}: {recall:.3f} / {ms:.2f} ms" for ef, recall, ms in rows]
        _common.record_run(
            "hnsw-recall",
            "HNSW efSearch against exact search (`bench/hnsw_recall.py`)",
            "recall@50 of the exact top 50 and p50 search time per efSearch, on demo-grown vectors.",
            ["date", "products", "efSearch: recall@50 / p50", "machine"],
            [[_common.today(), str(products), "; ".join(cells), _common.machine_summary()]],
        )


if __name__ == "__main__":
    main()
