"""Many merchants in one worker within a catalog memory budget: Zipf traffic, LRU eviction, RSS.

Run: `.venv/bin/python bench/many_merchants.py [--record]` (the issue's shape: 2,000 merchants of
200-2,000 products plus five of 100,000, a 1.5 GiB budget; hours of setup on 2 cores), or
`--smoke` (12 merchants of 50-300 products plus one of 2,000, a 10 MiB budget, for CI), or any
shape with `--merchants N --small-min A --small-max B --large N --large-products P --budget-mb M`.

Setup: a throwaway instance with the demo shop; each merchant's catalog is copies of demo products
(varied titles, the demo's stored vectors plus gaussian noise, as bench/_common.py grows the demo),
bulk-inserted and indexed through quiz.catalog.sync.rebuild_index: real rows, real FAISS files.

Measured in this process (one worker), with pre-encoded queries so that only the catalog side
counts (loading, searching, ranking):
  baseline   the popular merchants alone, budget unlimited: warm p50/p99 (the single-merchant run)
  (and the loaded catalogs' estimated size over their raw float32 vectors, N x 384 x 4 bytes)
  zipf       requests over all merchants by a Zipf law (s = 1.1; the large shops among the most
             popular), budget CATALOG_MEMORY_MB: hit rate, cold (a load) and warm p50/p99, the
             popular merchants' p99 against the baseline, evictions, and RSS against
             RSS-after-model + budget.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path
from typing import Any

from _common import (
    GROWN_MARK,
    INSERT_CHUNK,
    _grown_row,
    demo_app,
    instance_config,
    machine_summary,
    needs,
    percentile,
    record_run,
    throwaway_instance,
    today,
    verdict,
)

MIB = 2**20
DOC_KEY = "many-merchants"
DOC_HEADING = "Many merchants in one worker (`bench/many_merchants.py`)"
DOC_INTRO = """
One worker process, catalogs loaded within `CATALOG_MEMORY_MB` (least recently used evicted),
requests spread over merchants by a Zipf law; the queries are pre-encoded so the figures are the
catalog side only. Popular p99 ratio: the most popular merchants' p99 in the Zipf run over their
p99 alone with no budget, same run. RSS ceiling: RSS after the model + the budget.
"""
DOC_COLUMNS = [
    "date",
    "machine",
    "merchants",
    "products",
    "budget MiB",
    "requests",
    "hit rate",
    "warm p50/p99 ms",
    "cold p50/p99 ms",
    "popular p99 / alone",
    "evictions",
    "peak RSS / ceiling MiB",
]
POPULAR = 5


def rss() -> int:
    """Return this process's resident memory in bytes (VmRSS)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


def build(instance: Path, sizes: list[int], seed: int = 11) -> list[str]:
    """Create one merchant per size with that many grown products and its index; return their slugs."""
    import numpy as np
    import sqlalchemy as sa

    from quiz import merchants
    from quiz.catalog.engine import get_encoders
    from quiz.catalog.sync import rebuild_index
    from quiz.models import Merchant, Product
    from quiz.platform.db import get_session, transaction

    app = demo_app(instance)
    table = Product.__table__
    slugs = []
    with app.app_context():
        session = get_session()
        demo = merchants.get_by_slug("demo")
        bases = session.execute(
            sa.select(table).where(table.c.merchant_id == demo.id, table.c.embedding.is_not(None)).order_by(table.c.id)
        ).all()
        base_vectors = np.vstack([np.frombuffer(b.embedding, dtype=np.float32) for b in bases])
        rng = np.random.default_rng(seed)
        encoders = get_encoders()
        models = encoders.model_ids()
        for number, size in enumerate(sizes):
            slug = f"shop-{number:04d}"
            with transaction():
                merchant = Merchant(slug=slug, name=f"Shop {number}")
                session.add(merchant)
                session.flush()
                for start in range(0, size, INSERT_CHUNK):
                    serials = np.arange(start, min(size, start + INSERT_CHUNK))
                    picks = (serials + number) % len(bases)
                    noisy = base_vectors[picks] + rng.normal(0.0, 0.02, (len(serials), base_vectors.shape[1]))
                    main, routed = encoders.split(noisy.astype(np.float32))  # each model's part normalised
                    parts = [main, *(routed[lang] for lang in encoders.languages)]
                    vectors = np.hstack([p / np.linalg.norm(p, axis=1, keepdims=True) for p in parts])
                    rows = []
                    for serial, pick, vector in zip(serials, picks, vectors, strict=True):
                        row = _grown_row(bases[pick], int(serial), vector.astype(np.float32).tobytes(), models)
                        row["merchant_id"] = merchant.id
                        row["external_id"] = f"{number}{GROWN_MARK}{serial}"
                        rows.append(row)
                    session.execute(sa.insert(table), rows)
                merchant.catalog_version += 1
                rebuild_index(merchant)
            slugs.append(slug)
    return slugs


def measure(instance: Path, slugs: list[str], budget_mb: float, plan: list[int], vectors: Any) -> dict[str, Any]:
    """Serve ``plan`` (indexes into ``slugs``) in one app with the budget; return timings and counts."""
    from app import create_app
    from quiz import merchants
    from quiz.catalog.engine import catalog_cache, get_embedder, recommender_for
    from recommender import Preferences, QueryPart

    app = create_app(instance_config(instance, CATALOG_MEMORY_MB=budget_mb, ENCODER_BATCHING=False))
    timings: list[tuple[int, bool, float]] = []
    peak = 0
    with app.app_context():
        get_embedder().encode(["warm up"])
        after_model = rss()
        shops = {slug: merchants.get_by_slug(slug) for slug in slugs}
        cache = catalog_cache()
        for step, pick in enumerate(plan):
            merchant = shops[slugs[pick]]
            vector = vectors[step % len(vectors)]
            prefs = Preferences(parts=(QueryPart("pre-encoded", 1.0, cacheable=False),))
            misses = cache.figures().misses
            started = time.perf_counter()
            recommender_for(merchant).recommend(prefs, limit=12, vector=vector)
            took = (time.perf_counter() - started) * 1000
            timings.append((pick, cache.figures().misses > misses, took))
            if step % 50 == 0:
                peak = max(peak, rss())
        figures = cache.figures()
        loaded = [cache.peek(merchant_id) for merchant_id in cache.versions()]
        raw = sum(len(c.vectors) * c.vectors.manifest.dimension * 4 for c in loaded if c is not None)
    peak = max(peak, rss())
    return {"timings": timings, "figures": figures, "after_model": after_model, "peak_rss": peak, "raw": raw}


def main() -> None:
    """Build the merchants, run the baseline and the Zipf run, print and optionally record."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="12 small merchants + one of 2,000, for CI")
    parser.add_argument("--merchants", type=int, help="small merchants (default 2000; smoke 12)")
    parser.add_argument("--small-min", type=int, help="fewest products of a small merchant (200; smoke 50)")
    parser.add_argument("--small-max", type=int, help="most products of a small merchant (2000; smoke 300)")
    parser.add_argument("--large", type=int, help="large merchants (5; smoke 1)")
    parser.add_argument("--large-products", type=int, help="products of a large merchant (100000; smoke 2000)")
    parser.add_argument("--budget-mb", type=float, help="CATALOG_MEMORY_MB (1536; smoke 10)")
    parser.add_argument("--requests", type=int, help="requests in the Zipf run (20000; smoke 300)")
    parser.add_argument("--record", action="store_true", help="append the figures to docs/benchmarks.md")
    args = parser.parse_args()
    smoke = args.smoke
    small = args.merchants if args.merchants is not None else (12 if smoke else 2000)
    low = args.small_min or (50 if smoke else 200)
    high = args.small_max or (300 if smoke else 2000)
    large = args.large if args.large is not None else (1 if smoke else 5)
    large_products = args.large_products or (2000 if smoke else 100_000)
    budget = args.budget_mb or (10.0 if smoke else 1536.0)
    requests = args.requests or (300 if smoke else 20_000)

    import numpy as np

    rng = np.random.default_rng(3)
    # The large shops come first: by the Zipf law below they are among the most popular.
    sizes = [large_products] * large + rng.integers(low, high + 1, small).tolist()
    with throwaway_instance("attune-many-") as instance:
        started = time.perf_counter()
        slugs = build(instance, sizes)
        setup_s = time.perf_counter() - started
        from recommender import Embedder

        vectors = Embedder().encode(needs(64))
        ranks = np.arange(1, len(slugs) + 1, dtype=np.float64)
        weights = ranks**-1.1
        plan = rng.choice(len(slugs), size=requests, p=weights / weights.sum()).tolist()
        popular = set(range(min(POPULAR, len(slugs))))
        alone_plan = [p for p in plan if p in popular][: max(200, requests // 10)]
        zipf = measure(instance, slugs, budget, plan, vectors)  # first: RSS without the baseline's leftovers
        alone = measure(instance, slugs, 1_000_000.0, alone_plan, vectors)
    report(args, sizes, setup_s, budget, alone, zipf, popular)


def report(
    args: argparse.Namespace,
    sizes: list[int],
    setup_s: float,
    budget: float,
    alone: dict[str, Any],
    zipf: dict[str, Any],
    popular: set[int],
) -> None:
    """Print the figures and the verdicts; append a row to docs/benchmarks.md with ``--record``."""
    warm = [t for _, cold, t in zipf["timings"] if not cold]
    cold = [t for _, cold, t in zipf["timings"] if cold]
    alone_warm = [t for _, c, t in alone["timings"] if not c]
    popular_warm = [t for pick, c, t in zipf["timings"] if pick in popular and not c]
    figures = zipf["figures"]
    hit_rate = figures.hits / max(1, figures.hits + figures.misses)
    ceiling = zipf["after_model"] + budget * MIB
    ratio = percentile(popular_warm, 99) / percentile(alone_warm, 99) if popular_warm and alone_warm else float("nan")
    print(f"{len(sizes):,} merchants, {sum(sizes):,} products; setup {setup_s:.0f} s; budget {budget:g} MiB")
    print(f"requests {len(zipf['timings']):,}: hit rate {hit_rate:.3f}, evictions {figures.evictions:,}")
    print(f"warm p50 {percentile(warm, 50):.2f} ms, p99 {percentile(warm, 99):.2f} ms ({len(warm)} requests)")
    if cold:
        print(f"cold p50 {percentile(cold, 50):.1f} ms, p99 {percentile(cold, 99):.1f} ms ({len(cold)} loads)")
    print(f"popular merchants p99: {percentile(popular_warm, 99):.2f} ms vs alone {percentile(alone_warm, 99):.2f} ms")
    print(f"  ratio {ratio:.2f}x (target: unchanged, <= 1.2x) {verdict(ratio <= 1.2)}")
    print(
        f"peak RSS {zipf['peak_rss'] / MIB:.0f} MiB vs ceiling {ceiling / MIB:.0f} MiB "
        f"(RSS after model {zipf['after_model'] / MIB:.0f} + budget) {verdict(zipf['peak_rss'] <= ceiling)}"
    )
    print(
        f"loaded at the end: {figures.loaded}, estimated {figures.used_bytes / MIB:.1f} MiB, "
        f"{figures.used_bytes / max(1, zipf['raw']):.2f}x their raw float32 vectors (target <= 2x)"
    )
    if args.record:
        row = [
            today(),
            machine_summary(),
            f"{len(sizes):,}",
            f"{sum(sizes):,}",
            f"{budget:g}",
            f"{len(zipf['timings']):,}",
            f"{hit_rate:.3f}",
            f"{percentile(warm, 50):.2f} / {percentile(warm, 99):.2f}",
            f"{percentile(cold, 50):.1f} / {percentile(cold, 99):.1f}" if cold else "-",
            f"{ratio:.2f}x",
            f"{figures.evictions:,}",
            f"{zipf['peak_rss'] / MIB:.0f} / {ceiling / MIB:.0f}",
        ]
        print(f"recorded in {record_run(DOC_KEY, DOC_HEADING, DOC_INTRO, DOC_COLUMNS, [row])}")


if __name__ == "__main__":
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    main()
