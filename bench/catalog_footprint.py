"""Loaded catalog size against its raw float32 vectors: one object per product vs columns, and mmap.

Run: `.venv/bin/python bench/catalog_footprint.py [--products N] [--record]` (`--smoke`: 2,000
products, for CI). Products are the real homedepot-dev relevance set (../shared/data, 54,667
products; cycled with varied ids past that), vectors are random unit vectors (size and search
cost do not depend on how they were made). The index goes through the real IndexStore (written,
then loaded memory-mapped) and CatalogIndex.build, as quiz.catalog.engine loads a merchant.

Printed, each over the raw vectors (N x 384 x 4 bytes, the baseline):
  objects   the catalog as built, one CatalogItem per product (before issue 21): footprint estimate
  columns   the same catalog with its items as columns (recommender/columnar.py): estimate
Target (issue 21): at most 2x. Resident memory end to end (a fresh worker process through the
real engine, which now keeps columns) is bench/worker_memory.py's measure.
"""

from __future__ import annotations

import argparse
import gc
import tempfile
import time

from _common import ROOT, machine_summary, record_run, today

MIB = 2**20
DATA = ROOT.parent / "shared" / "data" / "relevance" / "homedepot-dev"
DOC_KEY = "catalog-footprint"
DOC_HEADING = "Loaded catalog size (`bench/catalog_footprint.py`)"
DOC_INTRO = """
One loaded catalog (real homedepot-dev products, random unit vectors, the real index store and
CatalogIndex.build), over its raw float32 vectors (N x 384 x 4 bytes): the footprint estimate
with one object per product and with columns. Rows appended by `--record`:
"""
DOC_COLUMNS = ["date", "machine", "products", "index", "raw MiB", "objects / raw", "columns / raw", "build s"]


def main() -> None:
    """Build the catalog both ways and print the ratios."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--products", type=int, default=None, help="catalog size (default 54667; smoke 2000)")
    parser.add_argument("--smoke", action="store_true", help="2,000 products, for CI")
    parser.add_argument("--record", action="store_true", help="append the figures to docs/benchmarks.md")
    args = parser.parse_args()

    import dataclasses

    import numpy as np

    from recommender import CatalogIndex, IndexStore
    from recommender.columnar import ColumnarItems
    from recommender.evaluation.datasets import load_wands
    from recommender.footprint import approximate_bytes

    records = load_wands(DATA).products
    count = args.products or (2000 if args.smoke else len(records))
    rng = np.random.default_rng(5)
    with tempfile.TemporaryDirectory(prefix="attune-footprint-") as folder:
        ids = np.arange(1, count + 1, dtype=np.int64)
        vectors = rng.normal(size=(count, 384)).astype(np.float32)
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        store = IndexStore(folder)
        store.write("v1", ids, vectors, "all-MiniLM-L6-v2")
        del vectors
        gc.collect()
        items = {
            int(i): dataclasses.replace(records[(int(i) - 1) % len(records)], external_id=f"P{i}").as_item(int(i))
            for i in ids
        }
        objects = CatalogIndex.build(store.load("v1"), items, "v1")
        objects_bytes = approximate_bytes(objects)
        kind = objects.vectors.manifest.kind
        del objects
        gc.collect()
        started = time.perf_counter()
        built = CatalogIndex.build(store.load("v1"), items, "v1")
        catalog = dataclasses.replace(built, items=ColumnarItems.build(items.values()))
        load_s = time.perf_counter() - started
        del built, items
        gc.collect()
        columns_bytes = approximate_bytes(catalog)
        raw = count * 384 * 4
        print(f"{count:,} products ({kind} index), raw float32 vectors {raw / MIB:.1f} MiB")
        print(f"one object per product: {objects_bytes / MIB:.1f} MiB = {objects_bytes / raw:.2f}x raw (estimate)")
        print(f"columns:                {columns_bytes / MIB:.1f} MiB = {columns_bytes / raw:.2f}x raw (estimate)")
        print(f"target: columns <= 2x raw: {'met' if columns_bytes <= 2 * raw else 'MISSES'}")
        print(f"build with columns: {load_s:.1f} s")
        assert len(catalog.items) == count
    if args.record:
        row = [
            today(),
            machine_summary(),
            f"{count:,}",
            kind,
            f"{raw / MIB:.1f}",
            f"{objects_bytes / raw:.2f}x",
            f"{columns_bytes / raw:.2f}x",
            f"{load_s:.1f}",
        ]
        print(f"recorded in {record_run(DOC_KEY, DOC_HEADING, DOC_INTRO, DOC_COLUMNS, [row])}")


if __name__ == "__main__":
    main()
