"""Background tasks: run in the app's context, again when woken or due, past a failed round, until stopped."""

from __future__ import annotations

import threading

from flask import Flask, current_app

from quiz.platform import scheduling


def test_a_task_runs_in_its_app_when_woken_survives_a_failure_and_stops() -> None:
    app = Flask("scheduled")
    scheduling.init_app(app)
    seen: list[str] = []
    ran = threading.Event()

    def work() -> None:
        seen.append(current_app.name)
        ran.set()
        if len(seen) == 1:
            raise RuntimeError("the first round fails")

    scheduling.register(app, scheduling.Task("work", work, every=None, at_start=False))
    scheduling.start(app, "work")
    assert scheduling.running(app, "work") and not ran.wait(0.3), "a woken-only task waits to be woken"
    for rounds in (1, 2):
        ran.clear()
        scheduling.wake(app, "work")
        assert ran.wait(10) and len(seen) == rounds, "it runs again after a failed round"
    assert seen == ["scheduled", "scheduled"] and "work" in app.extensions[scheduling.EXTENSION].tasks
    scheduling.stop(app)
    assert not scheduling.running(app, "work")
    ran.clear()
    scheduling.start(app, "work")  # a stopped task starts afresh
    scheduling.wake(app, "work")
    assert ran.wait(10) and len(seen) == 3
    scheduling.stop(app)


def test_a_periodic_task_runs_at_start_and_then_every_interval() -> None:
    app = Flask("periodic")
    rounds = threading.Semaphore(0)
    scheduling.register(app, scheduling.Task("tick", rounds.release, every=0.05))
    scheduling.start(app, "tick")
    try:
        assert all(rounds.acquire(timeout=10) for _ in range(3))
    finally:
        scheduling.stop(app)
    assert not scheduling.running(app, "tick")
