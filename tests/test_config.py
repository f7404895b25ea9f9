"""Configuration: clear start-up errors, a secret kept in the instance folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from app import create_app
from quiz.config import ConfigError


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
