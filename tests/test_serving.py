"""A serving process (ATTUNE_WARM_UP) starts its background work without a request."""

from __future__ import annotations

from pathlib import Path

from quiz.merchants import webhooks
from quiz.platform import scheduling
from quiz.privacy import retention

from .conftest import make_app


def test_a_serving_process_starts_purges_and_webhook_delivery(
    database_url: str, instance_path: Path, demo_loaded: None
) -> None:
    app = make_app(database_url, instance_path, WARM_UP=True)
    try:
        assert scheduling.running(app, retention.TASK), "the daily purge runs"
        assert scheduling.running(app, webhooks.TASK), "webhook delivery runs"
    finally:
        scheduling.stop(app)
    assert not scheduling.running(app, retention.TASK) and not scheduling.running(app, webhooks.TASK)
