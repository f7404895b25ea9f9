"""kill -9 of the job worker at random points of an import: the old catalog serves, a restart needs no cleanup.

Run: `.venv/bin/python bench/fault_worker_kill.py [--trials 10] [--products 2500] [--seed 8]`
(`--smoke`: 2 trials of a small catalog). Needs Redis at REDIS_URL (default redis://127.0.0.1:6379/0).

On a throwaway instance (SQLite, or DATABASE_URL's PostgreSQL server in a database of its own),
a web server (``flask run`` with REDIS_URL, so uploads go to the queue) and ``flask jobs worker``
serve a shop with a small first catalog. Each trial then:

1. uploads a catalog of new products (every one must be embedded: seconds of work);
2. waits until the import reaches a random fraction of its products (one trial in four: all of
   them, the final write under way) and kills the job worker's process group with SIGKILL;
3. checks that the shop still serves its previous catalog: same active index in the database,
   recommendations 200 with only old products;
4. restarts the job worker and checks that the killed import is marked failed with its message
   (no manual step), that a next small import succeeds and goes live, and that no index staging
   folder is left under the index root.

Prints one row per trial and exits non-zero if any trial broke a promise.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

from _common import (
    ROOT,
    flask_command,
    free_port,
    http,
    instance_env,
    print_rows,
    stop_server,
    subject_token,
    throwaway_instance,
    wait_until,
)

SLUG = "killshop"
NEED = "a warm scarf for winter"


def catalog(count: int, start: int) -> bytes:
    """Return a generic CSV of ``count`` distinct products with ids from ``start``."""
    things = ["Backpack", "Jacket", "Mug", "Lantern", "Hammock", "Sock", "Bottle", "Tent", "Scarf", "Stool"]
    places = ["Alpine", "Coastal", "Urban", "Forest", "Desert", "Polar", "Meadow", "Canyon", "River", "Summit"]
    lines = ["id,title,description,price,category"]
    for n in range(start, start + count):
        place, thing = places[n % 10], things[(n // 10) % 10]
        lines.append(f"K{n},{place} {thing} {n},A {place.lower()} {thing.lower()} for trips #{n},{5 + n % 90},Gear")
    return ("\n".join(lines) + "\n").encode()


class Shop:
    """The throwaway shop: its server, its job worker and the database behind them."""

    def __init__(self, instance: Path, database_url: str, queue: str) -> None:
        self.instance = instance
        self.database_url = database_url
        self.env = instance_env(instance, DATABASE_URL=database_url, ATTUNE_JOB_QUEUE_NAME=queue)
        self.env.setdefault("REDIS_URL", "redis://127.0.0.1:6379/0")
        self.queue = queue
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.worker: subprocess.Popen[bytes] | None = None
        self.server: subprocess.Popen[bytes] | None = None
        self.key = ""
        self.token = ""
        import sqlalchemy as sa

        self.engine = sa.create_engine(database_url)

    def prepare(self) -> None:
        """Migrate, create the merchant, start server and worker, import a first small catalog."""
        run = {"cwd": ROOT, "env": self.env, "check": True, "capture_output": True}
        subprocess.run(flask_command("db", "upgrade"), **run)
        out = subprocess.run(flask_command("merchant", "create", SLUG, "--name", "Kill Shop"), **run).stdout.decode()
        self.key = re.search(r"api_key: (\S+)", out).group(1)  # type: ignore[union-attr]
        # Served as `make run` serves (bench/_common.start_server), with this run's database and queue.
        self.server = subprocess.Popen(
            flask_command("run", "--host", "127.0.0.1", "--port", str(self.port)),
            cwd=ROOT,
            env={**self.env, "ATTUNE_WARM_UP": "true"},
            stdout=(self.instance / "server.log").open("wb"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        wait_until(lambda: http("GET", f"{self.base}/healthz")[0] == 200, 60, interval=0.2)
        self.start_worker()
        first = self.upload(catalog(100, start=0))
        if self.wait_finished(first, 120)["status"] != "done":
            raise SystemExit("the first import failed: see the worker log")
        self.token = subject_token(self.base, SLUG)

    def start_worker(self) -> None:
        """Start ``flask jobs worker`` in a process group of its own."""
        log = (self.instance / "worker.log").open("ab")
        self.worker = subprocess.Popen(
            flask_command("jobs", "worker"),
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def kill_worker(self) -> None:
        """SIGKILL the job worker's process group: no handler, no cleanup, no last words."""
        assert self.worker is not None
        os.killpg(self.worker.pid, signal.SIGKILL)
        self.worker.wait(10)

    def upload(self, data: bytes) -> str:
        """Upload a catalog through the merchant API; return the import id."""
        boundary = uuid.uuid4().hex
        body = (
            (
                f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="c.csv"\r\n'
                f"Content-Type: text/csv\r\n\r\n"
            ).encode()
            + data
            + f"\r\n--{boundary}--\r\n".encode()
        )
        headers = {"Content-Type": f"multipart/form-data; boundary={boundary}", "Authorization": f"Bearer {self.key}"}
        status, answer, _ = http("POST", f"{self.base}/api/v1/catalog/imports", body, headers)
        if status != 202:
            raise RuntimeError(f"upload answered {status}: {answer[:200]!r}")
        return str(json.loads(answer)["id"])

    def status(self, import_id: str) -> dict[str, Any]:
        """Return an import's status from the API."""
        _, answer, _ = http(
            "GET", f"{self.base}/api/v1/catalog/imports/{import_id}", headers={"Authorization": f"Bearer {self.key}"}
        )
        found: dict[str, Any] = json.loads(answer)
        return found

    def wait_finished(self, import_id: str, timeout: float) -> dict[str, Any]:
        """Poll an import until it is done or failed."""
        found: dict[str, Any] = {}

        def finished() -> bool:
            found.update(self.status(import_id))
            return found["status"] in ("done", "failed")

        wait_until(finished, timeout, interval=0.2)
        return found

    def active_index(self) -> tuple[int, str | None]:
        """Return the merchant's id and active index version, read from the database."""
        import sqlalchemy as sa

        with self.engine.connect() as conn:
            row = conn.execute(sa.text("SELECT id, active_index FROM merchant WHERE slug = :s"), {"s": SLUG}).one()
        return int(row[0]), row[1]

    def recommended_ids(self) -> tuple[int, list[str]]:
        """Return the status of a recommendation request and the external ids it answered."""
        body = json.dumps({"answers": {"looking_for": NEED}}).encode()
        headers = {"Content-Type": "application/json", "Authorization": f"Bearer {self.token}"}
        status, answer, _ = http("POST", f"{self.base}/api/v1/m/{SLUG}/recommendations", body, headers)
        if status != 200:
            return status, []
        return status, [item["title"].rsplit(" ", 1)[-1] for item in json.loads(answer)["items"]]

    def staging_left(self) -> int:
        """Return how many index staging folders (".VERSION-xxxx") exist under the index root."""
        return len([p for p in (self.instance / "indexes").glob("*/.*") if p.is_dir()])

    def close(self) -> None:
        """Stop the processes and drop the queue."""
        if self.server is not None:
            stop_server(self.server)
        if self.worker is not None and self.worker.poll() is None:
            stop_server(self.worker)
        self.engine.dispose()
        from redis import Redis
        from rq import Queue

        connection = Redis.from_url(self.env["REDIS_URL"])
        Queue(self.queue, connection=connection).delete(delete_jobs=True)
        connection.close()


def trial(shop: Shop, number: int, products: int, rng: random.Random) -> dict[str, Any]:
    """Run one kill trial; return its row."""
    _, before = shop.active_index()
    # Mostly while embedding; one trial in four as the last product is embedded, when the final
    # transaction (catalog rows, index files, active version) is being written.
    target = 1.0 if rng.random() < 0.25 else rng.uniform(0.05, 0.95)
    started = time.monotonic()
    big = shop.upload(catalog(products, start=100_000 * number))
    seen: dict[str, Any] = {}

    def reached() -> bool:
        seen.update(shop.status(big))
        if seen["status"] in ("done", "failed"):
            return True
        return seen["status"] == "running" and seen["processed"] >= target * seen["total"]

    wait_until(reached, 600, interval=0.05)
    shop.kill_worker()
    # What the last poll before the kill saw (read after it, the web side already reports the
    # import failed: its process is gone).
    row: dict[str, Any] = {
        "trial": number,
        "target": f"{target:.0%}",
        "killed at": f"{seen['processed']}/{seen['total']} after {time.monotonic() - started:.1f} s",
        "status at kill": seen["status"],
    }
    if seen["status"] == "failed":  # it failed by itself before the kill: say why
        row["status at kill"] = f"failed: {seen.get('message', '')[:160]}"
    _, after = shop.active_index()
    status, ids = shop.recommended_ids()
    finished_first = seen["status"] == "done"  # the import beat the kill: nothing to prove this trial
    # Products of this trial's import are numbered from 100000 * number: none may be served.
    old_serves = after == before and status == 200 and bool(ids) and all(int(i) < 100_000 * number for i in ids)
    row["old catalog serves"] = "n/a (import finished first)" if finished_first else old_serves
    shop.start_worker()
    failed = shop.wait_finished(big, 120)
    row["killed import"] = failed["status"]
    row["message ok"] = failed["status"] == "failed" and "interrupted" in failed.get("message", "")
    nxt = shop.upload(catalog(30, start=100_000 * number + 50_000))
    done = shop.wait_finished(nxt, 180)
    _, live = shop.active_index()
    status, ids = shop.recommended_ids()
    row["next import"] = done["status"]
    row["next live"] = live not in (before, after) and status == 200
    row["staging left"] = shop.staging_left()
    row["ok"] = (
        (finished_first or (old_serves and row["message ok"]))
        and row["next import"] == "done"
        and row["next live"]
        and row["staging left"] == 0
    )
    return row


def fresh_database(instance: Path) -> tuple[str, Any]:
    """Return a database URL for the run and a function that drops it (PostgreSQL: a database of its own)."""
    base = os.environ.get("DATABASE_URL", "")
    if not base.startswith("postgresql"):
        return f"sqlite:///{instance}/bench.sqlite3", lambda: None
    import sqlalchemy as sa
    from sqlalchemy.engine import make_url

    name = f"attune_bench_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return make_url(base).set(database=name).render_as_string(hide_password=False), drop


def main() -> None:
    """Run the trials and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=None, help="kill trials (default 10; smoke 2)")
    parser.add_argument("--products", type=int, default=None, help="products per killed import (default 2500)")
    parser.add_argument("--smoke", action="store_true", help="2 trials of 400 products, for CI")
    parser.add_argument("--seed", type=int, default=8)
    args = parser.parse_args()
    trials = args.trials or (2 if args.smoke else 10)
    products = args.products or (400 if args.smoke else 2500)
    rng = random.Random(args.seed)
    rows = []
    with throwaway_instance("attune-kill-") as instance:
        database_url, drop = fresh_database(instance)
        shop = Shop(instance, database_url, f"attune-bench-kill-{uuid.uuid4().hex[:8]}")
        try:
            shop.prepare()
            for number in range(1, trials + 1):
                rows.append(trial(shop, number, products, rng))
                print(" | ".join(f"{k}: {v}" for k, v in rows[-1].items()), flush=True)
        finally:
            shop.close()
            drop()
    print_rows(
        f"kill -9 of the job worker, {trials} trials of {products} products ({database_url.split(':')[0]})", rows
    )
    broken = [row["trial"] for row in rows if not row["ok"]]
    print(f"trials: {len(rows) - len(broken)} kept every promise, {len(broken)} broke one {broken or ''}")
    if broken:
        sys.exit(1)


if __name__ == "__main__":
    main()
