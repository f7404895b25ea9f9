"""gunicorn's threaded worker, with each connection's wait for a thread measured (``queue_wait``).

Configured by ``quiz.platform.gunicorn_conf`` (``worker_class``). The stamp is taken when the
worker queues a connection for its thread pool (a new one, or a keep-alive one with a new request)
and read when a thread takes it up.
"""

from __future__ import annotations

import time
from typing import Any

from gunicorn.workers.gthread import ThreadWorker

from .queue_wait import note_taken_up


class AdmittingThreadWorker(ThreadWorker):  # type: ignore[misc]
    """A gthread worker that tells the app how long each request waited for a thread."""

    def enqueue_req(self, conn: Any) -> None:
        """Stamp the connection, then queue it for a thread as gthread does."""
        conn.attune_queued_at = time.monotonic()
        super().enqueue_req(conn)

    def handle(self, conn: Any) -> Any:
        """Note the connection's wait for this thread, then handle it as gthread does."""
        note_taken_up(getattr(conn, "attune_queued_at", None))
        try:
            return super().handle(conn)
        finally:
            note_taken_up(None)
