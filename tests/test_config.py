"""Configuration: clear start-up errors, a secret kept in the instance folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from app import create_app
from quiz.platform.config import ConfigError


@pytest.fixture(autouse=True)
def plain_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Start from no settings in the environment (CI sets DATABASE_URL for the suite)."""
    for name in ("DATABASE_URL", "REDIS_URL", "SECRET_KEY", "EMBEDDING_MODEL"):
        monkeypatch.delenv(name, raising=False)


def test_bad_database_url_stops_start_up_with_a_clear_message(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="DATABASE_URL must be a sqlite:// or postgresql:// URL"):
        create_app({"INSTANCE_PATH": str(tmp_path), "DATABASE_URL": "mysql://x"})


def test_bad_redis_url_stops_start_up_with_a_clear_message(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="REDIS_URL must be a redis://"):
        create_app({"INSTANCE_PATH": str(tmp_path), "REDIS_URL": "127.0.0.1:6379"})


def test_bad_numbers_and_model_paths_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="RECOMMENDATION_LIMIT"):
        create_app({"INSTANCE_PATH": str(tmp_path), "RECOMMENDATION_LIMIT": 0})
    with pytest.raises(ConfigError, match="EMBEDDING_MODEL"):
        create_app({"INSTANCE_PATH": str(tmp_path), "EMBEDDING_MODEL": str(tmp_path / "nothing")})


def test_secret_key_is_generated_once_and_kept_private(tmp_path: Path) -> None:
    first = create_app({"INSTANCE_PATH": str(tmp_path)})
    second = create_app({"INSTANCE_PATH": str(tmp_path)})
    assert first.config["SECRET_KEY"] == second.config["SECRET_KEY"]
    assert (tmp_path / "secret_key").stat().st_mode & 0o777 == 0o600
    assert first.config["DATABASE_URL"] == f"sqlite:///{tmp_path / 'attune.sqlite3'}"


def test_environment_settings_apply(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ATTUNE_RECOMMENDATION_LIMIT", "7")
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path}/other.sqlite3")
    app = create_app({"INSTANCE_PATH": str(tmp_path)})
    assert app.config["RECOMMENDATION_LIMIT"] == 7
    assert app.config["DATABASE_URL"].endswith("other.sqlite3")


def test_bad_webhook_networks_stop_start_up(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for bad in (["10.0.0.1/8"], ["intranet"], "10.0.0.0/8, 300.1.0.0/16", 42):
        with pytest.raises(ConfigError, match="WEBHOOK_ALLOWED_NETWORKS must list networks in CIDR form"):
            create_app({"INSTANCE_PATH": str(tmp_path), "WEBHOOK_ALLOWED_NETWORKS": bad})
    monkeypatch.setenv("ATTUNE_WEBHOOK_ALLOWED_NETWORKS", "10.20.0.0/16, fd00:20::/64")
    app = create_app({"INSTANCE_PATH": str(tmp_path)})
    from ipaddress import ip_address

    from quiz.platform.webhook_addresses import is_allowed, parse_networks

    allowed = parse_networks(app.config["WEBHOOK_ALLOWED_NETWORKS"])
    assert [str(n) for n in allowed] == ["10.20.0.0/16", "fd00:20::/64"]
    assert [is_allowed(ip_address(a), allowed) for a in ("10.20.3.4", "10.21.0.1", "fd00:20::1")] == [
        True,
        False,
        True,
    ]


def test_scaling_settings_are_checked_and_the_catalog_budget_follows_the_machine(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for bad in ({"CATALOG_MEMORY_MB": 0}, {"ADMISSION_WAIT_SECONDS": -1}, {"ENCODER_MAX_BATCH": 0}):
        with pytest.raises(ConfigError, match=next(iter(bad))):
            create_app({"INSTANCE_PATH": str(tmp_path), **bad})
    with pytest.raises(ConfigError, match="ENCODER_BATCH_WINDOW_MS"):
        create_app({"INSTANCE_PATH": str(tmp_path), "ENCODER_BATCH_WINDOW_MS": 500})
    monkeypatch.setenv("WEB_CONCURRENCY", "2")
    two = create_app({"INSTANCE_PATH": str(tmp_path)}).config["CATALOG_MEMORY_MB"]
    monkeypatch.setenv("WEB_CONCURRENCY", "4")
    four = create_app({"INSTANCE_PATH": str(tmp_path)}).config["CATALOG_MEMORY_MB"]
    assert two >= 256 and (four == 256 or four < two), "more workers on the machine: less for each"
    monkeypatch.setenv("ATTUNE_CATALOG_MEMORY_MB", "512")
    assert create_app({"INSTANCE_PATH": str(tmp_path)}).config["CATALOG_MEMORY_MB"] == 512
