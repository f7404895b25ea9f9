"""Prometheus metrics at ``/metrics``: requests, recommendations, imports, indexes and the job queue.

One process keeps its figures in memory. Under gunicorn, set ``PROMETHEUS_MULTIPROC_DIR`` to an
empty folder before the server starts (``make serve`` empties it): every process, the job worker
too, then writes its figures there and a scrape of any worker adds them all up. The gunicorn
config calls :func:`mark_worker_dead` when a worker exits.

Labels are bounded: the route rule (``/privacy/<token>``), never the path; the method; the status
class (``2xx``). Nothing about a merchant or a shopper is a label.

Who may scrape: with ``METRICS_TOKEN`` set, whoever sends ``Authorization: Bearer TOKEN``; without
it, only clients on the loopback interface (a Prometheus on the same host, or a sidecar).
"""

from __future__ import annotations

import hmac
import logging
import os
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from flask import Blueprint, Flask, Response, abort, current_app, g, request

if TYPE_CHECKING:
    from prometheus_client import Counter, Histogram
    from prometheus_client.metrics_core import Metric

logger = logging.getLogger(__name__)

bp = Blueprint("metrics", __name__)

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
LOOPBACK = frozenset({"127.0.0.1", "::1", "::ffff:127.0.0.1"})
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
UNMATCHED = "<unmatched>"
REQUEST_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
RECOMMEND_BUCKETS = (0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0)
IMPORT_FAILURE_REASONS = frozenset({"rejected", "superseded", "index_write", "interrupted", "error"})


@dataclass(frozen=True)
class _Metrics:
    requests: Histogram
    recommendations: Histogram
    import_rows: Counter
    imports_finished: Counter
    import_failures: Counter
    index_load_failures: Counter
    database_unavailable: Counter
    funnel_counts_dropped: Counter


_created: _Metrics | None = None
_lock = threading.Lock()


def _metrics() -> _Metrics:
    """Create the metric objects on first use (in a gunicorn worker: after the fork)."""
    global _created
    with _lock:
        if _created is None:
            from prometheus_client import Counter, Histogram

            folder = os.environ.get(MULTIPROC_ENV)
            if folder:  # a process started before `make serve` created it (migrations) still works
                os.makedirs(folder, exist_ok=True)

            _created = _Metrics(
                requests=Histogram(
                    "attune_http_request_duration_seconds",
                    "Time to answer an HTTP request, by route rule, method and status class.",
                    ["route", "method", "status_class"],
                    buckets=REQUEST_BUCKETS,
                ),
                recommendations=Histogram(
                    "attune_recommendation_duration_seconds",
                    "Time the recommender takes for one request (embedding, search, ranking).",
                    buckets=RECOMMEND_BUCKETS,
                ),
                import_rows=Counter("attune_import_rows_processed", "Catalog rows processed by imports."),
                imports_finished=Counter(
                    "attune_imports_finished", "Catalog imports finished, by outcome.", ["outcome"]
                ),
                import_failures=Counter(
                    "attune_import_failures", "Catalog imports that failed, by reason.", ["reason"]
                ),
                index_load_failures=Counter(
                    "attune_index_load_failures", "Index versions that failed to load (missing or corrupted files)."
                ),
                database_unavailable=Counter(
                    "attune_database_unavailable_responses",
                    "Requests answered 503 because the database was unreachable.",
                ),
                funnel_counts_dropped=Counter(
                    "attune_funnel_counts_dropped",
                    "Funnel events not counted because the database refused the write (the request succeeded).",
                ),
            )
        return _created


def observe_request(route: str | None, method: str, status: int, seconds: float) -> None:
    """Record one answered request."""
    _metrics().requests.labels(
        route=route or UNMATCHED, method=method if method in METHODS else "other", status_class=f"{status // 100}xx"
    ).observe(seconds)


def observe_recommendation(seconds: float) -> None:
    """Record the time of one recommender call."""
    _metrics().recommendations.observe(seconds)


def count_import_rows(rows: int) -> None:
    """Add ``rows`` catalog rows processed by an import."""
    if rows > 0:
        _metrics().import_rows.inc(rows)


def count_import_finished(outcome: str, reason: str | None = None) -> None:
    """Record an import that finished as ``done`` or ``failed`` (with one of the known reasons)."""
    m = _metrics()
    m.imports_finished.labels(outcome="done" if outcome == "done" else "failed").inc()
    if outcome != "done":
        m.import_failures.labels(reason=reason if reason in IMPORT_FAILURE_REASONS else "error").inc()


def count_index_load_failure() -> None:
    """Record an index version that could not be loaded."""
    _metrics().index_load_failures.inc()


def count_database_unavailable() -> None:
    """Record a request answered 503 because the database could not be reached."""
    _metrics().database_unavailable.inc()


def count_funnel_dropped(events: int) -> None:
    """Record funnel events lost to a database that refused their write."""
    _metrics().funnel_counts_dropped.inc(events)


def mark_worker_dead(pid: int) -> None:
    """Forget the live gauges of an exited worker process (gunicorn's ``child_exit`` calls this)."""
    if os.environ.get(MULTIPROC_ENV):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(pid)


def render() -> bytes:
    """Return the exposition text: every process's figures (multiprocess mode) plus this process's live ones."""
    from prometheus_client import REGISTRY, CollectorRegistry, generate_latest
    from prometheus_client.multiprocess import MultiProcessCollector

    _metrics()  # a scrape before any request still lists every metric, at zero
    if os.environ.get(MULTIPROC_ENV):
        recorded = CollectorRegistry()
        MultiProcessCollector(recorded)
    else:
        recorded = REGISTRY
    live = CollectorRegistry()
    live.register(_LiveCollector(current_app._get_current_object()))  # type: ignore[attr-defined]
    return bytes(generate_latest(recorded) + generate_latest(live))


class _LiveCollector:
    """Figures read at scrape time: queue depth and this process's indexes."""

    def __init__(self, app: Flask) -> None:
        self.app = app

    def collect(self) -> Iterator[Metric]:
        from prometheus_client.core import GaugeMetricFamily

        from . import jobs, search

        depth = getattr(jobs, "queue_depth", None)
        if depth is not None:
            try:
                value = float(depth())
            except Exception:  # the queue's own error must not break the scrape
                logger.warning("queue depth unavailable", exc_info=True)
                value = -1.0
            yield GaugeMetricFamily(
                "attune_job_queue_depth", "Catalog imports waiting to run (-1: the queue is unreachable).", value=value
            )
        state = self.app.extensions.get(search.EXTENSION)
        if state is not None:
            yield GaugeMetricFamily(
                "attune_indexes_loaded", "Merchant indexes loaded in this process.", value=len(state.catalogs)
            )
            yield GaugeMetricFamily(
                "attune_indexes_failing",
                "Merchants whose active index version failed to load in this process.",
                value=len(state.failures),
            )
            yield GaugeMetricFamily(
                "attune_model_ready",
                "1 once this process's warm-up has loaded the embedding model.",
                value=state.model_ready.is_set(),
            )


@bp.get("/metrics")
def scrape() -> Response:
    """Serve the metrics in Prometheus text format to loopback clients or holders of the metrics token."""
    if not _may_scrape():
        abort(403, description="Metrics are served to loopback clients, or with the METRICS_TOKEN bearer token.")
    from prometheus_client import CONTENT_TYPE_LATEST

    return Response(render(), mimetype=None, content_type=CONTENT_TYPE_LATEST, headers={"Cache-Control": "no-store"})


def _may_scrape() -> bool:
    token = current_app.config.get("METRICS_TOKEN")
    if token:
        given = request.headers.get("Authorization", "")
        return hmac.compare_digest(given.encode(), f"Bearer {token}".encode())
    return request.remote_addr in LOOPBACK


def init_app(app: Flask) -> None:
    """Time every request and serve ``/metrics``."""
    app.before_request(_start)
    app.after_request(_finish)
    app.register_blueprint(bp)


def _start() -> None:
    g.metrics_started = time.perf_counter()


def _finish(response: Response) -> Any:
    started = g.get("metrics_started")
    if started is not None:
        rule = request.url_rule
        observe_request(
            rule.rule if rule else None, request.method, response.status_code, time.perf_counter() - started
        )
    return response
