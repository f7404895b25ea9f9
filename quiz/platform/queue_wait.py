"""The wait in the server's own line: a request that waited too long for a thread is refused at once.

Under gunicorn (``quiz.platform.gunicorn_worker``) each connection is stamped when the worker
queues it for a thread; when a thread takes it up, the wait is noted for that thread. Past half of
``ADMISSION_WAIT_SECONDS`` the app answers 503 busy before doing anything else (the other half is
for the work itself, so a request let in is answered within about the bound). Admission control
in front of the encoder and the database pool cannot see this line: at four times the sustainable
rate every request queued here, none was refused and the p99 reached a minute (docs/scaling.md).

A server that starts a thread per connection (``flask run``, the embedded default) has no such
line: every request works at once, and at four times the sustainable rate they shared two cores
until each took seconds. There ``SERVING_SLOTS`` requests per process work at once; the next waits
for a slot, again at most half the bound, then is refused. Under gunicorn, whose thread pool is
smaller than the slots, they never bind.
"""

from __future__ import annotations

import threading
import time

from flask import Flask, current_app, g, request

# The checks a load balancer or monitor polls are answered whatever the line: they say how it is.
UNGATED = ("/healthz", "/readyz", "/metrics", "/static/")

_local = threading.local()
EXTENSION = "attune.serving_slots"


class WaitedTooLong(Exception):
    """A request waited longer for a server thread than admission control allows."""

    def __init__(self, waited_s: float) -> None:
        super().__init__(f"waited {waited_s:.2f} s for a server thread")
        self.waited_s = waited_s


def note_taken_up(queued_at: float | None) -> None:
    """Note, for this thread, how long the connection it takes up now waited (None: not stamped)."""
    _local.waited_s = None if queued_at is None else time.monotonic() - queued_at


def waited_s() -> float | None:
    """Return how long this thread's current request waited for it, if the server stamped it."""
    return getattr(_local, "waited_s", None)


def admit_or_refuse() -> None:
    """Refuse (:class:`WaitedTooLong`) a request that waited past half the admission bound, else take a slot."""
    if request.path.startswith(UNGATED):
        return
    bound = float(current_app.config["ADMISSION_WAIT_SECONDS"]) / 2
    waited = waited_s()
    if waited is not None and waited > bound:
        raise WaitedTooLong(waited)
    started = time.monotonic()
    if not current_app.extensions[EXTENSION].acquire(timeout=bound):
        raise WaitedTooLong(time.monotonic() - started)
    g.attune_slot = True


def _give_back_slot(_exc: BaseException | None) -> None:
    if g.pop("attune_slot", False):
        current_app.extensions[EXTENSION].release()


def init_app(app: Flask) -> None:
    """Check each request's wait in line, and take a serving slot, before any other work on it."""
    app.extensions[EXTENSION] = threading.BoundedSemaphore(int(app.config["SERVING_SLOTS"]))
    app.before_request(admit_or_refuse)
    app.teardown_request(_give_back_slot)
