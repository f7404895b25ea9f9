"""Server-side recommendation latency against the raw model.encode time of the same text.

Run: `make bench` (or `.venv/bin/python bench/recommend_latency.py [--requests 200]`).

Builds a throwaway instance with the demo merchant, then for each of N distinct shopper
needs (real WANDS queries when ../shared/data is present) times, interleaved:
  encode   model.encode([text]) alone: the physical floor of one request
  server   took_ms reported by POST /api/v1/m/demo/recommendations (preference query,
           embedding, FAISS search, filters, reasons; answer validation comes before it)
  request  the whole in-process request through Flask, as seen by the caller
and prints p50/p95 of each and the ratio to encode. Target: server p50 within 1.5x encode p50.
"""

from __future__ import annotations

import argparse
import csv
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

WANDS_QUERIES = ROOT.parent / "shared" / "data" / "wands" / "query.csv"
FALLBACK_NEEDS = [
    "lightweight waterproof jacket for hiking",
    "gift for my dad who likes camping",
    "comfortable shoes for long city walks",
    "something to help me start running",
    "warm layers for a ski trip",
    "cozy things for a cabin weekend",
    "home workout gear for a small flat",
    "a tent for two people",
    "sandals for the beach",
    "a bag for my laptop and gym clothes",
]


def needs(count: int) -> list[str]:
    """Return ``count`` distinct shopper needs (distinct, so no cache can flatter the figures)."""
    texts: list[str] = []
    if WANDS_QUERIES.exists():
        with WANDS_QUERIES.open(newline="", encoding="utf-8") as fh:
            texts = [row["query"] for row in csv.DictReader(fh, delimiter="\t") if row.get("query")]
    texts = list(dict.fromkeys(texts + FALLBACK_NEEDS))
    while len(texts) < count:
        texts += [f"{t} please" for t in texts]
    return texts[:count]


def percentile(values: list[float], q: float) -> float:
    """Return the q-th percentile (0-100) by nearest rank."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()

    from app import create_app
    from quiz.demo import load_demo
    from quiz.migrate import upgrade
    from quiz.search import get_embedder

    instance = tempfile.mkdtemp(prefix="attune-bench-")
    app = create_app({"INSTANCE_PATH": instance, "DATABASE_URL": f"sqlite:///{instance}/bench.sqlite3"})
    with app.app_context():
        upgrade(app)
        load_demo()
        model = get_embedder().model
    client = app.test_client()
    token = client.post("/api/v1/m/demo/consents", json={"purposes": {"recommendations": True}}).json
    auth = {"Authorization": "Bearer " + token["subject_token"]}
    base = {"age_band": "25-34", "categories": ["any"], "budget": [0, 1000]}

    def recommend(text: str) -> tuple[float, float]:
        started = time.perf_counter()
        response = client.post(
            "/api/v1/m/demo/recommendations", json={"answers": {**base, "looking_for": text}}, headers=auth
        )
        wall = (time.perf_counter() - started) * 1000
        assert response.status_code == 200, response.json
        return float(response.json["took_ms"]), wall

    def encode(text: str) -> float:
        started = time.perf_counter()
        model.encode([text], normalize_embeddings=True, show_progress_bar=False)
        return (time.perf_counter() - started) * 1000

    for text in FALLBACK_NEEDS:  # warm both paths: first calls pay one-off costs
        recommend(text)
        encode(text)
    encode_ms, server_ms, request_ms = [], [], []
    for text in needs(args.requests):
        encode_ms.append(encode(text))
        took, wall = recommend(text)
        server_ms.append(took)
        request_ms.append(wall)

    floor = statistics.median(encode_ms)
    print(f"demo catalog, {args.requests} distinct needs, torch threads {_threads()}")
    print(f"{'measure':<40} {'p50 ms':>8} {'p95 ms':>8} {'p50 / encode':>13}")
    for name, values in (
        ("encode (model.encode, same text)", encode_ms),
        ("server (took_ms of /recommendations)", server_ms),
        ("request (in-process, through Flask)", request_ms),
    ):
        p50 = statistics.median(values)
        print(f"{name:<40} {p50:8.2f} {percentile(values, 95):8.2f} {p50 / floor:12.2f}x")
    verdict = "meets" if statistics.median(server_ms) <= 1.5 * floor else "MISSES"
    print(f"target: server p50 within 1.5x of encode p50 -> {verdict}")


def _threads() -> int:
    import torch

    return torch.get_num_threads()


if __name__ == "__main__":
    main()
