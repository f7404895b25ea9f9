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
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from flask import Blueprint, Flask, Response, abort, current_app, g, request

if TYPE_CHECKING:
    from prometheus_client import Counter, Histogram
    from prometheus_client.metrics_core import Metric

logger = logging.getLogger(__name__)

GAUGES = "attune.metrics.gauges"


@dataclass(frozen=True)
class Gauge:
    """One figure read at scrape time."""

    name: str
    documentation: str
    value: float


bp = Blueprint("metrics", __name__)

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
# PROMETHEUS_CLIENT: prometheus_client chooses its value store (this process's memory, or files in
# PROMETHEUS_MULTIPROC_DIR) when it is first imported, so it is imported in the functions that use
# it, after gunicorn's fork and `make serve`'s setting of that folder, never when this module loads.
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
    messages: Counter
    catalog_cache: Counter
    busy: Counter


_created: _Metrics | None = None
_lock = threading.Lock()


def _metrics() -> _Metrics:
    """Create the metric objects on first use (in a gunicorn worker: after the fork)."""
    global _created
    with _lock:
        if _created is None:
            from prometheus_client import Counter, Histogram  # on first use: see PROMETHEUS_CLIENT below

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
                messages=Counter(
                    "attune_messages_sent",
                    "Journey candidates decided, by journey and outcome (sent, failed, skipped, deferred).",
                    ["journey", "outcome"],
                ),
                catalog_cache=Counter(
                    "attune_catalog_cache",
                    "Loaded-catalog lookups that found the merchant's version (hit) or loaded it (miss), "
                    "and catalogs evicted to stay within CATALOG_MEMORY_MB.",
                    ["event"],
                ),
                busy=Counter(
                    "attune_busy_responses",
                    "Requests answered 503 busy at admission, by what they would have waited for.",
                    ["resource"],
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


def count_message(journey: str, outcome: str) -> None:
    """Count one journey decision (``attune_messages_sent_total``); both labels come from short fixed lists."""
    _metrics().messages.labels(journey, outcome).inc()


CATALOG_CACHE_EVENTS = frozenset({"hit", "miss", "eviction"})


def count_catalog_cache(event: str, count: int = 1) -> None:
    """Record a loaded-catalog ``hit``, ``miss`` or ``eviction``."""
    if event in CATALOG_CACHE_EVENTS and count > 0:
        _metrics().catalog_cache.labels(event=event).inc(count)


def count_busy(resource: str) -> None:
    """Record a request refused at admission: the ``encoder``, ``database`` or server thread ``queue`` was too long."""
    _metrics().busy.labels(resource=resource if resource in ("encoder", "database", "queue") else "other").inc()


def mark_worker_dead(pid: int) -> None:
    """Forget the live gauges of an exited worker process (gunicorn's ``child_exit`` calls this)."""
    if os.environ.get(MULTIPROC_ENV):
        from prometheus_client import multiprocess  # on first use: see PROMETHEUS_CLIENT

        multiprocess.mark_process_dead(pid)


def render() -> bytes:
    """Return the exposition text: every process's figures (multiprocess mode) plus this process's live ones."""
    from prometheus_client import REGISTRY, CollectorRegistry, generate_latest  # see PROMETHEUS_CLIENT
    from prometheus_client.multiprocess import MultiProcessCollector  # see PROMETHEUS_CLIENT

    _metrics()  # a scrape before any request still lists every metric, at zero
    if os.environ.get(MULTIPROC_ENV):
        recorded = CollectorRegistry()
        MultiProcessCollector(recorded)
    else:
        recorded = REGISTRY
    live = CollectorRegistry()
    live.register(_LiveCollector(current_app._get_current_object()))  # type: ignore[attr-defined]
    return bytes(generate_latest(recorded) + generate_latest(live))


def add_gauges(app: Flask, read: Callable[[Flask], Iterable[Gauge]]) -> None:
    """Have every scrape of ``app`` include the gauges ``read(app)`` returns (read at scrape time)."""
    app.extensions.setdefault(GAUGES, []).append(read)


class _LiveCollector:
    """Figures read at scrape time, from the readers that parts of the app registered (queue, indexes)."""

    def __init__(self, app: Flask) -> None:
        self.app = app

    def collect(self) -> Iterator[Metric]:
        from prometheus_client.core import GaugeMetricFamily  # see PROMETHEUS_CLIENT

        for read in self.app.extensions.get(GAUGES, []):
            for gauge in read(self.app):
                yield GaugeMetricFamily(gauge.name, gauge.documentation, value=gauge.value)


@bp.get("/metrics")
def scrape() -> Response:
    """Serve the metrics in Prometheus text format to loopback clients or holders of the metrics token."""
    if not _may_scrape():
        abort(403, description="Metrics are served to loopback clients, or with the METRICS_TOKEN bearer token.")
    from prometheus_client import CONTENT_TYPE_LATEST  # see PROMETHEUS_CLIENT

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
