"""Attune's application factory: ``flask --app app run`` serves the default app."""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask

from quiz import cli, health
from quiz.admin import bp as admin_bp
from quiz.api import bp as api_bp
from quiz.api.parsing import UploadClosingRequest
from quiz.catalog import engine, jobs
from quiz.merchants import webhooks
from quiz.platform import (
    body_limits,
    db,
    errors,
    i18n,
    limits,
    logs,
    metrics,
    nul_guard,
    queue_wait,
    scheduling,
    security,
)
from quiz.platform.config import load_config
from quiz.platform.extensions import csrf
from quiz.privacy import retention
from quiz.shopper import bp as shopper_bp
from quiz.shopper import widget_bp

ROOT = Path(__file__).resolve().parent


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Create and configure an Attune app.

    Args:
        config: settings that override the defaults, the instance folder and the environment
            (tests pass their database URL and instance path here).
    """
    instance = (config or {}).get("INSTANCE_PATH") or os.environ.get("ATTUNE_INSTANCE") or ROOT / "instance"
    app = Flask(
        __name__,
        instance_path=str(Path(instance).resolve()),
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
    )
    load_config(app, config)
    logs.configure(app)  # text lines, or JSON lines with LOG_FORMAT=json
    logging.getLogger("faiss.loader").setLevel(logging.WARNING)  # optional CPU builds it probes
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # its access log records client IP addresses
    logs.init_app(app)  # first, so every later hook and log line has the request id
    metrics.init_app(app)
    queue_wait.init_app(app)  # before any work on a request that waited too long for a thread
    body_limits.init_app(app)  # before anything reads a body: CSRF and the NUL guard read forms
    db.init_app(app)
    scheduling.init_app(app)  # background tasks: the import worker, webhook sending, the daily purge
    engine.init_app(app)
    jobs.init_app(app)
    webhooks.init_app(app)
    csrf.init_app(app)
    limits.init_app(app)
    i18n.init_app(app)
    errors.init_app(app)
    security.init_app(app)
    nul_guard.init_app(app)
    cli.init_app(app)

    app.request_class = UploadClosingRequest  # no temporary file left open by an upload refused half way (413)

    app.register_blueprint(admin_bp)
    app.register_blueprint(api_bp)
    app.register_blueprint(shopper_bp)
    app.register_blueprint(widget_bp)
    app.register_blueprint(health.bp)
    csrf.exempt(api_bp)  # the API authenticates with bearer tokens, not cookies
    csrf.exempt(widget_bp)  # no cookies in a partner's iframe: its forms carry signed tokens (shopper.channel)

    if app.config["WARM_UP"]:  # a serving process: load the model early, pick up unfinished imports
        engine.warm_up(app, app.config["DEMO_MERCHANT"])
        # With REDIS_URL (the production shape) these loops run in `flask jobs worker` alone, not in
        # every gunicorn worker; without it this process is the embedded default's only worker.
        if not jobs.uses_redis(app):
            jobs.start(app)
            retention.start(app)  # the embedded default purges expired data daily by itself
            webhooks.start(app)  # and sends webhook deliveries left pending
    return app


def __getattr__(name: str) -> Flask:
    """Build ``app`` on first access (``flask --app app``, ``gunicorn app:app``), not on import."""
    if name == "app":
        return create_app()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
