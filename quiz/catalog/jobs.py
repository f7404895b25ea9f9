"""Background jobs: where a queued import runs. Callers only use :func:`enqueue` and :func:`queue_depth`.

Two backends, chosen by ``REDIS_URL``:

- unset (the embedded default): one worker thread per app runs imports in this process;
- set (the production shape): imports go to an RQ queue (``JOB_QUEUE_NAME``) in Redis and run in
  ``flask --app app jobs worker`` processes (see :mod:`quiz.catalog.worker`, docs/deployment.md).

Job state lives in the database either way, so a queue that is lost or unreachable loses no
import: the row stays ``queued`` and the job worker picks it up when it starts.
"""

from __future__ import annotations

import logging
import queue
import threading
from typing import Protocol

from flask import Flask, current_app
from redis import Redis
from redis.backoff import NoBackoff
from redis.exceptions import RedisError
from redis.retry import Retry
from rq import Queue

from ..models import CatalogImport
from ..platform import metrics, scheduling
from ..platform.db import get_session, transaction
from .imports import recover_interrupted, run_import

logger = logging.getLogger(__name__)

EXTENSION = "attune.jobs"
WORKER_TASK = "imports"  # the in-process import worker in the app's schedule
# The function RQ workers run, named by import path so the web side never imports it.
TASK = "quiz.catalog.worker.run_import_job"
# RQ keeps failed jobs a year by default; the import row already tells the merchant what failed.
FAILED_JOB_TTL = 7 * 24 * 3600
QUEUE_DOWN = (
    "The job queue cannot be reached right now. The upload is saved and the import will run as soon as "
    "a job worker is back; nothing needs uploading again."
)


class JobBackend(Protocol):
    """What both backends offer."""

    def enqueue(self, import_id: str) -> None: ...

    def queue_depth(self) -> int: ...

    def start(self, app: Flask) -> None: ...


class ImportWorker:
    """Runs queued imports one after another in the app's ``imports`` task, started on first use."""

    def __init__(self) -> None:
        self._queue: queue.Queue[str] = queue.Queue()

    def enqueue(self, import_id: str) -> None:
        """Queue an import to run (in the current app's task)."""
        self._queue.put(import_id)
        scheduling.wake(current_app._get_current_object(), WORKER_TASK)  # type: ignore[attr-defined]

    def queue_depth(self) -> int:
        """Return how many imports wait for the task (the running one not counted)."""
        return self._queue.qsize()

    def start(self, app: Flask) -> None:
        """Start the task if it is not running; it first takes over unfinished imports."""
        scheduling.start(app, WORKER_TASK)

    def recover(self) -> None:
        """Fail imports whose process died; queue the ones still waiting (e.g. after a restart)."""
        try:
            failed, queued = recover_interrupted()
        except Exception:  # no tables yet, database down: imports queued later still run
            logger.exception("could not look for unfinished imports")
            return
        for import_id in queued:
            self._queue.put(import_id)
        if failed or queued:
            logger.info("imports: %d interrupted marked failed, %d waiting resumed", failed, len(queued))

    def run_next(self) -> None:
        """Run the next queued import, if any (in an app context); the task is woken again while more wait."""
        try:
            import_id = self._queue.get_nowait()
        except queue.Empty:
            return
        try:
            run_import(import_id)
        except LookupError:  # queued twice (upload and recovery), or taken by another process
            logger.info("import %s is no longer waiting", import_id)
        except Exception:  # one broken job must not stop the worker
            logger.exception("import %s could not run", import_id)
        finally:
            self._queue.task_done()
            if not self._queue.empty():
                scheduling.wake(current_app._get_current_object(), WORKER_TASK)  # type: ignore[attr-defined]


class RedisJobs:
    """Sends imports to an RQ queue in Redis; ``flask jobs worker`` processes run them."""

    def __init__(self, app: Flask) -> None:
        self.url = str(app.config["REDIS_URL"])
        self.queue_name = str(app.config["JOB_QUEUE_NAME"])
        self.timeout = int(app.config["JOB_TIMEOUT"])
        self._queue: Queue | None = None
        self._lock = threading.Lock()

    def connection(self, blocking: bool = False) -> Redis:
        """Return a new Redis connection; ``blocking`` ones (a worker waiting for jobs) have no read timeout."""
        if blocking:
            return Redis.from_url(self.url, socket_connect_timeout=2)
        # An upload must answer, not hang, when Redis is down: redis-py's default of 10 retries
        # with backoff would hold it for seconds. One retry still heals a connection Redis dropped.
        return Redis.from_url(self.url, socket_connect_timeout=2, socket_timeout=5, retry=Retry(NoBackoff(), 1))

    def queue(self) -> Queue:
        """Return the RQ queue, connecting on first use (after a gunicorn fork, never before)."""
        with self._lock:
            if self._queue is None:
                self._queue = Queue(self.queue_name, connection=self.connection(), default_timeout=self.timeout)
            return self._queue

    def enqueue(self, import_id: str) -> None:
        """Put an import on the queue; if Redis is unreachable, leave it queued in the database and say so."""
        try:
            self.queue().enqueue_call(
                TASK,
                args=(import_id,),
                timeout=self.timeout,
                failure_ttl=FAILED_JOB_TTL,
                description=f"catalog import {import_id}",
            )
        except RedisError as exc:
            logger.warning("job queue unreachable (%s): import %s waits in the database", exc, import_id)
            _note_queue_down(import_id)

    def queue_depth(self) -> int:
        """Return how many jobs wait in the queue, or -1 when Redis cannot be reached."""
        try:
            return int(self.queue().count)
        except RedisError as exc:
            logger.warning("job queue unreachable (%s)", exc)
            return -1

    def waiting_imports(self) -> set[str]:
        """Return the ids of imports whose job waits in the queue."""
        return {str(job.args[0]) for job in self.queue().get_jobs() if job is not None and job.args}

    def start(self, app: Flask) -> None:
        """Nothing to start in a web process: imports run in the job worker."""

    def close(self) -> None:
        """Close the queue's Redis connections (the next use opens new ones)."""
        with self._lock:
            if self._queue is not None:
                self._queue.connection.close()
                self._queue = None


def _note_queue_down(import_id: str) -> None:
    """Tell the merchant, on the import itself, that it waits for the job queue."""
    with transaction():
        job = get_session().get(CatalogImport, import_id)
        if job is not None and job.status == "queued":
            job.message = QUEUE_DOWN


def uses_redis(app: Flask) -> bool:
    """Return whether ``app`` sends jobs to Redis (the production shape) instead of a thread of its own."""
    return bool(app.config.get("REDIS_URL"))


def init_app(app: Flask) -> None:
    """Attach the app's job backend (nothing connects or starts until it is used)."""
    if uses_redis(app):
        app.extensions[EXTENSION] = RedisJobs(app)
    else:
        worker = app.extensions[EXTENSION] = ImportWorker()
        scheduling.register(app, scheduling.Task(WORKER_TASK, worker.run_next, every=None, setup=worker.recover))
    metrics.add_gauges(app, _gauges)


def _gauges(app: Flask) -> list[metrics.Gauge]:
    """The queue's depth, for each scrape of /metrics."""
    try:
        depth = float(backend(app).queue_depth())
    except Exception:  # the queue's own error must not break the scrape
        logger.warning("queue depth unavailable", exc_info=True)
        depth = -1.0
    return [
        metrics.Gauge("attune_job_queue_depth", "Catalog imports waiting to run (-1: the queue is unreachable).", depth)
    ]


def backend(app: Flask | None = None) -> JobBackend:
    """Return the job backend of ``app`` (default: the current app)."""
    found: JobBackend = (app or current_app).extensions[EXTENSION]
    return found


def worker() -> ImportWorker:
    """Return the app's in-process import worker (the embedded default only)."""
    found = backend()
    if not isinstance(found, ImportWorker):
        raise RuntimeError("imports run in `flask jobs worker` processes when REDIS_URL is set")
    return found


def enqueue(import_id: str) -> None:
    """Run an import in the background."""
    backend().enqueue(import_id)


def queue_depth() -> int:
    """Return how many imports wait to run (-1: the Redis queue cannot be reached)."""
    return backend().queue_depth()


def start(app: Flask) -> None:
    """Start the app's import worker now (a serving process), not at its first upload."""
    backend(app).start(app)
