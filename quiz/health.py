"""Probes: ``/healthz`` (the process is alive) and ``/readyz`` (it can serve shoppers now).

``/readyz`` answers 200 ``{"status": "ready", "checks": {...}}`` when the database answers
``SELECT 1`` within ``READY_DB_TIMEOUT`` seconds and the embedding model is loaded, and 503
``{"status": "unavailable", "checks": {...}}`` with ``Retry-After`` otherwise. Loading the model
takes seconds, so the probe never waits for it: it starts the warm-up once and reports
``loading`` until it is done. Merchant indexes are cheap to load and load on first use, so the
probe checks that each active version is loaded or loadable (its files are there); a version
that is missing or failed its checksum is reported as ``degraded`` with the reason but does not
make the process unready: every process reads the same files, so taking this one out of
service would not bring the index back and would stop every other merchant's shoppers too.
The ``catalogs`` check (always ``ok``) says what this process holds within its catalog memory
budget: merchants loaded, their estimated MiB, the budget, and hit, miss and eviction counts.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, Flask, Response, current_app, jsonify

from recommender.index_store import INDEX_FILE, MANIFEST_FILE

from .api.documented import documented
from .api.openapi_schemas import OBJECT
from .catalog.engine import EXTENSION, catalog_cache, index_failures, index_root, loaded_versions, model_status
from .models import Merchant
from .platform.db import get_engine

logger = logging.getLogger(__name__)

bp = Blueprint("health", __name__)

# The longest wait for a warm-up that is nearly done (an already loaded model answers in ms).
MODEL_WAIT_S = 0.25
# Merchants named in a degraded index check; the count is always complete.
MAX_LISTED = 20


@bp.get("/healthz")
@documented("Liveness", response=OBJECT)
def healthz() -> Response:
    """Say the process is alive, and how many merchant indexes it has loaded."""
    state = current_app.extensions[EXTENSION]
    return jsonify({"status": "ok", "indexes_loaded": len(state.catalogs)})


@bp.get("/readyz")
def readyz() -> Response:
    """Say whether this process can serve shoppers now, with one check per dependency."""
    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    probe = probe_database(float(app.config["READY_DB_TIMEOUT"]))
    checks = {
        "database": probe.check(),
        "model": model_check(app),
        "indexes": index_check(probe),
        "catalogs": {"status": "ok", **catalog_cache().figures().as_dict()},
    }
    ready = all(check["status"] in ("ok", "degraded") for check in checks.values())
    response = jsonify({"status": "ready" if ready else "unavailable", "checks": checks})
    response.headers["Cache-Control"] = "no-store"
    if not ready:
        response.status_code = 503
        response.headers["Retry-After"] = str(app.config["RETRY_AFTER_SECONDS"])
    return response


@dataclass
class DatabaseProbe:
    """What ``SELECT 1`` (and the list of active index versions) told us."""

    error: str | None = None
    active: list[tuple[int, str, str]] = field(default_factory=list)  # merchant id, slug, version

    def check(self) -> dict[str, Any]:
        """Return the database check."""
        return {"status": "failed", "reason": self.error} if self.error else {"status": "ok"}


def probe_database(timeout_s: float) -> DatabaseProbe:
    """Run ``SELECT 1`` and read the active index versions, giving up after ``timeout_s``.

    It runs in a thread of its own so that a database that accepts connections but never
    answers cannot hang the probe (a connect timeout in ``DATABASE_URL`` bounds that thread).
    """
    engine = get_engine()
    probe = DatabaseProbe(error="no answer")

    def run() -> None:
        try:
            with engine.connect() as conn:
                conn.execute(sa.text("SELECT 1"))
                rows = conn.execute(
                    sa.select(Merchant.id, Merchant.slug, Merchant.active_index).where(
                        Merchant.active_index.is_not(None)
                    )
                )
                probe.active = [(int(i), str(s), str(v)) for i, s, v in rows]
            probe.error = None
        except Exception as exc:  # whatever the driver raised: the probe reports it, its thread must not die
            probe.error = f"the database is unreachable ({type(exc).__name__})"
            logger.warning("readiness: the database is unreachable: %s", str(exc).strip().split("\n")[0])

    thread = threading.Thread(target=run, name="attune-ready-db", daemon=True)
    thread.start()
    thread.join(timeout_s)
    if thread.is_alive():
        return DatabaseProbe(error=f"the database did not answer within {timeout_s:g} s")
    return probe


def model_check(app: Flask) -> dict[str, Any]:
    """Return the model check, starting the warm-up when the model is not loaded yet."""
    loaded, error = model_status(app, wait_s=MODEL_WAIT_S)
    if loaded:
        return {"status": "ok"}
    if error:
        return {"status": "failed", "reason": error}
    return {"status": "loading", "reason": "the embedding model is loading"}


def index_check(probe: DatabaseProbe) -> dict[str, Any]:
    """Return the index check: each active version loaded, or loadable, or reported as failing."""
    if probe.error:
        return {"status": "unknown", "reason": "needs the database"}
    loaded, failures = loaded_versions(), index_failures()
    counts = {"loaded": 0, "loadable": 0}
    failing: dict[str, str] = {}
    for merchant_id, slug, version in probe.active:
        failure = failures.get(merchant_id)
        if loaded.get(merchant_id) == version:
            counts["loaded"] += 1
        elif failure is not None and failure.version == version:
            # The reason with its file paths goes to the log; the probe may be public.
            serving = loaded.get(merchant_id)
            failing[slug] = f"index version {version} failed to load; " + (
                f"still serving {serving}" if serving else "nothing to serve"
            )
        elif _loadable(index_root() / str(merchant_id) / version):
            counts["loadable"] += 1
        else:
            failing[slug] = f"index version {version} is missing"
    check: dict[str, Any] = {"status": "degraded" if failing else "ok", **counts}
    if failing:
        check["failing"] = len(failing)
        check["merchants"] = dict(sorted(failing.items())[:MAX_LISTED])
    return check


def _loadable(folder: Path) -> bool:
    """Return whether a version folder holds its files (the checksum is verified when it loads)."""
    return (folder / MANIFEST_FILE).is_file() and (folder / INDEX_FILE).is_file()
