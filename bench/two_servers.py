"""Two independent gunicorn servers serve the index version one job worker publishes, with no restart.

Run: `DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/test .venv/bin/python bench/two_servers.py
[--rounds 3] [--products 300]` (`--smoke`: 2 rounds of 60 products). Needs PostgreSQL (a database of
its own is created and dropped) and Redis at REDIS_URL (default redis://127.0.0.1:6379/0).

The first proof of docs/scaling.md's "past one machine": two `gunicorn` servers (separate process
trees, as on two machines, one worker each) and one `flask jobs worker` share one instance folder
(the index version folders, as a shared volume would) and one database. Each round uploads a new
catalog through server A, waits until the job worker reports it done, and then times how long each
server takes to answer recommendations from the new catalog (only the new round's products).
Prints one row per round and exits non-zero if a server did not switch within ``--within`` seconds.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

from _common import ROOT, free_port, http, print_rows, stop_server, subject_token, throwaway_instance, wait_until
from fault_worker_kill import SLUG, Shop, catalog, fresh_database


def gunicorn(env: dict[str, str], port: int, log: Path, metrics: Path) -> subprocess.Popen[bytes]:
    """Start one gunicorn server of the production shape (one worker) in a process group of its own."""
    metrics.mkdir(parents=True, exist_ok=True)
    command = [str(Path(sys.executable).with_name("gunicorn")), "-c", "python:quiz.platform.gunicorn_conf"]
    return subprocess.Popen(
        [*command, "app:create_app()"],
        cwd=ROOT,
        env={**env, "PORT": str(port), "WEB_CONCURRENCY": "1", "PROMETHEUS_MULTIPROC_DIR": str(metrics)},
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def served_round(base: str, token: str, first_id: int) -> bool:
    """Return whether ``base`` recommends any of the products numbered from ``first_id`` (the new version's)."""
    body = json.dumps({"answers": {"looking_for": "a warm scarf for winter"}}).encode()
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {token}"}
    status, answer, _ = http("POST", f"{base}/api/v1/m/{SLUG}/recommendations", body, headers)
    if status != 200:
        return False
    ids = [int(item["title"].rsplit(" ", 1)[-1]) for item in json.loads(answer)["items"]]
    return any(first_id <= i < first_id + 50_000 for i in ids)


def run_round(shop: Shop, bases: list[str], token: str, number: int, products: int, within: float) -> dict[str, Any]:
    """Upload a new catalog through the first server; time each server's switch after the import is done."""
    first_id = 100_000 * number
    import_id = shop.upload(catalog(products, start=first_id))
    status = shop.wait_finished(import_id, 600)
    done = time.monotonic()
    row: dict[str, Any] = {"round": number, "import": status["status"]}
    for name, base in zip("AB", bases, strict=True):
        try:
            row[f"{name} serves it after (s)"] = round(
                wait_until(lambda b=base: served_round(b, token, first_id), within, interval=0.1) - done, 2
            )
        except TimeoutError:
            row[f"{name} serves it after (s)"] = f"not within {within:.0f}"
    row["ok"] = status["status"] == "done" and all(isinstance(v, float) for k, v in row.items() if "after" in k)
    return row


def main() -> None:
    """Start the shop, run the rounds and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=None, help="catalog switches (default 3; smoke 2)")
    parser.add_argument("--products", type=int, default=None, help="products per catalog (default 300; smoke 60)")
    parser.add_argument("--within", type=float, default=10.0, help="seconds a server may take to switch")
    parser.add_argument("--smoke", action="store_true", help="2 rounds of 60 products, for CI")
    args = parser.parse_args()
    rounds = args.rounds or (2 if args.smoke else 3)
    products = args.products or (60 if args.smoke else 300)
    rows: list[dict[str, Any]] = []
    with throwaway_instance("attune-two-") as instance:
        database_url, drop = fresh_database(instance)
        if not database_url.startswith("postgresql"):
            raise SystemExit("two servers share a PostgreSQL database: set DATABASE_URL to a PostgreSQL server")
        shop = Shop(instance, database_url, f"attune-bench-two-{uuid.uuid4().hex[:8]}")
        second: subprocess.Popen[bytes] | None = None
        try:
            shop.prepare()  # migrations, the merchant, the job worker, a first catalog; server A's port
            stop_server(shop.server)  # type: ignore[arg-type]  # `flask run` makes way for gunicorn A
            shop.server = gunicorn(shop.env, shop.port, instance / "a.log", instance / "metrics-a")
            port_b = free_port()
            second = gunicorn(shop.env, port_b, instance / "b.log", instance / "metrics-b")
            bases = [shop.base, f"http://127.0.0.1:{port_b}"]
            for base in bases:
                wait_until(lambda b=base: http("GET", f"{b}/readyz")[0] == 200, 120, interval=0.2)
            token = subject_token(shop.base, SLUG)
            for number in range(1, rounds + 1):
                rows.append(run_round(shop, bases, token, number, products, args.within))
                print(" | ".join(f"{k}: {v}" for k, v in rows[-1].items()), flush=True)
        finally:
            if second is not None:
                stop_server(second)
            shop.close()
            drop()
    print_rows(
        f"two gunicorn servers, one job worker, one instance folder, {rounds} rounds of {products} products", rows
    )
    if not rows or not all(row["ok"] for row in rows):
        sys.exit(1)


if __name__ == "__main__":
    main()
