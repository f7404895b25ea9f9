"""gunicorn settings of the production shape: ``gunicorn -c python:quiz.platform.gunicorn_conf 'app:create_app()'``.

The app is not preloaded: each worker builds it, and loads the embedding model, after the fork.
A fork after torch has started its OpenMP thread pool leaves the child a pool without threads
(inference that hangs or crawls), and preloading would save little: torch's libraries are shared
file-backed pages anyway and the weights are about 90 MiB (docs/deployment.md). Thread counts are
set in each worker before torch is first imported. Environment: ``WEB_CONCURRENCY`` (workers,
default 2), ``GUNICORN_THREADS`` (threads per worker, default 4), ``HOST``/``PORT`` (default
127.0.0.1:8000), ``GUNICORN_TIMEOUT`` (default 60 s), ``GUNICORN_ACCESS_LOG=1`` for an access
log (never with client addresses), ``ATTUNE_INFERENCE_THREADS`` (default 1).
"""

from __future__ import annotations

import os
from typing import Any

from .metrics import mark_worker_dead


def _int_env(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    if not value.isdigit() or int(value) < 1:
        raise ValueError(f"{name} must be a positive whole number, got {value!r}")
    return int(value)


bind = f"{os.environ.get('HOST', '127.0.0.1')}:{_int_env('PORT', 8000)}"
workers = _int_env("WEB_CONCURRENCY", 2)
# Threads overlap database and network waits; inference itself gets INFERENCE_THREADS cores.
# gthread, with each request's wait for a thread measured: past half the admission bound it is
# answered 503 busy at once (quiz/platform/queue_wait.py).
worker_class = "quiz.platform.gunicorn_worker.AdmittingThreadWorker"
threads = _int_env("GUNICORN_THREADS", 4)
preload_app = False
# The first request of a worker may wait for the model (about 6.5 s cold) and an index load.
timeout = _int_env("GUNICORN_TIMEOUT", 60)
graceful_timeout = 30
keepalive = 5
# Recycle workers now and then so a slow leak cannot grow forever; jitter keeps them apart.
max_requests = _int_env("GUNICORN_MAX_REQUESTS", 20_000)
max_requests_jitter = max_requests // 10
# No access log by default; when asked for, one without client addresses (%(h)s) or user agents.
accesslog = "-" if os.environ.get("GUNICORN_ACCESS_LOG") == "1" else None
access_log_format = '"%(r)s" %(s)s %(B)s %(M)sms'
errorlog = "-"
# The serving app warms up (loads the model) in each worker after the fork, not in the master.
raw_env = [f"ATTUNE_WARM_UP={os.environ.get('ATTUNE_WARM_UP', 'true')}"]


def post_fork(server: Any, worker: Any) -> None:
    """Give this worker's torch and FAISS their thread count before either is imported."""
    count = os.environ.get("ATTUNE_INFERENCE_THREADS", "1").strip() or "1"
    if count != "0":  # 0: the libraries' default, one per core
        for name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS"):
            os.environ[name] = count
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")


def child_exit(server: Any, worker: Any) -> None:
    """Tell the metrics a worker is gone, so its multiprocess files stop counting as live."""
    mark_worker_dead(worker.pid)
