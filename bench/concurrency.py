"""Concurrent shoppers against `make serve`, with and without encoder batching, next to the encode ceiling.

Run: `.venv/bin/python bench/concurrency.py [--levels 1,8,32,128] [--seconds 20] [--record]`
(`--smoke`: levels 1 and 8, 3 s each, batching on only, for CI).

Starts the production shape (`make serve`: 2 gunicorn workers, the Redis job worker, PostgreSQL
in a database of its own, dropped afterwards) on a throwaway instance, once with
ATTUNE_ENCODER_BATCHING=true and once with false. At each level, that many keep-alive
connections (bench/_loadgen.py, a second process) POST /api/v1/m/demo/recommendations with real
WANDS queries as free text (distinct bodies taking turns). Prints recommendations/s, p50/p99 and
non-2xx answers (503 busy from admission control counts there) per level.

The fixed reference, measured in this process in the same run with no server running: the
bundled all-MiniLM-L6-v2 encoding the same texts back to back in batches of 32 (texts/s). The
ratio is recommendations/s over that ceiling (issue 21's target: at least 0.5x at 32 concurrent).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from typing import Any

from _common import (
    ROOT,
    free_port,
    machine_summary,
    needs,
    record_run,
    stop_server,
    subject_token,
    throwaway_instance,
    today,
)
from load_test import POSTGRES_ADMIN_URL, POSTGRES_BASE, run_sql, start_production, wait_until_serving

DOC_KEY = "concurrency"
DOC_HEADING = "Concurrent shoppers and encoder batching (`bench/concurrency.py`)"
DOC_INTRO = """
`make serve` (2 gunicorn workers, PostgreSQL, Redis), N keep-alive connections posting real WANDS
queries as free text to the recommendations API; ceiling: all-MiniLM-L6-v2 encoding the same
texts back to back in batches of 32, same run, no server running. Latencies include any 503
busy answers (counted in "non-2xx"). Rows appended by `--record`:
"""
DOC_COLUMNS = [
    "date",
    "machine",
    "batching",
    "concurrent",
    "rec/s",
    "p50 ms",
    "p99 ms",
    "non-2xx",
    "ceiling texts/s",
    "rec/s / ceiling",
]
ANSWERS = {"age_band": "25-34", "categories": ["any"], "budget": [0, 1000]}


def encode_ceiling(texts: list[str], rounds: int = 3) -> float:
    """Return all-MiniLM-L6-v2's back-to-back encode rate in batches of 32, texts/s (best of ``rounds``)."""
    from recommender import Embedder

    embedder = Embedder()
    embedder.encode(texts[:32])
    best = 0.0
    for _ in range(rounds):
        started = time.perf_counter()
        for start in range(0, len(texts), 32):
            embedder.encode(texts[start : start + 32], batch_size=32)
        best = max(best, len(texts) / (time.perf_counter() - started))
    return best


def recommendation_job(port: int, token: str, texts: list[str]) -> dict[str, Any]:
    """Return a bench/_loadgen.py job posting ``texts`` as free-text answers to the demo's recommendations."""
    bodies = [json.dumps({"answers": {**ANSWERS, "looking_for": text}}) for text in texts]
    return {
        "host": "127.0.0.1",
        "port": port,
        "method": "POST",
        "path": "/api/v1/m/demo/recommendations",
        "headers": {"Content-Type": "application/json", "Authorization": "Bearer " + token},
        "bodies": bodies,
        "max_requests": 1_000_000,
    }


def run_loadgen(job: dict[str, Any]) -> dict[str, Any]:
    """Run bench/_loadgen.py on ``job`` in its own process (the load must not share our interpreter)."""
    out = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "_loadgen.py")],
        input=json.dumps(job),
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT / "bench",
        timeout=float(job["seconds"]) + 120,
    ).stdout
    return dict(json.loads(out.strip().splitlines()[-1]))


def load(port: int, token: str, texts: list[str], connections: int, seconds: float) -> dict[str, Any]:
    """Run one closed-loop load level: ``connections`` keep-alive shoppers for ``seconds``."""
    return run_loadgen({**recommendation_job(port, token, texts), "connections": connections, "seconds": seconds})


def serve_and_measure(batching: bool, levels: list[int], seconds: float, texts: list[str]) -> list[dict[str, Any]]:
    """Start `make serve` with batching on or off, run every level; return one result per level."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    database = f"attune_conc_{os.getpid()}"
    run_sql(POSTGRES_ADMIN_URL, f"DROP DATABASE IF EXISTS {database}", f"CREATE DATABASE {database}")
    results = []
    with throwaway_instance("attune-conc-") as instance:
        log = instance / "server.log"
        os.environ["ATTUNE_ENCODER_BATCHING"] = "true" if batching else "false"
        try:
            server = start_production(instance, port, POSTGRES_BASE + database, log)
        finally:
            os.environ.pop("ATTUNE_ENCODER_BATCHING", None)
        try:
            wait_until_serving(base, log)
            token = subject_token(base)
            load(port, token, texts, 2, 2)  # both workers warm
            for level in levels:
                figures = load(port, token, texts, level, seconds)
                figures.update(level=level, batching=batching, rate=figures["requests"] / figures["seconds"])
                results.append(figures)
                print(
                    f"batching {'on ' if batching else 'off'} {level:4d} concurrent: {figures['rate']:7.1f} rec/s, "
                    f"p50 {figures['p50_ms']:7.1f} ms, p99 {figures['p99_ms']:7.1f} ms, "
                    f"non-2xx {int(figures['errors'])}",
                    flush=True,
                )
        finally:
            stop_server(server, timeout=30)
            run_sql(POSTGRES_ADMIN_URL, f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")
    return results


def main() -> None:
    """Measure the ceiling, then the server at each level with and without batching."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="levels 1 and 8, 3 s each, batching on only")
    parser.add_argument("--levels", default=None, help="comma-separated concurrency levels (1,8,32,128)")
    parser.add_argument("--seconds", type=float, default=None, help="seconds per level (20; smoke 3)")
    parser.add_argument("--no-unbatched", action="store_true", help="skip the run without batching")
    parser.add_argument("--record", action="store_true", help="append the figures to docs/benchmarks.md")
    args = parser.parse_args()
    levels = [int(x) for x in (args.levels or ("1,8" if args.smoke else "1,8,32,128")).split(",")]
    seconds = args.seconds or (3.0 if args.smoke else 20.0)
    texts = needs(512)
    ceiling = encode_ceiling(texts)
    print(f"ceiling: all-MiniLM-L6-v2, batches of 32 back to back: {ceiling:.0f} texts/s", flush=True)
    results = serve_and_measure(True, levels, seconds, texts)
    if not (args.smoke or args.no_unbatched):
        results += serve_and_measure(False, levels, seconds, texts)
    for result in results:
        print(
            f"batching {'on ' if result['batching'] else 'off'} {result['level']:4d}: "
            f"{result['rate'] / ceiling:.2f}x of the ceiling"
        )
    if args.record:
        machine = machine_summary()
        rows = [
            [
                today(),
                machine,
                "on" if r["batching"] else "off",
                str(r["level"]),
                f"{r['rate']:.1f}",
                f"{r['p50_ms']:.0f}",
                f"{r['p99_ms']:.0f}",
                str(int(r["errors"])),
                f"{ceiling:.0f}",
                f"{r['rate'] / ceiling:.2f}x",
            ]
            for r in results
        ]
        print(f"recorded in {record_run(DOC_KEY, DOC_HEADING, DOC_INTRO, DOC_COLUMNS, rows)}")


if __name__ == "__main__":
    main()
