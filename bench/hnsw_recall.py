"""HNSW efSearch against exact search: recall@50 of the exact top 50, and search time.

Run: `.venv/bin/python bench/hnsw_recall.py [--products 60000] [--record]`.

Vectors are real product titles (Home Depot's and the supplier feed's of ../shared/data/relevance,
about 60,000 together), embedded with the app's model; queries are those sets' real queries,
encoded by the same model. Each efSearch value is timed over the same queries on the index the
app builds above its HNSW threshold (``recommender.index_store.build_index``). One FAISS thread,
as the app serves. Target: the smallest efSearch whose recall@50 of exact is at least 0.98.

Demo-grown catalogs (the latency bench's noisy copies) are no test of recall: each demo product
has hundreds of near-identical copies, whose order in an exact top 50 is noise.
"""

from __future__ import annotations

import argparse
import statistics
import time

import _common
import numpy as np

EF_VALUES = (16, 32, 64, 128, 256, 512)
TARGET_RECALL = 0.98


RELEVANCE = _common.ROOT.parent / "shared" / "data" / "relevance"


def real_texts(products: int, queries: int) -> tuple[list[str], list[str]]:
    """Return up to ``products`` product titles and ``queries`` query texts from the relevance sets."""
    from recommender.evaluation import load

    titles: list[str] = []
    needs: list[str] = []
    for name in ("homedepot-dev", "needs-dev"):
        data = load(RELEVANCE / name, "wands")
        titles += [p.title for p in data.products]
        needs += list(data.judged_queries().values())
    step = max(1, len(needs) // queries)
    return titles[:products], needs[::step][:queries]


def measure(products: int, queries: int) -> list[tuple[int, float, float]]:
    """Return ``(efSearch, recall@50, p50 ms)`` rows, with efSearch 0 standing for exact search."""
    import faiss

    from recommender import Embedder
    from recommender.index_store import build_index

    faiss.omp_set_num_threads(1)
    titles, needs = real_texts(products, queries)
    embedder = Embedder()
    order = sorted(range(len(titles)), key=lambda i: len(titles[i]), reverse=True)
    encoded = embedder.encode([titles[i] for i in order], batch_size=128)
    vectors = np.empty_like(encoded)
    vectors[order] = encoded
    ids = np.arange(1, len(titles) + 1, dtype=np.int64)
    query_vectors = embedder.encode(needs)
    truth, exact_ms = _search(build_index(ids, vectors, "flat"), query_vectors)
    hnsw = build_index(ids, vectors, "hnsw")
    base = faiss.downcast_index(hnsw.index)
    rows = [(0, 1.0, exact_ms)]
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
    parser.add_argument("--products", type=int, default=60_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--smoke", action="store_true", help="3,000 products and 20 queries, for CI")
    parser.add_argument("--record", action="store_true", help="append the figures to docs/benchmarks.md")
    args = parser.parse_args()
    products, queries = (3_000, 20) if args.smoke else (args.products, args.queries)
    if not RELEVANCE.is_dir():
        raise SystemExit(f"{RELEVANCE} is missing: this bench needs the shared relevance sets")
    rows = measure(products, queries)
    print(f"{products} real product titles, {queries} needs, HNSW M=32; {_common.machine_summary()}")
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
            "recall@50 of the exact top 50 and p50 search time per efSearch, on real product titles (one thread).",
            ["date", "products", "efSearch: recall@50 / p50", "machine"],
            [[_common.today(), str(products), "; ".join(cells), _common.machine_summary()]],
        )


if __name__ == "__main__":
    main()
