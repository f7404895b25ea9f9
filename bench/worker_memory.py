"""Resident memory of one worker process: interpreter, app imports, the model, a 100k-product index.

Run: `.venv/bin/python bench/worker_memory.py [--products 100000] [--record]` (`--smoke`: 2,000
products, for CI).

The parent builds a throwaway instance with the demo shop grown to N products (copies of demo
products whose vectors are the stored ones plus gaussian noise, bulk-inserted, then indexed by
quiz.catalog.rebuild_index: HNSW above ATTUNE_HNSW_THRESHOLD, 50,000 by default; see
bench/_common.py). It then starts a fresh worker process (this script with `--worker`), which
reads VmRSS and VmHWM from /proc/self/status after each stage:
  interpreter       Python started, standard library only
  + app imports     create_app(): Flask, SQLAlchemy, numpy, the quiz and recommender packages
  + model           the first encode: sentence-transformers, torch and the weights
  + index, catalog  the first recommendation: the FAISS index and every product's item loaded
The parent prints each stage's RSS, its increase and ratios: the total to the bare interpreter
(the baseline, measured in the same run), the index stage to the raw float32 vectors (N x 384 x 4
bytes) and to the index file on disk.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from _common import (
    DEMO_SLUG,
    ROOT,
    demo_app,
    grow_catalog,
    instance_config,
    instance_env,
    machine_summary,
    record_run,
    throwaway_instance,
    today,
)

MIB = 2**20
DOC_KEY = "worker-memory"
DOC_HEADING = "Worker memory (`bench/worker_memory.py`)"
DOC_INTRO = """
Resident memory (VmRSS, and the peak VmHWM, from /proc/self/status) of one fresh worker process
after each stage: interpreter, app imports, model, and a grown catalog's index and items. Rows
appended by `--record`, in MiB:
"""
DOC_COLUMNS = [
    "date",
    "machine",
    "products",
    "index",
    "interpreter",
    "+ app imports",
    "+ model",
    "+ index, catalog",
    "total RSS",
    "peak (VmHWM)",
    "index stage / raw vectors",
]
STAGES = ["interpreter", "+ app imports", "+ model", "+ index, catalog"]


def memory_status() -> dict[str, int]:
    """Return this process's VmRSS and VmHWM in bytes, from /proc/self/status."""
    found = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            found[name] = int(value.split()[0]) * 1024  # the kernel reports kB
    return found


def worker(instance: Path) -> dict[str, Any]:
    """Run the stages in this (fresh) process; return the memory after each and what was loaded."""
    stages = [{"stage": STAGES[0], **memory_status()}]
    from app import create_app

    app = create_app(instance_config(instance))
    stages.append({"stage": STAGES[1], **memory_status()})
    from quiz import merchants
    from quiz.catalog.engine import get_embedder, recommender_for

    with app.app_context():
        get_embedder().encode(["warm up"])
    stages.append({"stage": STAGES[2], **memory_status()})
    client = app.test_client()
    token = client.post(f"/api/v1/m/{DEMO_SLUG}/consents", json={"purposes": {"recommendations": True}}).json
    answers = {"age_band": "25-34", "categories": ["any"], "budget": [0, 1000], "looking_for": "a tent for two"}
    response = client.post(
        f"/api/v1/m/{DEMO_SLUG}/recommendations",
        json={"answers": answers},
        headers={"Authorization": "Bearer " + token["subject_token"]},
    )
    if response.status_code != 200:
        raise RuntimeError(f"recommendations answered {response.status_code}: {response.json}")
    stages.append({"stage": STAGES[3], **memory_status()})
    with app.app_context():
        catalog = recommender_for(merchants.get_by_slug(DEMO_SLUG)).catalog
        manifest = catalog.vectors.manifest
        index_folder = Path(app.config["INDEX_ROOT"]) / str(merchants.get_by_slug(DEMO_SLUG).id) / manifest.version
    return {
        "stages": stages,
        "products": len(catalog.items),
        "kind": manifest.kind,
        "raw_vectors": manifest.count * manifest.dimension * 4,
        "index_file": sum(f.stat().st_size for f in index_folder.iterdir()),
    }


def build_instance(instance: Path, products: int) -> float:
    """Load the demo into ``instance`` and grow its catalog to ``products``; return the seconds taken."""
    started = time.perf_counter()
    app = demo_app(instance)
    with app.app_context():
        grow_catalog(products)
    return time.perf_counter() - started


def run_worker(instance: Path) -> dict[str, Any]:
    """Start the fresh worker process on ``instance`` and return what it measured."""
    out = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), "--worker", str(instance)],
        cwd=ROOT,
        env=instance_env(instance),
        check=True,
        capture_output=True,
        text=True,
        timeout=900,
    ).stdout
    return dict(json.loads(out.strip().splitlines()[-1]))


def print_report(report: dict[str, Any]) -> None:
    """Print RSS, increase and peak per stage, then the ratios to the baselines."""
    stages = report["stages"]
    print(f"one worker process, {report['products']:,} products ({report['kind']} index)")
    print(f"{'stage':<18} {'VmRSS MiB':>10} {'increase MiB':>13} {'VmHWM MiB':>10} {'RSS / interpreter':>18}")
    previous = 0
    base = stages[0]["VmRSS"]
    for stage in stages:
        rss = stage["VmRSS"]
        print(
            f"{stage['stage']:<18} {rss / MIB:10.1f} {(rss - previous) / MIB:13.1f} "
            f"{stage['VmHWM'] / MIB:10.1f} {rss / base:17.1f}x"
        )
        previous = rss
    index_delta = stages[3]["VmRSS"] - stages[2]["VmRSS"]
    print(
        f"index stage: {index_delta / MIB:.1f} MiB = {index_delta / report['raw_vectors']:.2f}x the raw float32 "
        f"vectors ({report['raw_vectors'] / MIB:.1f} MiB), {index_delta / report['index_file']:.2f}x the index "
        f"files on disk ({report['index_file'] / MIB:.1f} MiB)"
    )


def doc_row(report: dict[str, Any], machine: str) -> list[str]:
    """Return the dated docs row of one run."""
    stages = report["stages"]
    rss = [s["VmRSS"] for s in stages]
    increases = [rss[0]] + [b - a for a, b in zip(rss, rss[1:], strict=False)]
    return [
        today(),
        machine,
        f"{report['products']:,}",
        report["kind"],
        *(f"{value / MIB:.0f}" for value in increases),
        f"{rss[-1] / MIB:.0f}",
        f"{max(s['VmHWM'] for s in stages) / MIB:.0f}",
        f"{increases[3] / report['raw_vectors']:.2f}x",
    ]


def main() -> None:
    """Build the instance, measure a fresh worker on it, print and maybe record."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--products", type=int, default=None, help="catalog size (default 100000; smoke 2000)")
    parser.add_argument("--smoke", action="store_true", help="2,000 products, for CI")
    parser.add_argument("--record", action="store_true", help="append the figures to docs/benchmarks.md")
    parser.add_argument("--worker", type=Path, help=argparse.SUPPRESS)  # internal: the measured process
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(args.worker)))
        return
    products = args.products or (2000 if args.smoke else 100_000)
    machine = machine_summary()
    with throwaway_instance("attune-bench-memory-") as instance:
        seconds = build_instance(instance, products)
        print(f"instance built with {products:,} products in {seconds:.1f} s; starting a fresh worker", flush=True)
        report = run_worker(instance)
    print_report(report)
    if args.record:
        print(f"recorded in {record_run(DOC_KEY, DOC_HEADING, DOC_INTRO, DOC_COLUMNS, [doc_row(report, machine)])}")


if __name__ == "__main__":
    main()
