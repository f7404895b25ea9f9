"""Catalog import throughput against raw model.encode on the same texts, and unchanged re-imports.

Run: `.venv/bin/python bench/import_throughput.py [--products 10000]`.

Builds a catalog of N products from the real merchant exports in ../shared/data/catalogs
(repeated with variations: sizes, colours and editions in the titles, so every text differs),
then, in one run and one process:
  encode     the models' encode of exactly the texts the importer embeds, in the importer's batch
             size (since issue 16 both models: MiniLM, and the multilingual encoder for Spanish)
  first      a first import through the production path (parse, diff, embed, write, index)
  reimport   the same file again (nothing changed: nothing to embed)
and prints products per second of each with the ratios. Targets: first >= 0.8x encode;
re-import >= 20x faster than the first import.
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
CATALOGS = ROOT.parent / "shared" / "data" / "catalogs"
VARIANTS = ["Classic", "Pro", "Lite", "Travel", "Kids", "XL", "Organic", "Winter", "Summer", "Limited"]
COLOURS = ["red", "navy", "olive", "sand", "charcoal", "teal", "rust", "cream", "plum", "sky"]


def base_products() -> list[tuple[str, str, str, float]]:
    """Return (title, description, category, price) of the real exports' products."""
    from recommender.importers import parse_catalog

    found = []
    for path in sorted(CATALOGS.rglob("*")):
        if path.is_file():
            for r in parse_catalog(path.read_bytes(), filename=path.name).records:
                found.append((r.title, r.description, r.category, r.price or 10.0))
    if not found:
        sys.exit(f"no catalogs under {CATALOGS}: this bench needs ../shared/data beside the checkout")
    return found


def build_catalog(count: int) -> bytes:
    """Return a generic CSV of ``count`` distinct products varied from the real ones."""
    base = base_products()
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["id", "title", "description", "category", "price"])
    for n in range(count):
        title, description, category, price = base[n % len(base)]
        variant, colour = VARIANTS[(n // len(base)) % 10], COLOURS[(n // (len(base) * 10)) % 10]
        writer.writerow(
            [f"B{n}", f"{title} {variant} ({colour}) #{n}", description, category, f"{price * (1 + n % 7 / 10):.2f}"]
        )
    return out.getvalue().encode()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--products", type=int, default=10_000)
    args = parser.parse_args()

    from app import create_app
    from quiz import merchants
    from quiz.catalog.engine import get_encoders
    from quiz.catalog.imports import create_import, run_import
    from quiz.catalog.sync import EMBED_BATCH
    from quiz.platform.db import transaction
    from quiz.platform.migrate import upgrade
    from recommender import item_document
    from recommender.importers import parse_catalog

    data = build_catalog(args.products)
    instance = tempfile.mkdtemp(prefix="attune-bench-import-")
    app = create_app({"INSTANCE_PATH": instance, "DATABASE_URL": f"sqlite:///{instance}/bench.sqlite3"})
    with app.app_context():
        upgrade(app)
        with transaction():
            merchant = merchants.create("bench", "Bench").merchant
        encoders = get_encoders()  # every model an import runs per product (MiniLM, and USE for Spanish)
        encoders.encode_documents(["warm up"])
        texts = [item_document(r.as_item()) for r in parse_catalog(data, filename="bench.csv").records]

        started = time.perf_counter()
        encoders.encode_documents(texts, batch_size=EMBED_BATCH)
        encode_s = time.perf_counter() - started

        timings = []
        for label in ("first", "reimport"):
            started = time.perf_counter()
            job = run_import(create_import(merchant, data, "bench.csv").id)
            timings.append((label, time.perf_counter() - started, job.summary))

    n = len(texts)
    print(f"{n} products built from the real exports; batch {EMBED_BATCH}")
    print(f"{'measure':<38} {'seconds':>8} {'products/s':>11} {'vs encode':>10}")
    print(f"{'encode (model.encode, same texts)':<38} {encode_s:8.2f} {n / encode_s:11.1f} {1:10.2f}x")
    for label, seconds, summary in timings:
        name = f"{label} import (embedded {summary['embedded']})"
        print(f"{name:<38} {seconds:8.2f} {n / seconds:11.1f} {encode_s / seconds:10.2f}x")
    first, again = timings[0][1], timings[1][1]
    print(f"first import / encode throughput: {encode_s / first:.2f}x (target >= 0.8x)")
    print(f"unchanged re-import speed-up: {first / again:.1f}x (target >= 20x)")


if __name__ == "__main__":
    main()
