"""The job worker of the production shape: RQ's SimpleWorker running imports in one long-lived app.

``flask --app app jobs worker`` builds its app once, binds it here (:func:`bind_app`), takes over
what earlier workers left (:func:`recover`), starts the loops that must run in exactly one place
(daily retention purge, webhook retries, a periodic recovery sweep), then runs RQ's SimpleWorker:
jobs run in this process, one after another, so the embedding model loads once per worker
process and stays loaded (a forking worker would load it again for every import).
"""

from __future__ import annotations

import logging
import shutil
import time
from pathlib import Path

import sqlalchemy as sa
from flask import Flask
from rq import Queue, SimpleWorker

from ..merchants import webhooks
from ..models import CatalogImport
from ..platform import scheduling
from ..platform.db import get_session, transaction
from ..privacy import retention
from . import jobs
from .imports import recover_interrupted, run_import

logger = logging.getLogger(__name__)

# A staging folder (".VERSION-xxxx") lives for the seconds an index takes to write; one this old
# was left by a process killed while writing, and nothing will ever finish it.
STAGING_MAX_AGE_S = 15 * 60
SWEEP_TASK = "job-sweep"  # the recovery sweep in the worker app's schedule
_app: Flask | None = None


def bind_app(app: Flask) -> None:
    """Make ``app`` the one every job of this process runs in."""
    global _app
    _app = app


def worker_app() -> Flask:
    """Return this process's job app, bound by :func:`work` (``flask --app app jobs worker`` builds it)."""
    if _app is None:
        raise RuntimeError("no job app in this process: run jobs with `flask --app app jobs worker`")
    return _app


def run_import_job(import_id: str) -> str:
    """Run one queued import (the RQ job function); return its final status."""
    with worker_app().app_context():
        with transaction():  # it reached a worker: the "queue unreachable" note no longer holds
            get_session().execute(
                sa.update(CatalogImport)
                .where(CatalogImport.id == import_id, CatalogImport.message == jobs.QUEUE_DOWN)
                .values(message="")
            )
        try:
            return run_import(import_id).status
        except LookupError:  # queued twice (upload and a recovery sweep), or already taken
            logger.info("import %s is no longer waiting", import_id)
            return "skipped"


def recover(app: Flask, at_start: bool = False) -> tuple[int, int]:
    """Fail imports of dead processes, requeue waiting ones not in the queue; return both counts.

    Also removes index staging folders left by a process killed while writing an index: at the
    worker's start every one of a merchant with no import running (the killed one was just marked
    failed), in later sweeps those older than ``STAGING_MAX_AGE_S``.
    """

    redis_jobs = jobs.backend(app)
    assert isinstance(redis_jobs, jobs.RedisJobs), "recover() is for the Redis backend"
    with app.app_context():
        failed, queued = recover_interrupted()
        waiting = redis_jobs.waiting_imports()
        missing = [import_id for import_id in queued if import_id not in waiting]
        for import_id in missing:
            redis_jobs.enqueue(import_id)
        busy = set(get_session().scalars(sa.select(CatalogImport.merchant_id).where(CatalogImport.status == "running")))
    max_age = 0.0 if at_start else STAGING_MAX_AGE_S
    removed = remove_stale_staging(Path(app.config["INDEX_ROOT"]), max_age, busy)
    if failed or missing or removed:
        logger.info(
            "job worker: %d interrupted imports marked failed, %d waiting requeued, %d stale staging folders removed",
            failed,
            len(missing),
            removed,
        )
    return failed, len(missing)


def remove_stale_staging(
    index_root: Path, max_age_s: float = STAGING_MAX_AGE_S, busy_merchants: set[int] | frozenset[int] = frozenset()
) -> int:
    """Delete index staging folders older than ``max_age_s``, except of ``busy_merchants``; return how many.

    A staging folder of a merchant whose import runs may be being written right now. One of an
    idle merchant can only belong to a dead writer, or to an operator's ``flask index rebuild``
    running at this very moment, which then fails with a clear error and can be run again.
    """
    if not index_root.is_dir():
        return 0
    cutoff = time.time() - max_age_s
    stale = [
        p
        for p in index_root.glob("*/.*")
        if p.is_dir() and p.stat().st_mtime <= cutoff and _merchant_of(p) not in busy_merchants
    ]
    for folder in stale:
        shutil.rmtree(folder, ignore_errors=True)
    return len(stale)


def _merchant_of(staging: Path) -> int | None:
    name = staging.parent.name
    return int(name) if name.isdigit() else None


def work(app: Flask, burst: bool = False) -> bool:
    """Run the job worker on ``app``'s queue until stopped (``burst``: until the queue is empty).

    Returns whether any job ran. Without ``burst`` it also runs the daily retention purge, the
    webhook deliverer and a recovery sweep: in the production shape they run here and only here.
    """
    if not jobs.uses_redis(app):
        raise ValueError("the job worker needs REDIS_URL (without it, imports run inside the web process)")
    bind_app(app)
    redis_jobs = jobs.backend(app)
    assert isinstance(redis_jobs, jobs.RedisJobs)
    recover(app, at_start=True)
    if not burst:
        retention.start(app)
        webhooks.start(app)
        # Imports left waiting while Redis was down get run by the next sweep.
        every = float(app.config["JOB_SWEEP_SECONDS"])
        scheduling.register(app, scheduling.Task(SWEEP_TASK, lambda: recover(app), every=every, at_start=False))
        scheduling.start(app, SWEEP_TASK)
    connection = redis_jobs.connection(blocking=True)
    queue = Queue(redis_jobs.queue_name, connection=connection, default_timeout=redis_jobs.timeout)
    worker = SimpleWorker([queue], connection=connection)
    try:
        return bool(worker.work(burst=burst, logging_level=app.config.get("LOG_LEVEL", "INFO")))
    finally:
        if not burst:
            scheduling.stop(app, SWEEP_TASK, timeout=0)
        connection.close()
