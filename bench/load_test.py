"""Load proof: concurrent shoppers through consent -> quiz -> results, with an import under load.

Run: `.venv/bin/python bench/load_test.py [--backend postgres|sqlite] [--users 200]
[--seconds 120] [--import-products 10000] [--record]`.

`postgres` starts the production shape, `make serve` (gunicorn workers, the Redis-backed job
worker, PostgreSQL), on a throwaway instance folder, its own new database (dropped afterwards)
and its own job queue; `sqlite` starts the embedded default as `make run` does (`flask run`,
in-process jobs, SQLite). Locust (bench/locustfile.py) then runs headless from a second process
on loopback for the given time. With `--import-products N`, a full import of an N-product
catalog (varied copies of the demo products, their urls marked) is uploaded through the
merchant API 10 s into the run, and the load goes on past the given time until the import has
finished and results have switched (10 minutes at most). Checks, each printed with its verdict:
  - 0 failed shopper requests (locust's failure count; any non-2xx counts);
  - 0 lost profiles: every 2xx finish with profile consent returned a profile id, and the
    stored profiles are exactly those ids, once each (by count and by id);
  - the import finished during the run, and after it every recommendation comes from the new
    catalog (its urls), within 10 s of the import's end;
and the p50/p95/p99 latency of each step. Rate limits are switched off for the run (all
shoppers come from 127.0.0.1). `--smoke`: 20 users for 40 s and a 300-product import, for CI.
`--record` appends a dated row to docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from _common import (
    DEMO_SLUG,
    ROOT,
    free_port,
    http,
    instance_env,
    machine_summary,
    needs,
    prepare_with_flask_cli,
    record_run,
    start_server,
    stop_server,
    throwaway_instance,
    today,
    verdict,
    wait_for_recommendation,
    wait_until,
)

POSTGRES_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
POSTGRES_BASE = "postgresql+psycopg://postgres@127.0.0.1:5432/"
REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
IMPORT_AFTER_S = 10.0
IMPORT_GRACE_S = 600  # the load goes on up to this much longer while the import has not finished
SWITCH_WITHIN_S = 10.0
NEW_CATALOG_URL = "https://load.attune.test/"
DOC_KEY = "load-test"
DOC_HEADING = "Shoppers under load (`bench/load_test.py`)"
DOC_INTRO = """
Locust shoppers (bench/locustfile.py: explainer, consent, quiz, recommendations, finish; half
consent to a profile) against the production shape (`make serve`: gunicorn, Redis job worker,
PostgreSQL) or the embedded default (`flask run`, SQLite), with a full catalog import uploaded
10 s into the run. Rows appended by `--record`:
"""
DOC_COLUMNS = [
    "date",
    "machine",
    "backend",
    "users x seconds",
    "finished quizzes",
    "failed requests",
    "lost profiles",
    "import (products, s)",
    "switch s",
    "finish p50 / p99 ms",
    "recommendations p50 / p99 ms",
]


@dataclass
class Outcome:
    """What one load run measured."""

    backend: str
    users: int
    seconds: int
    requests: int
    failures: int
    finished: int
    with_profile: int
    lost_profiles: int
    import_products: int
    import_seconds: float | None
    switch_seconds: float | None
    latency: dict[str, tuple[float, float, float]]  # step -> p50, p95, p99 ms


# --- servers -----------------------------------------------------------------------------------


def run_sql(url: str, *statements: str) -> list[Any]:
    """Run statements in autocommit mode on ``url``; return the scalar result of the last one."""
    import sqlalchemy as sa

    engine = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            result: list[Any] = []
            for statement in statements:
                rows = connection.execute(sa.text(statement))
                result = list(rows.scalars()) if rows.returns_rows else []
            return result
    finally:
        engine.dispose()


def start_production(instance: Path, port: int, database_url: str, log: Path) -> subprocess.Popen[bytes]:
    """Start `make serve` on the instance, database and a queue of its own; return the process."""
    env = instance_env(
        instance,
        DATABASE_URL=database_url,
        REDIS_URL=REDIS_URL,
        PORT=str(port),
        WEB_CONCURRENCY=os.environ.get("WEB_CONCURRENCY", "2"),
        ATTUNE_JOB_QUEUE_NAME=f"attune-load-{os.getpid()}",
        PROMETHEUS_MULTIPROC_DIR=str(instance / "prometheus"),
    )
    return subprocess.Popen(
        ["make", "--no-print-directory", "serve"],
        cwd=ROOT,
        env=env,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def start_embedded(instance: Path, port: int, log: Path) -> subprocess.Popen[bytes]:
    """Start the embedded default as `make run` does, on a prepared SQLite instance."""
    prepare_with_flask_cli(instance)
    return start_server(instance, port, log=log)


def wait_until_serving(base: str, log: Path, timeout: float = 300) -> None:
    """Wait until the server at ``base`` is healthy and recommends; on a timeout, show its log's tail."""
    try:
        wait_until(lambda: http("GET", f"{base}/healthz")[0] == 200, timeout=timeout, interval=0.2)
        wait_for_recommendation(base, timeout=timeout)
    except TimeoutError:
        sys.stderr.write(log.read_text(errors="replace")[-3000:])
        raise


def demo_api_key(env: dict[str, str]) -> str:
    """Issue an API key of the demo merchant in the server's database; return it."""
    code = (
        "from app import create_app; from quiz import merchants\n"
        "from quiz.merchants import api_keys; from quiz.platform.db import transaction\n"
        "app = create_app()\n"
        "with app.app_context():\n"
        "    with transaction():\n"
        f"        _, key = api_keys.issue(merchants.get_by_slug({DEMO_SLUG!r}))\n"
        "    print(key)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    return done.stdout.strip().splitlines()[-1]


# --- the import under load --------------------------------------------------------------------------


def new_catalog(products: int) -> bytes:
    """Return a generic JSON catalog of ``products`` varied copies of the demo products, urls marked."""
    demo = json.loads((ROOT / "quiz" / "demo" / "catalog.json").read_text(encoding="utf-8"))
    base = demo["products"]
    rows = []
    for n in range(products):
        product = dict(base[n % len(base)])
        product["id"] = f"{product['id']}-L{n}"
        product["title"] = f"{product['title']} (edition {n // len(base) + 1})"
        product["url"] = f"{NEW_CATALOG_URL}{n}"
        rows.append(product)
    return json.dumps({"currency": demo.get("currency", "USD"), "products": rows}).encode()


def upload(base: str, key: str, body: bytes) -> str:
    """Upload a full import through the merchant API; return its id."""
    boundary = "attune-load-boundary"
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="mode"\r\n\r\nfull\r\n'.encode(),
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="load.json"\r\n'.encode()
        + b"Content-Type: application/json\r\n\r\n"
        + body
        + b"\r\n",
        f"--{boundary}--\r\n".encode(),
    ]
    headers = {"Authorization": f"Bearer {key}", "Content-Type": f"multipart/form-data; boundary={boundary}"}
    status, data, _ = http("POST", f"{base}/api/v1/catalog/imports", b"".join(parts), headers, timeout=120)
    if status != 202:
        raise RuntimeError(f"the import upload answered {status}: {data[:300]!r}")
    return str(json.loads(data)["id"])


def import_status(base: str, key: str, import_id: str) -> dict[str, Any]:
    """Return the import's status document."""
    url = f"{base}/api/v1/catalog/imports/{import_id}"
    # Polled from the same queue as the shoppers' requests: under load an answer may take a while.
    status, data, _ = http("GET", url, None, {"Authorization": f"Bearer {key}"}, timeout=120)
    if status != 200:
        raise RuntimeError(f"import status answered {status}")
    return dict(json.loads(data))


def serves_new_catalog(base: str, token: str) -> bool:
    """Return whether a recommendation comes entirely from the imported catalog."""
    answers = {"age_band": "25-34", "categories": ["any"], "budget": [0, 1000], "looking_for": "a tent for two"}
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {token}"}
    status, data, _ = http(
        "POST", f"{base}/api/v1/m/{DEMO_SLUG}/recommendations", json.dumps({"answers": answers}).encode(), headers
    )
    items = json.loads(data)["items"] if status == 200 else []
    return bool(items) and all(str(item["url"]).startswith(NEW_CATALOG_URL) for item in items)


def run_import(base: str, key: str, token: str, products: int, deadline: float) -> tuple[float | None, float | None]:
    """Upload the import, wait for it; return its duration and how long until results switched."""
    started = time.monotonic()
    import_id = upload(base, key, new_catalog(products))
    while time.monotonic() < deadline:
        state = import_status(base, key, import_id)
        if state["status"] == "failed":
            raise RuntimeError(f"the import failed: {state}")
        if state["status"] == "done":
            finished = time.monotonic()
            try:
                switched = wait_until(lambda: serves_new_catalog(base, token), SWITCH_WITHIN_S, interval=0.25)
            except TimeoutError:
                return finished - started, None
            return finished - started, switched - finished
        time.sleep(0.5)
    return None, None


# --- the run ------------------------------------------------------------------------------------


def run_locust(base: str, users: int, seconds: int, folder: Path) -> subprocess.Popen[bytes]:
    """Start headless locust against ``base``; write its CSV stats and the results file under ``folder``."""
    needs_file = folder / "needs.txt"
    needs_file.write_text("\n".join(needs(400)))
    env = dict(
        os.environ,
        ATTUNE_LOAD_RESULTS=str(folder / "results.jsonl"),
        ATTUNE_LOAD_NEEDS=str(needs_file),
        ATTUNE_LOAD_SLUG=DEMO_SLUG,
    )
    command = [
        str(Path(sys.executable).parent / "locust"),
        "-f",
        str(ROOT / "bench" / "locustfile.py"),
        "--headless",
        "--users",
        str(users),
        "--spawn-rate",
        str(max(1, users // 10)),
        "--run-time",
        f"{seconds}s",
        "--host",
        base,
        "--csv",
        str(folder / "locust"),
        "--stop-timeout",
        "60",  # shoppers finish the quiz they are taking: a cut request would look like a lost profile
        "--only-summary",
        "--loglevel",
        "WARNING",
    ]
    return subprocess.Popen(command, env=env, stdout=(folder / "locust.log").open("wb"), stderr=subprocess.STDOUT)


def read_stats(folder: Path) -> tuple[int, int, dict[str, tuple[float, float, float]]]:
    """Return total requests, failures and (p50, p95, p99) per step from locust's CSV."""
    latency: dict[str, tuple[float, float, float]] = {}
    requests = failures = 0
    with (folder / "locust_stats.csv").open() as fh:
        for row in csv.DictReader(fh):
            if row["Name"] == "Aggregated":
                requests, failures = int(row["Request Count"]), int(row["Failure Count"])
            latency[row["Name"]] = (float(row["50%"]), float(row["95%"]), float(row["99%"]))
    return requests, failures, latency


def lost_profiles(folder: Path, database_url: str) -> tuple[int, int, int]:
    """Return finished quizzes, those with a profile, and the profiles lost or doubled."""
    finished = [json.loads(line) for line in (folder / "results.jsonl").read_text().splitlines() if line.strip()]
    returned = [r["profile_id"] for r in finished if r["status"] == 201 and r["profile"]]
    missing_ids = sum(1 for pid in returned if pid is None)
    stored = run_sql(
        database_url,
        "SELECT p.id FROM profile p JOIN merchant m ON m.id = p.merchant_id WHERE m.slug = 'demo'",
    )
    stored_ids = [str(pid) for pid in stored]
    expected = {str(pid) for pid in returned if pid is not None}
    lost = missing_ids + len(expected - set(stored_ids)) + len(stored_ids) - len(set(stored_ids))
    lost += len(set(stored_ids) - expected)  # a profile nobody finished for (a double write)
    return len([r for r in finished if r["status"] == 201]), len(returned), lost


def run(backend: str, users: int, seconds: int, import_products: int) -> Outcome:
    """Run one load test on a throwaway instance; return what it measured."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with throwaway_instance("attune-load-") as instance, tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        log = instance / "server.log"
        database = f"attune_load_{os.getpid()}"
        if backend == "postgres":
            run_sql(POSTGRES_ADMIN_URL, f"DROP DATABASE IF EXISTS {database}", f"CREATE DATABASE {database}")
            database_url = POSTGRES_BASE + database
            server = start_production(instance, port, database_url, log)
            env = instance_env(instance, DATABASE_URL=database_url)
        else:
            database_url = f"sqlite:///{instance}/bench.sqlite3"
            server = start_embedded(instance, port, log)
            env = instance_env(instance)
        try:
            wait_until_serving(base, log, timeout=240)
            key = demo_api_key(env)
            from _common import subject_token

            token = subject_token(base)
            started = time.monotonic()
            locust = run_locust(base, users, seconds + IMPORT_GRACE_S, folder)
            import_seconds = switch_seconds = None
            if import_products:
                time.sleep(IMPORT_AFTER_S)
                deadline = started + seconds + IMPORT_GRACE_S - SWITCH_WITHIN_S
                import_seconds, switch_seconds = run_import(base, key, token, import_products, deadline)
            # The load lasts its time, and longer while the import runs, so all of it runs under load.
            time.sleep(max(0.0, started + seconds - time.monotonic()))
            locust.send_signal(signal.SIGTERM)  # locust stops its shoppers gracefully and writes its stats
            locust.wait(timeout=120)
            run_seconds = round(time.monotonic() - started)
            requests, failures, latency = read_stats(folder)
            if failures:
                sys.stderr.write((folder / "locust_failures.csv").read_text())
            finished, with_profile, lost = lost_profiles(folder, database_url)
            if failures or (import_products and import_seconds is None):
                kept = Path(tempfile.gettempdir()) / f"attune-load-{backend}-server.log"
                kept.write_bytes(log.read_bytes())
                sys.stderr.write(f"something failed; the server's log is in {kept}\n")
        finally:
            stop_server(server, timeout=30)
            if backend == "postgres":
                run_sql(POSTGRES_ADMIN_URL, f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")
    return Outcome(
        backend,
        users,
        run_seconds,
        requests,
        failures,
        finished,
        with_profile,
        lost,
        import_products,
        import_seconds,
        switch_seconds,
        latency,
    )


def report(outcome: Outcome) -> bool:
    """Print the figures and the verdicts; return whether every check passed."""
    print(f"{outcome.backend}: {outcome.users} shoppers for {outcome.seconds} s; {machine_summary()}")
    print(f"{'step':<16}{'p50 ms':>10}{'p95 ms':>10}{'p99 ms':>10}")
    for step, (p50, p95, p99) in outcome.latency.items():
        print(f"{step:<16}{p50:>10.0f}{p95:>10.0f}{p99:>10.0f}")
    checks = [
        (f"failed requests: {outcome.failures} of {outcome.requests}", outcome.failures == 0),
        (
            f"lost or doubled profiles: {outcome.lost_profiles} "
            f"({outcome.with_profile} of {outcome.finished} finished quizzes kept a profile)",
            outcome.lost_profiles == 0 and outcome.finished > 0,
        ),
    ]
    if outcome.import_products:
        took = "did not finish" if outcome.import_seconds is None else f"{outcome.import_seconds:.1f} s"
        switch = "never" if outcome.switch_seconds is None else f"{outcome.switch_seconds:.1f} s"
        imported = f"import of {outcome.import_products:,} products under load: {took}"
        checks.append((imported, outcome.import_seconds is not None))
        checks.append((f"recommendations from the new catalog after: {switch}", outcome.switch_seconds is not None))
    for text, ok in checks:
        print(f"check: {text} -> {verdict(ok)}")
    return all(ok for _, ok in checks)


def doc_row(outcome: Outcome) -> list[str]:
    """Return the docs/benchmarks.md row of a run."""

    def pair(step: str) -> str:
        p50, _, p99 = outcome.latency.get(step, (0.0, 0.0, 0.0))
        return f"{p50:.0f} / {p99:.0f}"

    imported = "-"
    if outcome.import_products:
        took = "unfinished" if outcome.import_seconds is None else f"{outcome.import_seconds:.0f}"
        imported = f"{outcome.import_products:,}, {took}"
    return [
        today(),
        machine_summary(),
        outcome.backend,
        f"{outcome.users} x {outcome.seconds}",
        f"{outcome.finished:,}",
        f"{outcome.failures} of {outcome.requests:,}",
        str(outcome.lost_profiles),
        imported,
        "-" if outcome.switch_seconds is None else f"{outcome.switch_seconds:.1f}",
        pair("finish"),
        pair("recommendations"),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=["postgres", "sqlite"], default="postgres")
    parser.add_argument("--users", type=int, default=None, help="concurrent shoppers (default 200; smoke 20)")
    parser.add_argument("--seconds", type=int, default=None, help="run time (default 120; smoke 40)")
    parser.add_argument("--import-products", type=int, default=None, help="import size (default 10000; smoke 300)")
    parser.add_argument("--smoke", action="store_true", help="a small run, for CI")
    parser.add_argument("--record", action="store_true", help="append the figures to docs/benchmarks.md")
    args = parser.parse_args()
    users = args.users or (20 if args.smoke else 200)
    seconds = args.seconds or (40 if args.smoke else 120)
    products = args.import_products if args.import_products is not None else (300 if args.smoke else 10_000)
    # This bench measures shoppers beside an import at a load the machine sustains, as before admission
    # control (issue 21): a shopper may wait for the encoder while the import holds it. Overload and
    # its 503s are bench/concurrency.py's to measure. Set the variable to measure with admission on.
    os.environ.setdefault("ATTUNE_ADMISSION_WAIT_SECONDS", "30")
    outcome = run(args.backend, users, seconds, products)
    passed = report(outcome)
    if args.record:
        print(f"recorded in {record_run(DOC_KEY, DOC_HEADING, DOC_INTRO, DOC_COLUMNS, [doc_row(outcome)])}")
    sys.exit(0 if passed else 1)


if __name__ == "__main__":
    main()
