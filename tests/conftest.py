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
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from hypothesis import HealthCheck, settings
from werkzeug.serving import make_server

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

from app import create_app  # noqa: E402
from quiz import merchants  # noqa: E402
from quiz.demo.shop import DEMO_CART  # noqa: E402
from quiz.merchants import accounts  # noqa: E402
from quiz.models import AdminUser, Base  # noqa: E402
from quiz.platform import scheduling  # noqa: E402
from quiz.platform.db import get_engine, get_session, transaction  # noqa: E402
from quiz.platform.migrate import upgrade  # noqa: E402

from .helpers import own_database  # noqa: E402

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
    with own_database(tmp_path_factory.mktemp("db") / "attune-test.sqlite3", "attune_test") as url:
        yield url


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
    from quiz.demo.shop import load_demo

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


# What every test finds again (demo_loaded adds it once per session): the demo merchant with its
# catalog, first quiz version, keys and admins. Every other row of every table goes after a test.
KEPT_ROWS: dict[str, Callable[[sa.Table, int], sa.ColumnElement[bool]]] = {
    "merchant": lambda t, demo: t.c.id == demo,
    "product": lambda t, demo: t.c.merchant_id == demo,
    "api_key": lambda t, demo: t.c.merchant_id == demo,
    "admin_user": lambda t, demo: t.c.merchant_id == demo,
    "quiz_definition": lambda t, demo: sa.and_(t.c.merchant_id == demo, t.c.version <= 1),
}


def _clean(app: Flask) -> None:
    # Background tasks left running (a deliverer polling) would act for the next tests from a finished test's app.
    scheduling.stop(app)
    with app.app_context():
        with get_engine().begin() as conn:
            demo_id = conn.scalar(sa.text("SELECT id FROM merchant WHERE slug = 'demo'"))
            reset = (
                "taste_clusters = NULL, hide_bought_days = 90, rebuy_categories = '[]', "
                "ranking_settings = '{}', cart_url_pattern = :cart"
            )
            conn.execute(sa.text(f"UPDATE merchant SET {reset}"), {"cart": DEMO_CART})
            for table in reversed(Base.metadata.sorted_tables):  # rows that point at others go first
                kept = KEPT_ROWS.get(table.name)
                conn.execute(table.delete().where(sa.not_(kept(table, demo_id))) if kept else table.delete())
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
        scheduling.stop(extra)
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


@pytest.fixture
def demo_admin(app: Flask) -> Iterator[str]:
    """An admin login for the demo shop (which has none), removed afterwards (password: "correct horse battery")."""
    email = "owner@demo.example"
    with app.app_context(), transaction():
        accounts.create_admin(merchants.get_by_slug("demo"), email, "correct horse battery")
    yield email
    with app.app_context(), transaction():
        get_session().execute(sa.delete(AdminUser).where(AdminUser.email == email))
