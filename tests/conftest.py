"""Fixtures in the flaskr shape, on real parts.

One database per test session (SQLite by default, PostgreSQL when DATABASE_URL names one:
a fresh database is created beside it and dropped at the end), migrated with Alembic, with
the demo merchant loaded once. Each test gets a fresh app; rows a test writes are removed
after it, except the demo merchant's catalog.
"""

from __future__ import annotations

import os
import re
import shutil
import threading
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from hypothesis import HealthCheck, settings
from sqlalchemy.engine import make_url
from werkzeug.serving import make_server

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

from app import create_app  # noqa: E402
from quiz import webhooks  # noqa: E402
from quiz.db import get_engine  # noqa: E402
from quiz.migrate import upgrade  # noqa: E402

# Property and fuzz tests: bounded per test by their own max_examples; no deadline (the CI machine
# is shared and slow), no example database left in the checkout. HYPOTHESIS_PROFILE=dev for more.
settings.register_profile(
    "ci",
    deadline=None,
    database=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile("dev", parent=settings.get_profile("ci"), max_examples=500)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

SECRET = "test-secret-key-that-is-long-enough"
# Cheaper scrypt than production's OWASP setting, so logins in tests take milliseconds.
FAST_HASH = "scrypt:1024:8:1"
SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Yield the URL of a database that exists only for this test session."""
    base = os.environ.get("DATABASE_URL")
    if not base or base.startswith("sqlite"):
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'attune-test.sqlite3'}"
        return
    name = f"attune_test_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(base).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def instance_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Return the instance folder shared by the session's apps (it holds the demo index)."""
    return tmp_path_factory.mktemp("instance")


def make_app(database_url: str, instance_path: Path, **overrides: Any) -> Flask:
    """Create an app on the session database."""
    config = {
        "TESTING": True,
        "DATABASE_URL": database_url,
        "INSTANCE_PATH": str(instance_path),
        "SECRET_KEY": SECRET,
        "PASSWORD_HASH_METHOD": FAST_HASH,
        "PUBLIC_URL": "http://localhost",
        # Rate limits count in each app's own memory (never in a Redis another run left counts in);
        # shopper limits sit out of a test's reach, login ones stay real. tests/test_rate_limits.py.
        "RATELIMIT_STORAGE_URI": "memory://",
        "RATELIMIT_CONSENT": "100000 per minute",
        "RATELIMIT_RECOMMENDATIONS": "100000 per minute",
        "RATELIMIT_RECOMMENDATIONS_ADDRESS": "100000 per minute",
        **overrides,
    }
    return create_app(config)


@pytest.fixture(scope="session")
def demo_loaded(database_url: str, instance_path: Path) -> None:
    """Migrate the session database and load the demo merchant once."""
    from quiz.demo import load_demo

    app = make_app(database_url, instance_path)
    with app.app_context():
        upgrade(app)
        load_demo()
        get_engine().dispose()


@pytest.fixture
def app(database_url: str, instance_path: Path, demo_loaded: None) -> Iterator[Flask]:
    """Yield a fresh app; afterwards delete everything but the demo merchant's catalog."""
    app = make_app(database_url, instance_path)
    yield app
    _clean(app)


def _clean(app: Flask) -> None:
    # A deliverer left polling would send the next tests' webhooks from a finished test's app.
    webhooks.stop(app)
    with app.app_context():
        with get_engine().begin() as conn:
            demo_id = conn.scalar(sa.text("SELECT id FROM merchant WHERE slug = 'demo'"))
            conn.execute(sa.text("DELETE FROM profile"))
            conn.execute(sa.text("DELETE FROM consent_record"))
            conn.execute(sa.text("DELETE FROM quiz_definition WHERE merchant_id <> :d OR version > 1"), {"d": demo_id})
            conn.execute(sa.text("DELETE FROM catalog_import"))
            conn.execute(sa.text("DELETE FROM funnel_count"))
            conn.execute(sa.text("DELETE FROM quiz_session"))
            for table in ("explainer_version", "segment", "webhook_delivery", "webhook"):
                conn.execute(sa.text(f"DELETE FROM {table}"))
            conn.execute(sa.text("UPDATE merchant SET taste_clusters = NULL"))
            for table in ("product", "api_key", "admin_user"):
                conn.execute(sa.text(f"DELETE FROM {table} WHERE merchant_id <> :d"), {"d": demo_id})
            conn.execute(sa.text("DELETE FROM merchant WHERE id <> :d"), {"d": demo_id})
        get_engine().dispose()


@pytest.fixture
def new_app(database_url: str, instance_path: Path) -> Iterator[Callable[..., Flask]]:
    """Return a maker of extra apps on the session database; their connections close afterwards."""
    made: list[Flask] = []

    def make(**overrides: Any) -> Flask:
        made.append(
            make_app(
                overrides.pop("database_url", database_url), overrides.pop("instance_path", instance_path), **overrides
            )
        )
        return made[-1]

    yield make
    for extra in made:
        webhooks.stop(extra)
        with extra.app_context():
            get_engine().dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """Return a test client of the app."""
    return app.test_client()


@pytest.fixture
def runner(app: Flask) -> FlaskCliRunner:
    """Return a CLI runner of the app."""
    return app.test_cli_runner()


def csrf_token(html: str) -> str:
    """Return the CSRF token of the first form in a page."""
    match = re.search(r'<input[^>]*name="csrf_token"[^>]*value="([^"]+)"', html)
    assert match, "page has no CSRF token"
    return match.group(1)


CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture
def live_server(app: Flask) -> Iterator[str]:
    """Serve the app on a free localhost port for the length of a test."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    """Launch Debian's Chromium through Playwright (never a downloaded browser)."""
    if shutil.which(CHROMIUM) is None:
        pytest.fail(f"{CHROMIUM} is missing: `make test` installs it with apt-get")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()
