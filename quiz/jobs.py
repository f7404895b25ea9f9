"""Background jobs of the embedded default: one worker thread per app, job state in the database.

A Redis-backed queue with separate worker processes can replace this later; callers only use
:func:`enqueue`.
"""

from __future__ import annotations

import logging
import queue
import threading

from flask import Flask, current_app

from .imports import recover_interrupted, run_import

logger = logging.getLogger(__name__)

EXTENSION = "attune.jobs"


class ImportWorker:
    """Runs queued imports one after another in a daemon thread, started on first use."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self._queue: queue.Queue[str] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def enqueue(self, import_id: str) -> None:
        """Queue an import to run."""
        self._ensure_started()
        self._queue.put(import_id)

    def start(self) -> None:
        """Start the worker thread if it is not running; it first takes over unfinished imports."""
        self._ensure_started()

    def _ensure_started(self) -> None:
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._work, name="attune-imports", daemon=True)
                self._thread.start()

    def _recover(self) -> None:
        """Fail imports whose process died; queue the ones still waiting (e.g. after a restart)."""
        try:
            with self.app.app_context():
                failed, queued = recover_interrupted()
        except Exception:  # no tables yet, database down: imports queued later still run
            logger.exception("could not look for unfinished imports")
            return
        for import_id in queued:
            self._queue.put(import_id)
        if failed or queued:
            logger.info("imports: %d interrupted marked failed, %d waiting resumed", failed, len(queued))

    def _work(self) -> None:
        self._recover()
        while True:
            import_id = self._queue.get()
            try:
                with self.app.app_context():
                    run_import(import_id)
            except LookupError:  # queued twice (upload and recovery), or taken by another process
                logger.info("import %s is no longer waiting", import_id)
            except Exception:  # one broken job must not stop the worker
                logger.exception("import %s could not run", import_id)
            finally:
                self._queue.task_done()


def init_app(app: Flask) -> None:
    """Attach the worker (no thread starts until an import is queued)."""
    app.extensions[EXTENSION] = ImportWorker(app)


def worker() -> ImportWorker:
    """Return the app's import worker."""
    found: ImportWorker = current_app.extensions[EXTENSION]
    return found


def enqueue(import_id: str) -> None:
    """Run an import in the background."""
    worker().enqueue(import_id)


def start(app: Flask) -> None:
    """Start the app's import worker now (a serving process), not at its first upload."""
    app.extensions[EXTENSION].start()
