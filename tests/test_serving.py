"""A serving process (ATTUNE_WARM_UP) starts its background work without a request."""

from __future__ import annotations

from pathlib import Path

from quiz import retention, webhooks

from .conftest import make_app


def test_a_serving_process_starts_purges_and_webhook_delivery(
    database_url: str, instance_path: Path, demo_loaded: None
) -> None:
    app = make_app(database_url, instance_path, WARM_UP=True)
    schedule = app.extensions[retention.EXTENSION]
    deliverer = app.extensions[webhooks.EXTENSION]
    try:
        assert schedule.thread.is_alive()
        assert deliverer._thread is not None and deliverer._thread.is_alive()
    finally:
        schedule.stop()
        deliverer.stop()
        schedule.thread.join(timeout=10)
