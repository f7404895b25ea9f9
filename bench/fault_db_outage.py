"""PostgreSQL cut for 30 s under shopper traffic: 503 with Retry-After, no lost consent, recovery within 10 s.

Run: `.venv/bin/python bench/fault_db_outage.py [--outage 30] [--threads 6]` (`--smoke`: a 5 s outage).
Needs PostgreSQL at DATABASE_URL (default postgresql+psycopg://postgres@127.0.0.1:5432/test); the
run creates a database of its own there and drops it at the end.

The app runs under gunicorn with 2 workers (``-c python:quiz.platform.gunicorn_conf`` when that module
exists, else plain gunicorn arguments) on a throwaway instance with the demo shop, reaching the
database through tests/tcp_proxy.py. Shopper threads loop consent -> recommendations; the proxy
is cut (every connection reset, new ones refused, as when the server dies) and restored. Checks:

1. no answer is a 500, no body holds a traceback, every 503 carries Retry-After;
2. every request sent while the database was away is answered 503;
3. every consent answered 201 is in the database (read directly, not through the proxy);
4. traffic recovers within 10 s of the database returning, without restarting workers.

Prints a table and the time to recover; exits non-zero if a promise is broken.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from _common import ROOT, flask_command, free_port, http, instance_env, stop_server, throwaway_instance, wait_until

sys.path.insert(0, str(ROOT / "tests"))
from tcp_proxy import TcpProxy  # noqa: E402

POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
PURPOSES = {"recommendations": True, "profile": False, "email": False, "sms": False}
ANSWERS = {"answers": {"looking_for": "a warm jacket for hiking"}, "limit": 6}
RECOVERY_PROMISE_S = 10.0
JSON = {"Content-Type": "application/json"}


@dataclass(frozen=True)
class Answer:
    """One request of the traffic: what was asked, when, and how it was answered."""

    kind: str  # consent | recommend
    started: float
    ended: float
    status: int
    retry_after: bool
    traceback: bool
    token: str | None = None


class Traffic:
    """Shopper threads looping consent -> recommendations against ``base``."""

    def __init__(self, base: str, threads: int) -> None:
        self.base = base
        self.answers: list[Answer] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._run, daemon=True) for _ in range(threads)]

    def start(self) -> None:
        """Start the shoppers."""
        for thread in self._threads:
            thread.start()

    def stop(self) -> None:
        """Stop the shoppers and wait for their last requests."""
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=60)

    def _call(self, kind: str, url: str, payload: dict[str, Any], headers: dict[str, str]) -> Answer:
        started = time.monotonic()
        try:
            status, body, answer_headers = http("POST", url, json.dumps(payload).encode(), headers, timeout=30)
        except OSError:  # the server itself did not answer: counted as a failure of the run
            return Answer(kind, started, time.monotonic(), 0, False, False)
        token = json.loads(body).get("subject_token") if kind == "consent" and status == 201 else None
        text = body.decode("utf-8", "replace")
        return Answer(
            kind,
            started,
            time.monotonic(),
            status,
            bool(answer_headers.get("Retry-After")),
            "Traceback" in text or 'File "' in text,
            token,
        )

    def _run(self) -> None:
        while not self._stop.is_set():
            consent = self._call("consent", f"{self.base}/api/v1/m/demo/consents", {"purposes": PURPOSES}, JSON)
            self._keep(consent)
            if consent.token:
                headers = {**JSON, "Authorization": f"Bearer {consent.token}"}
                self._keep(self._call("recommend", f"{self.base}/api/v1/m/demo/recommendations", ANSWERS, headers))
            if consent.status != 201:
                time.sleep(0.05)  # during the outage: keep asking, without spinning

    def _keep(self, answer: Answer) -> None:
        with self._lock:
            self.answers.append(answer)


def fresh_database() -> tuple[str, Any]:
    """Create a database of the run's own; return its URL and a function that drops it."""
    import sqlalchemy as sa
    from sqlalchemy.engine import make_url

    base = os.environ.get("DATABASE_URL", "")
    base = base if base.startswith("postgresql") else POSTGRES
    name = f"attune_outage_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return make_url(base).set(database=name).render_as_string(hide_password=False), drop


def gunicorn_command(port: int) -> list[str]:
    """Return the gunicorn command line: the project's config when present, else plain arguments."""
    gunicorn = str(Path(sys.executable).with_name("gunicorn"))
    if (ROOT / "quiz" / "platform" / "gunicorn_conf.py").exists():
        return [gunicorn, "-c", "python:quiz.platform.gunicorn_conf", "app:create_app()"]
    return [gunicorn, "-w", "2", "-k", "gthread", "--threads", "4", "-b", f"127.0.0.1:{port}", "app:create_app()"]


def stored_subjects(instance: Path, database_url: str, tokens: list[str]) -> tuple[int, int]:
    """Return how many of the consents' tokens have their subject in the ledger, of how many."""
    import sqlalchemy as sa

    from app import create_app
    from quiz.models import ConsentRecord
    from quiz.platform.db import get_engine, get_session
    from quiz.shopping.subjects import read_token

    app = create_app({"INSTANCE_PATH": str(instance), "DATABASE_URL": database_url})
    with app.app_context():
        found = set(get_session().scalars(sa.select(ConsentRecord.subject_id)))
        subjects = [read_token(token) for token in tokens]
        kept = sum(1 for s in subjects if s is not None and s.subject_id in found)
        get_engine().dispose()
    return kept, len(tokens)


def server_failures(log: Path) -> list[str]:
    """Return the server's log lines about failures: ERROR records and 5xx answers other than 503."""
    found = []
    for line in log.read_text(errors="replace").splitlines() if log.exists() else []:
        try:
            entry = json.loads(line)
        except ValueError:  # gunicorn's own lines: an error it answered itself
            if "Error handling request" in line or "Traceback" in line:
                found.append(line[:2000])
            continue
        status = entry.get("status")
        if isinstance(status, int) and status >= 500 and status != 503:
            found.insert(0, line[:2000])
        elif entry.get("level") in ("ERROR", "CRITICAL") and entry.get("request_id"):  # not a background loop
            found.append(line[-3000:])
    return found


def summarise(answers: list[Answer], cut_at: float, restored_at: float) -> dict[str, Any]:
    """Return the figures and verdicts of a run."""
    during = [a for a in answers if a.started >= cut_at and a.ended <= restored_at]
    after = [a for a in answers if a.started >= restored_at]
    first_ok = {
        kind: min((a.ended for a in after if a.kind == kind and a.status in (200, 201)), default=None)
        for kind in ("consent", "recommend")
    }
    recovered = None if None in first_ok.values() else max(v for v in first_ok.values() if v is not None)
    settled = [a for a in after if recovered is not None and a.started > recovered]
    return {
        "requests": len(answers),
        "during outage": len(during),
        "503 during outage": sum(a.status == 503 for a in during),
        "500s": sum(a.status >= 500 and a.status != 503 for a in answers),
        "no answer": sum(a.status == 0 for a in answers),
        "503 without Retry-After": sum(a.status == 503 and not a.retry_after for a in answers),
        "tracebacks": sum(a.traceback for a in answers),
        "errors after recovery": sum(a.status not in (200, 201) for a in settled),
        "recovery s": None if recovered is None else round(recovered - restored_at, 2),
    }


def main() -> None:
    """Run the outage and print the verdict."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--outage", type=float, default=None, help="seconds the database is away (default 30)")
    parser.add_argument("--smoke", action="store_true", help="a 5 s outage, for CI")
    parser.add_argument("--threads", type=int, default=6, help="shopper threads")
    parser.add_argument("--log", type=Path, default=None, help="keep the server's log in this file")
    args = parser.parse_args()
    outage = args.outage or (5.0 if args.smoke else 30.0)
    from sqlalchemy.engine import make_url

    with throwaway_instance("attune-outage-") as instance:
        database_url, drop = fresh_database()
        direct = make_url(database_url)
        proxy = TcpProxy((direct.host or "127.0.0.1", direct.port or 5432))
        proxied = direct.set(host="127.0.0.1", port=proxy.port, query={"connect_timeout": "3"})
        port = free_port()
        env = instance_env(
            instance,
            DATABASE_URL=proxied.render_as_string(hide_password=False),
            ATTUNE_WARM_UP="true",
            ATTUNE_LOG_FORMAT="json",
            PROMETHEUS_MULTIPROC_DIR=str(instance / "prometheus"),
            PORT=str(port),
            HOST="127.0.0.1",
            WEB_CONCURRENCY="2",
            ATTUNE_RATELIMIT_ENABLED="false",  # one address sends all the traffic; limits are not under test
        )
        env.pop("REDIS_URL", None)  # the embedded job runner: this run is about the database
        server = None
        try:
            for command in (["db", "upgrade"], ["demo", "load"]):
                subprocess.run(
                    flask_command(*command),
                    cwd=ROOT,
                    env={**env, "DATABASE_URL": database_url},
                    check=True,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.PIPE,  # the migration's own log lines; shown if it fails
                )
            (instance / "prometheus").mkdir()
            log = (instance / "gunicorn.log").open("wb")
            server = subprocess.Popen(
                gunicorn_command(port), cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
            base = f"http://127.0.0.1:{port}"
            wait_until(lambda: http("GET", f"{base}/readyz", timeout=5)[0] == 200, 240, interval=0.5)
            traffic = Traffic(base, args.threads)
            traffic.start()
            time.sleep(5)
            cut_at = time.monotonic()
            proxy.cut()
            print(f"database cut for {outage:g} s", flush=True)
            time.sleep(outage)
            proxy.restore()
            restored_at = time.monotonic()
            print("database back", flush=True)
            deadline = restored_at + RECOVERY_PROMISE_S + 10
            while time.monotonic() < deadline:
                time.sleep(1)
                if summarise(list(traffic.answers), cut_at, restored_at)["recovery s"] is not None:
                    time.sleep(5)  # and a few seconds of traffic after it
                    break
            traffic.stop()
            answers = list(traffic.answers)
            kept, consented = stored_subjects(instance, database_url, [a.token for a in answers if a.token])
        finally:
            if server is not None:
                stop_server(server, timeout=30)
            proxy.close()
            drop()
        failures = server_failures(instance / "gunicorn.log")
        if args.log:
            shutil.copyfile(instance / "gunicorn.log", args.log)
    figures = summarise(answers, cut_at, restored_at)
    figures["consents 201"] = consented
    figures["consents stored"] = kept
    promises = {
        "no 500, no traceback, Retry-After on every 503": figures["500s"] == 0
        and figures["tracebacks"] == 0
        and figures["503 without Retry-After"] == 0
        and figures["no answer"] == 0,
        "every request during the outage answered 503": figures["during outage"] > 0
        and figures["503 during outage"] == figures["during outage"],
        "every consent answered 201 is stored": kept == consented,
        f"recovered within {RECOVERY_PROMISE_S:g} s": figures["recovery s"] is not None
        and figures["recovery s"] <= RECOVERY_PROMISE_S
        and figures["errors after recovery"] == 0,
    }
    print()
    print(f"PostgreSQL cut for {outage:g} s under {args.threads} shopper threads, gunicorn 2 workers")
    print("| figure | value |")
    print("| --- | --- |")
    for name, value in figures.items():
        print(f"| {name} | {value} |")
    print()
    for promise, kept_it in promises.items():
        print(f"{'ok  ' if kept_it else 'FAIL'} {promise}")
    print(f"time to recover: {figures['recovery s']} s after the database returned")
    if failures:
        print("\nserver log lines of failures (first 20):")
        print("\n".join(failures[:20]))
    if not all(promises.values()):
        sys.exit(1)


if __name__ == "__main__":
    main()
