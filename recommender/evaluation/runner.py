"""Run a relevance set through each retrieval method and score the rankings.

The catalog is indexed the way the app indexes a merchant's: each product's text comes from
:func:`recommender.item_document`, is embedded by the app's :class:`Embedder`, and goes into an
index version written and loaded by :class:`IndexStore` (exact or HNSW by size, as configured).
``production`` then asks :class:`Recommender` exactly what a shopper's free-text answer asks,
the way the quiz asks it (:class:`ShopperPath`): its preferences, pages of the quiz's size each
excluding what was shown before (as "show me something different" fetches them), each page
varied as the app varies it by default. ``unvaried`` is the same ranking in one long page with
no variety re-ranking: the pure relevance of the scoring.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from ..catalog_index import CatalogIndex
from ..domain import NO_DIVERSITY, Diversity, Preferences, QueryPart
from ..encoders import TextEncoder, category_weight_of
from ..fusion import reciprocal_rank_fusion
from ..index_store import HNSW_THRESHOLD, IndexStore
from ..recommend import DEFAULT_DIVERSITY, OVERSAMPLE, Recommender
from ..text import item_document, keywords
from .datasets import RelevanceSet
from .metrics import Scores, score_runs

DEPTH = 50  # rank this deep: recall@50 needs it
METHODS = ("bm25", "embedding", "rrf", "hybrid", "unvaried", "production")
PAGE_SIZE = 12  # the quiz's default page (the app's RECOMMENDATION_LIMIT)
Ranker = Callable[[str, int], list[str]]  # query text, depth -> product external ids, best first
PreferenceBuilder = Callable[[str], Preferences]  # a shopper's free text -> their preferences


def free_text_preferences(text: str) -> Preferences:
    """Return the preferences of a shopper whose only answer is ``text``, with the default weight.

    The quiz builds them with its own question's weight (``quiz.preferences.build_preferences``);
    ``flask eval`` passes that builder in a :class:`ShopperPath`. This one serves use without Flask.
    """
    return Preferences(parts=(QueryPart(text, 1.0, cacheable=False),), keywords=keywords(text), search_text=text)


@dataclass(frozen=True)
class ShopperPath:
    """What a shopper's free-text answer goes through: preferences, page size and the page's variety."""

    preferences: PreferenceBuilder = free_text_preferences
    page_size: int = PAGE_SIZE
    diversity: Diversity = DEFAULT_DIVERSITY

    def __post_init__(self) -> None:
        if self.page_size < 1:
            raise ValueError("page_size must be at least 1")


@dataclass(frozen=True)
class MethodResult:
    """One method's scores on a relevance set and its mean time per query."""

    method: str
    scores: Scores
    ms_per_query: float


def index_catalog(
    dataset: RelevanceSet,
    embedder: TextEncoder,
    hnsw_threshold: int = HNSW_THRESHOLD,
    batch_size: int = 128,
    routes: Mapping[str, TextEncoder] | None = None,
) -> CatalogIndex:
    """Embed and index the set's products through the production steps; return the loaded catalog.

    Each routed language's model embeds every product too, into its own index, as imports do.
    """
    items = {n: record.as_item(n) for n, record in enumerate(dataset.products, start=1)}
    documents = [item_document(item) for item in items.values()]
    # Longest first, so each batch pads to a similar length (as catalog imports do).
    order = sorted(range(len(documents)), key=lambda i: len(documents[i]), reverse=True)
    ordered = [documents[i] for i in order]

    def embedded(encoder: TextEncoder) -> np.ndarray:
        encoded = encoder.encode(ordered, batch_size=batch_size)
        vectors = np.empty_like(encoded)
        vectors[order] = encoded
        return vectors

    ids = np.fromiter(items.keys(), dtype=np.int64, count=len(items))
    languages = {lang: (encoder.model_id, embedded(encoder)) for lang, encoder in (routes or {}).items()}
    with tempfile.TemporaryDirectory(prefix="attune-eval-") as root:
        store = IndexStore(root, hnsw_threshold)
        store.write("v1", ids, embedded(embedder), model=embedder.model_id, languages=languages)
        loaded = store.load("v1")
    return CatalogIndex.build(loaded, items, "v1")


def rankers(
    catalog: CatalogIndex,
    embedder: TextEncoder,
    path: ShopperPath | None = None,
    routes: Mapping[str, TextEncoder] | None = None,
) -> dict[str, Ranker]:
    """Return each method's ranking function over ``catalog``; ``production`` follows ``path``.

    With ``routes``, every method that embeds a query does so as production does: text in a
    routed language is matched by that language's model against that model's vectors.
    """
    path = path or ShopperPath()
    external = {item.id: item.external_id for item in catalog.items.values()}
    lexical = catalog.require_lexical()
    recommender = Recommender(embedder, catalog, routes)

    def space(text: str) -> tuple[TextEncoder, Recommender]:
        """Return the model and recommender that match ``text`` (its language's route, if any)."""
        language = recommender.route(free_text_preferences(text))
        view = catalog.in_language(language)
        if language is None or view is None or routes is None:
            return embedder, recommender
        return routes[language], Recommender(routes[language], view, category_weight=category_weight_of(language))

    def nearest(text: str, depth: int) -> np.ndarray:
        encoder, routed = space(text)
        return routed.catalog.vectors.search(encoder.encode([text])[0], depth)[0]

    def bm25(text: str, depth: int) -> list[str]:
        return [external[i] for i in lexical.top(text, depth)[0].tolist()]

    def embedding(text: str, depth: int) -> list[str]:
        return [external[i] for i in nearest(text, depth).tolist()]

    def rrf(text: str, depth: int) -> list[str]:
        lexical_ids, _ = lexical.top(text, depth * 4)
        fused = reciprocal_rank_fusion([nearest(text, depth * 4).tolist(), lexical_ids.tolist()])
        return [external[i] for i in fused[:depth]]

    def hybrid(text: str, depth: int) -> list[str]:
        encoder, routed = space(text)
        # As many candidates as production looks at for a page of ``depth``.
        candidates = routed.hybrid_candidates(encoder.encode([text])[0], text, depth * OVERSAMPLE)
        return [external[i] for i, _ in candidates[:depth]]

    def unvaried(text: str, depth: int) -> list[str]:
        ranked = recommender.recommend(path.preferences(text), limit=depth, diversity=NO_DIVERSITY)
        return [external[r.item_id] for r in ranked]

    def production(text: str, depth: int) -> list[str]:
        return shopper_pages(recommender, path.preferences(text), depth, path)

    return {
        "bm25": bm25,
        "embedding": embedding,
        "rrf": rrf,
        "hybrid": hybrid,
        "unvaried": unvaried,
        "production": production,
    }


def shopper_pages(recommender: Recommender, prefs: Preferences, depth: int, path: ShopperPath) -> list[str]:
    """Return the external ids a shopper is shown, page after page, until ``depth`` are ranked.

    Each page is one :meth:`Recommender.recommend` call of the quiz's page size (so its candidate
    depth), varied as configured and excluding every item shown on an earlier page.
    """
    vector = recommender.preference_vector(prefs)
    shown: list[int] = []
    while len(shown) < depth:
        wanted = min(path.page_size, depth - len(shown))
        page = recommender.recommend(prefs, limit=wanted, exclude=shown, vector=vector, diversity=path.diversity)
        if not page:
            break
        shown.extend(r.item_id for r in page)
    items = recommender.catalog.items
    return [items[i].external_id for i in shown[:depth]]


def evaluate(
    dataset: RelevanceSet,
    embedder: TextEncoder,
    methods: Sequence[str] = METHODS,
    hnsw_threshold: int = HNSW_THRESHOLD,
    path: ShopperPath | None = None,
    routes: Mapping[str, TextEncoder] | None = None,
) -> list[MethodResult]:
    """Index ``dataset``, run every judged query through each method and return their scores.

    ``path`` is how ``production`` asks, as the quiz does (the defaults without Flask);
    ``routes`` the models of routed languages, as the app has them (none: the main model alone).
    """
    unknown = [m for m in methods if m not in METHODS]
    if unknown:
        raise ValueError(f"unknown method {', '.join(unknown)}: choose from {', '.join(METHODS)}")
    catalog = index_catalog(dataset, embedder, hnsw_threshold, routes=routes)
    available = rankers(catalog, embedder, path, routes)
    queries = dataset.judged_queries()
    return [_run(method, available[method], queries, dataset.judgements) for method in methods]


def _run(
    method: str, ranker: Ranker, queries: Mapping[str, str], judgements: Mapping[str, Mapping[str, int]]
) -> MethodResult:
    started = time.perf_counter()
    runs = {query_id: ranker(text, DEPTH) for query_id, text in queries.items()}
    elapsed = (time.perf_counter() - started) * 1000
    return MethodResult(method, score_runs(runs, judgements), elapsed / max(len(queries), 1))


def parse_floor(text: str) -> tuple[str, str, float]:
    """Return ``(set, method, least nDCG@10)`` of a floor written ``SET[:METHOD]=VALUE``.

    The method defaults to ``production``. Raises ValueError with a readable message.
    """
    target, sep, value = text.partition("=")
    name, _, method = target.partition(":")
    method = method or "production"
    if not sep or not name.strip():
        raise ValueError(f"floor {text!r}: write SET[:METHOD]=NDCG, e.g. needs-dev=0.52")
    if method not in METHODS:
        raise ValueError(f"floor {text!r}: unknown method {method!r}; choose from {', '.join(METHODS)}")
    try:
        least = float(value)
    except ValueError:
        raise ValueError(f"floor {text!r}: {value!r} is not a number") from None
    if not 0 <= least <= 1:
        raise ValueError(f"floor {text!r}: nDCG@10 is between 0 and 1")
    return name.strip(), method, least


def floors_missed(results: Mapping[str, Sequence[MethodResult]], floors: Sequence[tuple[str, str, float]]) -> list[str]:
    """Return one line per floor that a set's method fell below, or that was not measured."""
    missed = []
    for name, method, least in floors:
        scores = {row.method: row.scores.ndcg10 for row in results.get(name, ())}
        if method not in scores:
            missed.append(f"{name} {method}: not measured (give --dir for the set and keep the method)")
        elif scores[method] < least:
            missed.append(f"{name} {method}: ndcg@10 {scores[method]:.3f} is below its floor {least:.3f}")
    return missed


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
