"""Background work of an app, one way: named tasks run in daemon threads, started and stopped per app.

A task is a function run in the app's context, again every ``every`` seconds and whenever it is
woken (``every=None``: only when woken). The webhook deliverer, the daily purge, the in-process
import worker and the job worker's recovery sweep are such tasks. Their state (threads, wake and
stop signals) lives in ``app.extensions``; nothing holds an app but the thread running its tasks.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from flask import Flask

logger = logging.getLogger(__name__)

EXTENSION = "attune.scheduling"


@dataclass(frozen=True)
class Task:
    """What to run: ``run`` every ``every`` seconds (None: when woken), first at once or after a wait.

    ``setup`` runs once in the thread before the first round; ``settle`` is a pause before each
    round after a wait (the transaction that woke the task commits first).
    """

    name: str
    run: Callable[[], object]
    every: float | None
    at_start: bool = True
    setup: Callable[[], object] | None = None
    settle: float = 0.0


@dataclass
class _Running:
    """One task's thread and signals."""

    task: Task
    wake: threading.Event = field(default_factory=threading.Event)
    stopped: threading.Event = field(default_factory=threading.Event)
    thread: threading.Thread | None = None


@dataclass
class Schedule:
    """The app's tasks by name (kept in ``app.extensions``)."""

    tasks: dict[str, _Running] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)


def init_app(app: Flask) -> None:
    """Give ``app`` an empty schedule (nothing runs until a task is started)."""
    app.extensions.setdefault(EXTENSION, Schedule())


def _schedule(app: Flask) -> Schedule:
    found: Schedule = app.extensions.setdefault(EXTENSION, Schedule())
    return found


def register(app: Flask, task: Task) -> None:
    """Add ``task`` to the app's schedule (replacing a stopped one of the same name); it does not start."""
    schedule = _schedule(app)
    with schedule.lock:
        running = schedule.tasks.get(task.name)
        if running is None or not _alive(running):
            schedule.tasks[task.name] = _Running(task)


def start(app: Flask, name: str) -> None:
    """Start the task ``name`` in its own thread, unless it runs already."""
    schedule = _schedule(app)
    with schedule.lock:
        running = schedule.tasks[name]
        if _alive(running):
            return
        if running.stopped.is_set():  # stopped before: start afresh
            running = schedule.tasks[name] = _Running(running.task)
        running.thread = threading.Thread(target=_loop, args=(app, running), name=f"attune-{name}", daemon=True)
        running.thread.start()


def wake(app: Flask, name: str) -> None:
    """Have the task ``name`` run soon, starting it if it does not run."""
    start(app, name)
    _schedule(app).tasks[name].wake.set()


def running(app: Flask, name: str) -> bool:
    """Return whether the task ``name`` runs now."""
    found = _schedule(app).tasks.get(name)
    return found is not None and _alive(found)


def stop(app: Flask, name: str | None = None, timeout: float = 10.0) -> None:
    """Stop the task ``name`` (default: every task of the app) after its current round, waiting up to ``timeout``."""
    schedule = _schedule(app)
    with schedule.lock:
        chosen = [schedule.tasks[name]] if name is not None else list(schedule.tasks.values())
    for found in chosen:
        found.stopped.set()
        found.wake.set()
    for found in chosen:
        if found.thread is not None and found.thread is not threading.current_thread():
            found.thread.join(timeout=timeout)


def _alive(found: _Running) -> bool:
    return found.thread is not None and found.thread.is_alive() and not found.stopped.is_set()


def _loop(app: Flask, found: _Running) -> None:
    """Run one task until it is stopped: a failed round is logged and the next one tries again."""
    task = found.task
    if task.setup is not None:
        _round(app, task.name, task.setup)
    first = task.at_start
    while not found.stopped.is_set():
        if not first:
            found.wake.wait(task.every)
            found.wake.clear()
            if found.stopped.is_set():
                return
            if task.settle:
                found.stopped.wait(task.settle)
        first = False
        _round(app, task.name, task.run)


def _round(app: Flask, name: str, run: Callable[[], object]) -> None:
    try:
        with app.app_context():
            run()
    except Exception:  # one failed round must not end the schedule
        logger.exception("background task %s failed", name)
