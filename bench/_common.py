"""Helpers the bench scripts share: needs texts, percentiles, throwaway instances, servers, docs rows.

Importing this module sets the offline switches for the model (nothing is ever downloaded) and
puts the project root on ``sys.path``, so a script run as ``python bench/NAME.py`` can import
``app``, ``quiz`` and ``recommender``. Nothing here is used by the application itself.

- :func:`needs` gives distinct shopper needs (real WANDS queries when ``../shared/data`` is there);
- :func:`throwaway_instance` and :func:`demo_app` make a migrated instance with the demo shop in a
  temporary folder that is removed afterwards;
- :func:`grow_catalog` grows the demo merchant's catalog to N products "grown from the demo":
  copies of demo products with varied titles and ids whose vectors are the demo product's stored
  embedding plus small gaussian noise, re-normalised (search cost does not depend on how the
  vectors were made), bulk-inserted and indexed through ``quiz.catalog.sync.rebuild_index``;
- :func:`start_server` serves an app the way ``make run`` does (``flask run``, threaded werkzeug);
- :func:`record_run` appends a dated row to a section of ``docs/benchmarks.md`` (opt-in).
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import os
import platform
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

if TYPE_CHECKING:
    from flask import Flask

BENCHMARKS_DOC = ROOT / "docs" / "benchmarks.md"
WANDS_QUERIES = ROOT.parent / "shared" / "data" / "wands" / "query.csv"
DEMO_SLUG = "demo"
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
VARIANTS = ["Classic", "Pro", "Lite", "Travel", "Kids", "XL", "Organic", "Winter", "Summer", "Limited"]
COLOURS = ["red", "navy", "olive", "sand", "charcoal", "teal", "rust", "cream", "plum", "sky"]
GROWN_MARK = "-G"  # external ids of grown products: DEMO_ID-G<n>
INSERT_CHUNK = 5_000


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


def percentile(values: Sequence[float], q: float) -> float:
    """Return the q-th percentile (0-100) by nearest rank."""
    if not values:
        raise ValueError("percentile needs at least one value")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))]


def verdict(met: bool) -> str:
    """Return how a target reads in a printed table: ``met`` or ``MISSES``."""
    return "met" if met else "MISSES"


def print_rows(title: str, rows: Sequence[Mapping[str, Any]]) -> None:
    """Print ``rows`` (dicts with the same keys) as a markdown table under ``title``, after a blank line."""
    columns = list(rows[0]) if rows else []
    print()
    print(title)
    print("| " + " | ".join(columns) + " |")
    print("| " + " | ".join("---" for _ in columns) + " |")
    for row in rows:
        print("| " + " | ".join(str(row[c]) for c in columns) + " |")


def machine_summary() -> str:
    """Return one line about this machine: cores, CPU model, memory, load, Python, torch, faiss."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    parts = [f"{os.cpu_count()} cores {cpu}", f"{memory:.0f} GiB", f"load {os.getloadavg()[0]:.1f}"]
    parts.append(f"Python {platform.python_version()}")
    for name in ("torch", "faiss"):
        try:
            module = __import__(name)
            parts.append(f"{name} {module.__version__}")
        except ImportError:
            pass
    return ", ".join(parts)


# --- instances -------------------------------------------------------------------------------


@contextmanager
def throwaway_instance(prefix: str = "attune-bench-", keep: bool = False) -> Iterator[Path]:
    """Yield a new empty instance folder, removed afterwards unless ``keep``."""
    folder = Path(tempfile.mkdtemp(prefix=prefix))
    try:
        yield folder
    finally:
        if not keep:
            shutil.rmtree(folder, ignore_errors=True)


def instance_config(instance: Path, **overrides: Any) -> dict[str, Any]:
    """Return the ``create_app`` settings of a throwaway instance (SQLite inside it, no rate limits)."""
    return {
        "INSTANCE_PATH": str(instance),
        "DATABASE_URL": f"sqlite:///{instance}/bench.sqlite3",
        # One bench client asks again and again: shopper rate limits would measure themselves.
        "RATELIMIT_ENABLED": False,
        **overrides,
    }


def instance_env(instance: Path, **extra: str) -> dict[str, str]:
    """Return an environment that points ``flask --app app`` at the throwaway instance."""
    env = dict(os.environ)
    env.update(
        ATTUNE_INSTANCE=str(instance),
        DATABASE_URL=f"sqlite:///{instance}/bench.sqlite3",
        HF_HUB_OFFLINE="1",
        TRANSFORMERS_OFFLINE="1",
        HF_HUB_DISABLE_TELEMETRY="1",
        TOKENIZERS_PARALLELISM="false",
        PYTHONUNBUFFERED="1",
        # Every bench client is one loopback address: shopper rate limits would measure themselves.
        ATTUNE_RATELIMIT_ENABLED="false",
    )
    env.update(extra)
    return env


def demo_app(instance: Path, **overrides: Any) -> Flask:
    """Return an app on ``instance``, migrated, with the demo shop loaded (embeds 335 products)."""
    from app import create_app
    from quiz.demo.shop import load_demo
    from quiz.platform.migrate import upgrade

    app = create_app(instance_config(instance, **overrides))
    with app.app_context():
        upgrade(app)
        load_demo(DEMO_SLUG)
    return app


def prepare_with_flask_cli(instance: Path) -> None:
    """Migrate ``instance`` and load the demo as ``make run`` does (``flask db upgrade``, ``demo load``)."""
    env = instance_env(instance)
    for command in (["db", "upgrade"], ["demo", "load"]):
        subprocess.run(
            flask_command(*command), cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )


def flask_command(*args: str, app_target: str = "app") -> list[str]:
    """Return the ``flask --app TARGET ARGS`` command of this interpreter's environment."""
    return [sys.executable, "-m", "flask", "--app", app_target, *args]


def grow_catalog(total: int, slug: str = DEMO_SLUG, noise: float = 0.02, seed: int = 7) -> int:
    """Grow the merchant's catalog to ``total`` products copied from its own; return how many were added.

    Runs inside an app context. Each new product copies a demo product with a varied title and
    id; its vector is the demo product's stored embedding plus gaussian noise (``noise`` per
    dimension), each model's part re-normalised, and its content hash that of its text under
    the app's models (so the rebuild embeds nothing). Rows go in by bulk insert (SQLAlchemy
    core), then the index is rebuilt from the stored embeddings in the same transaction,
    through the real index store.
    """
    import numpy as np
    import sqlalchemy as sa

    from quiz import merchants
    from quiz.catalog.engine import get_encoders
    from quiz.catalog.sync import rebuild_index
    from quiz.models import Product
    from quiz.platform.db import get_session, transaction

    session = get_session()
    merchant = merchants.get_by_slug(slug)
    if merchant is None:
        raise ValueError(f"no merchant {slug!r}: load the demo first")
    table = Product.__table__
    existing = session.scalar(sa.select(sa.func.count()).where(table.c.merchant_id == merchant.id)) or 0
    missing = total - existing
    if missing < 0:
        raise ValueError(f"the catalog already holds {existing} products, more than {total}")
    bases = session.execute(
        sa.select(table)
        .where(table.c.merchant_id == merchant.id, table.c.embedding.is_not(None))
        .where(table.c.external_id.not_like(f"%{GROWN_MARK}%"))
        .order_by(table.c.id)
    ).all()
    base_vectors = np.vstack([np.frombuffer(b.embedding, dtype=np.float32) for b in bases])
    rng = np.random.default_rng(seed + existing)
    encoders = get_encoders()
    models = encoders.model_ids()
    with transaction():
        for start in range(0, missing, INSERT_CHUNK):
            serials = np.arange(existing + start, existing + min(missing, start + INSERT_CHUNK))
            picks = serials % len(bases)
            noisy = base_vectors[picks] + rng.normal(0.0, noise, (len(serials), base_vectors.shape[1]))
            main, routed = encoders.split(noisy.astype(np.float32))
            parts = [main, *(routed[lang] for lang in encoders.languages)]
            vectors = np.hstack([p / np.linalg.norm(p, axis=1, keepdims=True) for p in parts])
            rows = [
                _grown_row(bases[pick], int(serial), vector.astype(np.float32).tobytes(), models)
                for serial, pick, vector in zip(serials, picks, vectors, strict=True)
            ]
            session.execute(sa.insert(table), rows)
        merchant.catalog_version += 1
        rebuild_index(merchant)
    return missing


def _grown_row(base: Any, serial: int, embedding: bytes, models: Sequence[str]) -> dict[str, Any]:
    """Return the insert values of grown product ``serial``, a varied copy of ``base``."""
    from recommender import CatalogItem, document_hash, item_document

    variant = VARIANTS[serial % len(VARIANTS)]
    colour = COLOURS[(serial // len(VARIANTS)) % len(COLOURS)]
    title = f"{base.title} {variant} ({colour}) #{serial}"
    price = None if base.price is None else (base.price * Decimal(1 + serial % 7 / 10)).quantize(Decimal("0.01"))
    item = CatalogItem(
        title=title,
        external_id="",
        description=base.description,
        brand=base.brand,
        category=base.category,
        tags=tuple(base.tags or ()),
        attributes=base.attributes or {},
    )
    return {
        "merchant_id": base.merchant_id,
        "external_id": f"{base.external_id}{GROWN_MARK}{serial}",
        "title": title,
        "description": base.description,
        "brand": base.brand,
        "category": base.category,
        "tags": base.tags,
        "price": price,
        "currency": base.currency,
        "url": f"{base.url}?v={serial}",
        "image_url": base.image_url,
        "available": base.available,
        "attributes": base.attributes,
        "content_hash": document_hash(item_document(item), models),
        "embedding": embedding,
    }


# --- servers ---------------------------------------------------------------------------------


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that is free right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(
    instance: Path, port: int, app_target: str = "app", warm_up: bool = True, log: Path | None = None
) -> subprocess.Popen[bytes]:
    """Start ``flask --app TARGET run`` on 127.0.0.1:``port`` as ``make run`` does; return the process."""
    env = instance_env(instance, ATTUNE_WARM_UP="true" if warm_up else "false")
    out = log.open("wb") if log else subprocess.DEVNULL
    return subprocess.Popen(
        flask_command("run", "--host", "127.0.0.1", "--port", str(port), app_target=app_target),
        cwd=ROOT,
        env=env,
        stdout=out,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group: stop_server ends it and only it
    )


def stop_server(process: subprocess.Popen[bytes], timeout: float = 10) -> None:
    """Stop a server started by :func:`start_server` (its own process group), waiting for it."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout)


def http(
    method: str, url: str, body: bytes | None = None, headers: Mapping[str, str] | None = None, timeout: float = 30
) -> tuple[int, bytes, Any]:
    """Send one request; return ``(status, body, headers)``, also for 4xx/5xx answers."""
    request = urllib.request.Request(url, data=body, method=method, headers=dict(headers or {}))
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.read(), response.headers
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read(), exc.headers


def subject_token(base: str, slug: str = DEMO_SLUG) -> str:
    """Return a bearer token allowing `recommendations`, from POST /api/v1/m/SLUG/consents on a server."""
    body = json.dumps({"purposes": {"recommendations": True}}).encode()
    status, data, _ = http("POST", f"{base}/api/v1/m/{slug}/consents", body, {"Content-Type": "application/json"})
    if status != 201:
        raise RuntimeError(f"consents answered {status}: {data[:200]!r}")
    return str(json.loads(data)["subject_token"])


def wait_for_recommendation(base: str, timeout: float, slug: str = DEMO_SLUG) -> float:
    """Wait until POST /api/v1/m/SLUG/recommendations answers 200; return the monotonic time it did."""
    headers = {"Content-Type": "application/json", "Authorization": "Bearer " + subject_token(base, slug)}
    answers = {"age_band": "25-34", "categories": ["any"], "budget": [0, 1000], "looking_for": "a tent for two"}
    body = json.dumps({"answers": answers}).encode()
    url = f"{base}/api/v1/m/{slug}/recommendations"
    return wait_until(lambda: http("POST", url, body, headers, timeout=timeout)[0] == 200, timeout, interval=0.05)


def wait_until(check: Any, timeout: float, interval: float = 0.02) -> float:
    """Call ``check()`` until it returns true; return the monotonic time it did (TimeoutError after ``timeout``)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            if check():
                return time.monotonic()
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise TimeoutError(f"gave up after {timeout:.0f} s")
        time.sleep(interval)


# --- docs/benchmarks.md ----------------------------------------------------------------------


def record_run(key: str, heading: str, intro: str, columns: Sequence[str], rows: Sequence[Sequence[str]]) -> Path:
    """Append dated ``rows`` to the table of section ``heading`` in docs/benchmarks.md.

    The table follows a ``<!-- bench:KEY -->`` marker; the section (heading, ``intro`` prose,
    marker and table header) is created at the end of the file the first time. Prose already in
    the file is kept as it is.
    """
    marker = f"<!-- bench:{key} -->"
    text = BENCHMARKS_DOC.read_text(encoding="utf-8")
    lines = text.rstrip("\n").split("\n")
    new_rows = ["| " + " | ".join(cells) + " |" for cells in rows]
    if marker not in lines:
        header = "| " + " | ".join(columns) + " |"
        rule = "| " + " | ".join("---" for _ in columns) + " |"
        lines += ["", f"## {heading}", "", intro.strip(), "", marker, header, rule, *new_rows]
    else:
        end = lines.index(marker) + 1
        while end < len(lines) and lines[end].startswith("|"):
            end += 1
        lines[end:end] = new_rows
    BENCHMARKS_DOC.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return BENCHMARKS_DOC


def today() -> str:
    """Return today's date (UTC) as YYYY-MM-DD, the first cell of a recorded row."""
    return dt.datetime.now(dt.UTC).date().isoformat()
