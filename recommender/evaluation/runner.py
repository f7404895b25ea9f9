"""Run a relevance set through each retrieval method and score the rankings.

The catalog is indexed the way the app indexes a merchant's: each product's text comes from
:func:`recommender.item_document`, is embedded by the app's :class:`Embedder`, and goes into an
index version written and loaded by :class:`IndexStore` (exact or HNSW by size, as configured).
``production`` then asks :class:`Recommender` exactly what a shopper's free-text answer asks.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from ..catalog_index import CatalogIndex
from ..domain import NO_DIVERSITY, Diversity, Preferences, QueryPart
from ..embedder import Embedder
from ..fusion import reciprocal_rank_fusion
from ..index_store import HNSW_THRESHOLD, IndexStore
from ..recommend import OVERSAMPLE, Recommender
from ..text import item_document, keywords
from .datasets import RelevanceSet
from .metrics import Scores, score_runs

DEPTH = 50  # rank this deep: recall@50 needs it
METHODS = ("bm25", "embedding", "rrf", "hybrid", "production")
Ranker = Callable[[str, int], list[str]]  # query text, depth -> product external ids, best first


@dataclass(frozen=True)
class MethodResult:
    """One method's scores on a relevance set and its mean time per query."""

    method: str
    scores: Scores
    ms_per_query: float


def index_catalog(
    dataset: RelevanceSet, embedder: Embedder, hnsw_threshold: int = HNSW_THRESHOLD, batch_size: int = 128
) -> CatalogIndex:
    """Embed and index the set's products through the production steps; return the loaded catalog."""
    items = {n: record.as_item(n) for n, record in enumerate(dataset.products, start=1)}
    documents = [item_document(item) for item in items.values()]
    # Longest first, so each batch pads to a similar length (as catalog imports do).
    order = sorted(range(len(documents)), key=lambda i: len(documents[i]), reverse=True)
    encoded = embedder.encode([documents[i] for i in order], batch_size=batch_size)
    vectors = np.empty_like(encoded)
    vectors[order] = encoded
    ids = np.fromiter(items.keys(), dtype=np.int64, count=len(items))
    with tempfile.TemporaryDirectory(prefix="attune-eval-") as root:
        store = IndexStore(root, hnsw_threshold)
        store.write("v1", ids, vectors, model=embedder.model_path)
        loaded = store.load("v1")
    return CatalogIndex.build(loaded, items, "v1")


def rankers(catalog: CatalogIndex, embedder: Embedder, diversity: Diversity = NO_DIVERSITY) -> dict[str, Ranker]:
    """Return each method's ranking function over ``catalog``."""
    external = {item.id: item.external_id for item in catalog.items.values()}
    lexical = catalog.require_lexical()
    recommender = Recommender(embedder, catalog)

    def bm25(text: str, depth: int) -> list[str]:
        return [external[i] for i in lexical.top(text, depth)[0].tolist()]

    def embedding(text: str, depth: int) -> list[str]:
        ids, _ = catalog.vectors.search(embedder.encode([text])[0], depth)
        return [external[i] for i in ids.tolist()]

    def rrf(text: str, depth: int) -> list[str]:
        vector_ids, _ = catalog.vectors.search(embedder.encode([text])[0], depth * 4)
        lexical_ids, _ = lexical.top(text, depth * 4)
        fused = reciprocal_rank_fusion([vector_ids.tolist(), lexical_ids.tolist()])
        return [external[i] for i in fused[:depth]]

    def hybrid(text: str, depth: int) -> list[str]:
        vector = embedder.encode([text])[0]
        # As many candidates as production looks at for a page of ``depth``.
        candidates = recommender.hybrid_candidates(vector, text, depth * OVERSAMPLE)
        return [external[i] for i, _ in candidates[:depth]]

    def production(text: str, depth: int) -> list[str]:
        ranked = recommender.recommend(free_text_preferences(text), limit=depth, diversity=diversity)
        return [external[r.item_id] for r in ranked]

    return {"bm25": bm25, "embedding": embedding, "rrf": rrf, "hybrid": hybrid, "production": production}


def free_text_preferences(text: str) -> Preferences:
    """Return the preferences of a shopper whose only answer is ``text``, as the quiz builds them."""
    return Preferences(parts=(QueryPart(text, 1.0, cacheable=False),), keywords=keywords(text), search_text=text)


def evaluate(
    dataset: RelevanceSet,
    embedder: Embedder,
    methods: Sequence[str] = METHODS,
    hnsw_threshold: int = HNSW_THRESHOLD,
    diversity: Diversity = NO_DIVERSITY,
) -> list[MethodResult]:
    """Index ``dataset``, run every judged query through each method and return their scores."""
    unknown = [m for m in methods if m not in METHODS]
    if unknown:
        raise ValueError(f"unknown method {', '.join(unknown)}: choose from {', '.join(METHODS)}")
    catalog = index_catalog(dataset, embedder, hnsw_threshold)
    available = rankers(catalog, embedder, diversity)
    queries = dataset.judged_queries()
    return [_run(method, available[method], queries, dataset.judgements) for method in methods]


def _run(
    method: str, ranker: Ranker, queries: Mapping[str, str], judgements: Mapping[str, Mapping[str, int]]
) -> MethodResult:
    started = time.perf_counter()
    runs = {query_id: ranker(text, DEPTH) for query_id, text in queries.items()}
    elapsed = (time.perf_counter() - started) * 1000
    return MethodResult(method, score_runs(runs, judgements), elapsed / max(len(queries), 1))


def table(results: Mapping[str, Sequence[MethodResult]]) -> str:
    """Return a plain-text table of every set's results, one row per set and method."""
    header = f"{'set':<18} {'method':<12} {'ndcg@10':>8} {'recall@50':>10} {'mrr':>7} {'queries':>8} {'ms/query':>9}"
    lines = [header, "-" * len(header)]
    for name, rows in results.items():
        for row in rows:
            s = row.scores
            lines.append(
                f"{name:<18} {row.method:<12} {s.ndcg10:8.3f} {s.recall50:10.3f} {s.mrr:7.3f} "
                f"{s.queries:8d} {row.ms_per_query:9.2f}"
            )
    return "\n".join(lines)
