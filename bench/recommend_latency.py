"""Server-side recommendation latency against the raw model.encode time of the same text.

Run: `make bench` (or `.venv/bin/python bench/recommend_latency.py [--requests 200]`): the demo
catalog mode. For each of N distinct shopper needs (real WANDS queries when ../shared/data is
present) it times, interleaved:
  encode   model.encode([text]) alone: the physical floor of one request
  server   took_ms reported by POST /api/v1/m/demo/recommendations (preference query,
           embedding, FAISS search, filters, reasons; answer validation comes before it)
  request  the whole in-process request through Flask, as seen by the caller
and prints p50/p95 of each and the ratio to encode. Target: server p50 within 1.5x encode p50.

Scale mode: `.venv/bin/python bench/recommend_latency.py --scale [--sizes 1000,10000,100000]
[--requests 200] [--record]` grows the demo catalog to each size in turn (copies of demo
products, their stored vectors plus gaussian noise: see bench/_common.py), rebuilds the index
through the real index store (HNSW above ATTUNE_HNSW_THRESHOLD, 50,000 by default) and measures
at each size, through the real app in-process (app.test_client()):
  encode          model.encode([text]) of the same text, in the same run
  server / request with free text (the need as `looking_for`)
  server / request with options only (no free text: nothing is encoded per request)
with p50/p95/p99. Targets at the largest size: server p50 at most 1.3x encode p50, server p99
under 50 ms; options-only server p50 under 5 ms. `--smoke` runs a small version (1,000 and
3,000 products, HNSW above 2,000, 20 requests) for CI; `--record` appends dated rows to
docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import itertools
import statistics
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from _common import (
    DEMO_SLUG,
    FALLBACK_NEEDS,
    demo_app,
    grow_catalog,
    machine_summary,
    needs,
    percentile,
    record_run,
    throwaway_instance,
    today,
    verdict,
)

if TYPE_CHECKING:
    from flask import Flask

ENDPOINT = f"/api/v1/m/{DEMO_SLUG}/recommendations"
BASE_ANSWERS = {"age_band": "25-34", "categories": ["any"], "budget": [0, 1000]}
SCALE_RATIO_TARGET = 1.3
P99_TARGET_MS = 50.0
NO_TEXT_P50_TARGET_MS = 5.0
DOC_KEY = "latency-scale"
DOC_HEADING = "Recommendation latency at scale (`bench/recommend_latency.py --scale`)"
DOC_INTRO = """
Server-side latency (`took_ms` of `POST /api/v1/m/demo/recommendations`, through the real app
in-process) on catalogs grown from the demo (copies of demo products whose vectors are the stored
embedding plus gaussian noise, re-normalised: search cost does not depend on how vectors were
made), next to `model.encode([text])` of the same text in the same run. Targets at 100k: server
p50 at most 1.3x encode p50, p99 under 50 ms; with options only (no free text), p50 under 5 ms.
Rows appended by `--record`:
"""
DOC_COLUMNS = [
    "date",
    "machine",
    "products",
    "index",
    "requests",
    "encode p50 ms",
    "server p50 ms",
    "p50 / encode",
    "server p99 ms",
    "options-only p50 ms",
    "options-only p99 ms",
]


@dataclass(frozen=True)
class SizeResult:
    """The timings (milliseconds) measured at one catalog size."""

    products: int
    kind: str
    encode: list[float]
    server: list[float]
    request: list[float]
    options_server: list[float]
    options_request: list[float]


class Bench:
    """The app under test, one shopper's bearer token and the model, with timed calls."""

    def __init__(self, app: Flask) -> None:
        from quiz.catalog.engine import get_embedder

        with app.app_context():
            self.model = get_embedder().model
        self.app = app
        self.client = app.test_client()
        token = self.client.post(f"/api/v1/m/{DEMO_SLUG}/consents", json={"purposes": {"recommendations": True}})
        self.auth = {"Authorization": "Bearer " + token.json["subject_token"]}

    def recommend(self, answers: dict[str, Any]) -> tuple[float, float]:
        """Return ``(took_ms, wall_ms)`` of one recommendations request."""
        started = time.perf_counter()
        response = self.client.post(ENDPOINT, json={"answers": answers}, headers=self.auth)
        wall = (time.perf_counter() - started) * 1000
        if response.status_code != 200:
            raise RuntimeError(f"recommendations answered {response.status_code}: {response.json}")
        return float(response.json["took_ms"]), wall

    def encode(self, text: str) -> float:
        """Return the milliseconds of one bare ``model.encode([text])``."""
        started = time.perf_counter()
        self.model.encode([text], normalize_embeddings=True, show_progress_bar=False)
        return (time.perf_counter() - started) * 1000

    def index_kind(self) -> str:
        """Return the kind of the demo merchant's live index (flat or hnsw)."""
        from quiz import merchants
        from quiz.catalog.engine import recommender_for

        with self.app.app_context():
            return recommender_for(merchants.get_by_slug(DEMO_SLUG)).catalog.vectors.manifest.kind


OPTION_CHOICES: dict[str, list[Any]] = {
    "categories": [["outerwear"], ["footwear"], ["camping"], ["clothing", "accessories"], ["any"], ["fitness"]],
    "styles": [["technical"], ["eco"], ["classic", "minimalist"], [], ["sporty"], ["bold"], ["eco", "technical"]],
    "intent": ["myself", "browsing", "gift"],
    "gender": ["woman", "man", "prefer_not", "non_binary"],
    "budget": [[0, 1000], [50, 300], [0, 150], [100, 600], [20, 80]],
}
# Enough answer sets to use every choice above once: each option label is then embedded and cached.
OPTION_WARM_UP = max(len(choices) for choices in OPTION_CHOICES.values())


def option_answers() -> Iterator[dict[str, Any]]:
    """Yield varied answer sets of options only (no free text), each question cycling through its choices."""
    for n in itertools.count():
        answers: dict[str, Any] = {"age_band": "25-34"}
        for question, choices in OPTION_CHOICES.items():
            if choices[n % len(choices)]:
                answers[question] = choices[n % len(choices)]
        yield answers


def measure_size(bench: Bench, products: int, requests: int) -> SizeResult:
    """Time ``requests`` free-text and options-only requests on the current catalog."""
    options = option_answers()
    for text in FALLBACK_NEEDS:  # warm both paths (the first request loads the new index and items)
        bench.recommend({**BASE_ANSWERS, "looking_for": text})
        bench.encode(text)
    for answers in itertools.islice(option_answers(), OPTION_WARM_UP):  # a shop's labels are cached once warm
        bench.recommend(answers)
    encode, server, request, options_server, options_request = [], [], [], [], []
    for text in needs(requests):
        encode.append(bench.encode(text))
        took, wall = bench.recommend({**BASE_ANSWERS, "looking_for": text})
        server.append(took)
        request.append(wall)
        took, wall = bench.recommend(next(options))
        options_server.append(took)
        options_request.append(wall)
    return SizeResult(products, bench.index_kind(), encode, server, request, options_server, options_request)


def print_scale(results: list[SizeResult], threads: int) -> None:
    """Print one block of rows per catalog size with p50/p95/p99 and the ratio to encode p50."""
    print(f"catalogs grown from the demo, {len(results[0].encode)} requests per measure, torch threads {threads}")
    print(f"{'products':>9} {'index':<5} {'measure':<34} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'p50/encode':>11}")
    for r in results:
        floor = statistics.median(r.encode)
        rows: list[tuple[str, list[float]]] = [
            ("encode (model.encode, same text)", r.encode),
            ("server, free text (took_ms)", r.server),
            ("request, free text (in-process)", r.request),
            ("server, options only (took_ms)", r.options_server),
            ("request, options only", r.options_request),
        ]
        for i, (name, values) in enumerate(rows):
            head = f"{r.products:>9,} {r.kind:<5}" if i == 0 else " " * 15
            p50 = statistics.median(values)
            print(
                f"{head} {name:<34} {p50:8.2f} {percentile(values, 95):8.2f} "
                f"{percentile(values, 99):8.2f} {p50 / floor:10.2f}x"
            )


def scale_targets(last: SizeResult) -> list[tuple[str, bool]]:
    """Return the targets, judged at the largest size measured, with whether each is met."""
    floor = statistics.median(last.encode)
    ratio = statistics.median(last.server) / floor
    p99 = percentile(last.server, 99)
    no_text = statistics.median(last.options_server)
    at = f"{last.products:,} products"
    return [
        (f"server p50 at most {SCALE_RATIO_TARGET}x encode p50 at {at}: {ratio:.2f}x", ratio <= SCALE_RATIO_TARGET),
        (f"server p99 under {P99_TARGET_MS:.0f} ms at {at}: {p99:.2f} ms", p99 < P99_TARGET_MS),
        (
            f"options-only server p50 under {NO_TEXT_P50_TARGET_MS:.0f} ms at {at}: {no_text:.2f} ms",
            no_text < NO_TEXT_P50_TARGET_MS,
        ),
    ]


def doc_rows(results: list[SizeResult], machine: str) -> list[list[str]]:
    """Return the dated docs rows of a scale run, one per size."""
    rows = []
    for r in results:
        floor, server = statistics.median(r.encode), statistics.median(r.server)
        rows.append(
            [
                today(),
                machine,
                f"{r.products:,}",
                r.kind,
                str(len(r.encode)),
                f"{floor:.2f}",
                f"{server:.2f}",
                f"{server / floor:.2f}x",
                f"{percentile(r.server, 99):.2f}",
                f"{statistics.median(r.options_server):.2f}",
                f"{percentile(r.options_server, 99):.2f}",
            ]
        )
    return rows


def run_scale(sizes: list[int], requests: int, hnsw_threshold: int | None, record: bool) -> None:
    """Grow the demo catalog to each size in turn and measure there; print, and record when asked."""
    overrides = {"HNSW_THRESHOLD": hnsw_threshold} if hnsw_threshold else {}
    machine = machine_summary()
    with throwaway_instance("attune-bench-scale-") as instance:
        app = demo_app(instance, **overrides)
        bench = Bench(app)
        results = []
        for size in sorted(sizes):
            started = time.perf_counter()
            with app.app_context():
                added = grow_catalog(size)
            grown = time.perf_counter() - started
            result = measure_size(bench, size, requests)
            print(f"grew to {size:,} products (+{added:,}, indexed as {result.kind}) in {grown:.1f} s", flush=True)
            results.append(result)
    print_scale(results, _threads())
    for text, met in scale_targets(results[-1]):
        print(f"target: {text} -> {verdict(met)}")
    if record:
        rows = doc_rows(results, f"{machine}, torch threads {_threads()}")
        path = record_run(DOC_KEY, DOC_HEADING, DOC_INTRO, DOC_COLUMNS, rows)
        print(f"recorded in {path}")


def run_demo(requests: int) -> None:
    """The original mode: the demo catalog as shipped, free-text requests against encode."""
    with throwaway_instance() as instance:
        bench = Bench(demo_app(instance))
        for text in FALLBACK_NEEDS:  # warm both paths: first calls pay one-off costs
            bench.recommend({**BASE_ANSWERS, "looking_for": text})
            bench.encode(text)
        encode_ms, server_ms, request_ms = [], [], []
        for text in needs(requests):
            encode_ms.append(bench.encode(text))
            took, wall = bench.recommend({**BASE_ANSWERS, "looking_for": text})
            server_ms.append(took)
            request_ms.append(wall)

    floor = statistics.median(encode_ms)
    print(f"demo catalog, {requests} distinct needs, torch threads {_threads()}")
    print(f"{'measure':<40} {'p50 ms':>8} {'p95 ms':>8} {'p50 / encode':>13}")
    for name, values in (
        ("encode (model.encode, same text)", encode_ms),
        ("server (took_ms of /recommendations)", server_ms),
        ("request (in-process, through Flask)", request_ms),
    ):
        p50 = statistics.median(values)
        print(f"{name:<40} {p50:8.2f} {percentile(values, 95):8.2f} {p50 / floor:12.2f}x")
    verdict_text = "meets" if statistics.median(server_ms) <= 1.5 * floor else "MISSES"
    print(f"target: server p50 within 1.5x of encode p50 -> {verdict_text}")


def _sizes(value: str) -> list[int]:
    """Parse ``--sizes``: comma-separated product counts, ``k`` for thousands (``1k,10k,100k``)."""
    sizes = []
    for part in value.lower().split(","):
        thousands = part.endswith("k")
        sizes.append(int(float(part.removesuffix("k")) * (1000 if thousands else 1)))
    return sizes


def _threads() -> int:
    import torch

    return torch.get_num_threads()


def set_threads(count: int) -> None:
    """Use ``count`` threads in torch and FAISS (OpenMP) in this process, app and bare encode alike."""
    import faiss
    import torch

    torch.set_num_threads(count)
    faiss.omp_set_num_threads(count)


def main() -> None:
    """Parse the command line and run the demo or the scale mode."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=None, help="requests per measure (default 200; smoke 20)")
    parser.add_argument("--scale", action="store_true", help="grow the catalog to --sizes and measure at each")
    parser.add_argument("--sizes", type=_sizes, default=None, help="catalog sizes (default 1000,10000,100000)")
    parser.add_argument("--hnsw-threshold", type=int, default=None, help="override ATTUNE_HNSW_THRESHOLD")
    parser.add_argument("--smoke", action="store_true", help="scale mode, small: 1k and 3k products, 20 requests")
    parser.add_argument("--record", action="store_true", help="append the scale figures to docs/benchmarks.md")
    parser.add_argument("--threads", type=int, default=None, help="torch and FAISS threads (default: theirs)")
    args = parser.parse_args()
    if args.threads:
        set_threads(args.threads)
    if args.smoke or args.scale:
        sizes = args.sizes or ([1000, 3000] if args.smoke else [1000, 10_000, 100_000])
        threshold = args.hnsw_threshold or (2000 if args.smoke else None)
        run_scale(sizes, args.requests or (20 if args.smoke else 200), threshold, args.record)
    else:
        run_demo(args.requests or 200)


if __name__ == "__main__":
    main()
