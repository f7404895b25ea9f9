"""Catalog imports: accept a file, then run it as a job with progress, never half-applied."""

from __future__ import annotations

import csv
import datetime as dt
import io
import logging
import os
import re
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from flask import current_app

from recommender import ProductRecord
from recommender.importers import FORMATS, CatalogFormatError, ParsedCatalog, parse_catalog

from ..models import CatalogImport, Merchant, utcnow
from ..platform import metrics
from ..platform.db import get_session, transaction
from ..quizzes.store import follow_catalog
from .sync import IndexWriteError, SyncMode, apply_sync, embed_plan, plan_sync, preview_sync, rebuild_index

logger = logging.getLogger(__name__)

MODES = ("full", "upsert")
CONTROL = re.compile(r"[\x00-\x1f\x7f]")
MAX_STORED_ERRORS = 5000
# A running import reports progress at least every few seconds; silence this long means
# its process died (killed, crashed, restarted) and the import will never finish.
STALE_AFTER = dt.timedelta(minutes=2)
INTERRUPTED = (
    "The import was interrupted (the process running it stopped). The previous catalog is still live; upload again."
)


class ImportSuperseded(RuntimeError):
    """The import was marked failed by someone else while it ran."""


class ImportRejected(ValueError):
    """The upload cannot be imported; ``field`` names the form field at fault."""

    def __init__(self, message: str, field: str = "file") -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class ImportProgress:
    """Derived progress figures of an import."""

    percent: float
    rate_per_s: float | None
    eta_s: float | None


def upload_folder() -> Path:
    """Return the folder keeping uploaded files until their import has run."""
    folder = Path(current_app.instance_path) / "uploads"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def create_import(
    merchant: Merchant, data: bytes, filename: str, format: str | None = None, mode: str = "upsert"
) -> CatalogImport:
    """Check an upload and queue it; raise :class:`ImportRejected` and store nothing if it is no catalog."""
    _check_choices(format, mode)
    if not data:
        raise ImportRejected("The file is empty.")
    parsed = _parse(merchant, data, filename, format)
    with transaction() as session:
        job = CatalogImport(
            merchant_id=merchant.id,
            filename=display_name(filename),
            format=parsed.format,
            mode=mode,
            status="queued",
            total=parsed.total,
            failed=parsed.total - len(parsed.records),
            errors=_error_dicts(parsed),
            warnings=list(parsed.warnings),
        )
        session.add(job)
        session.flush()
        (upload_folder() / job.id).write_bytes(data)
    return job


PREVIEW_PRODUCTS = 20


@dataclass(frozen=True)
class ImportPreview:
    """What an import of a file would do, computed without changing anything."""

    filename: str
    format: str
    mode: str
    mapping: dict[str, str]
    total: int
    valid: int
    failed: int
    products: list[ProductRecord]
    errors: list[dict[str, object]]
    warnings: list[str]
    created: int
    updated: int
    unchanged: int
    deactivated: int


def preview_import(
    merchant: Merchant, data: bytes, filename: str, format: str | None = None, mode: str = "upsert"
) -> ImportPreview:
    """Read an upload as :func:`create_import` would and say what importing it would do; store nothing.

    Raises:
        ImportRejected: for the same uploads :func:`create_import` refuses.
    """
    _check_choices(format, mode)
    if not data:
        raise ImportRejected("The file is empty.")
    parsed = _parse(merchant, data, filename, format)
    changes = preview_sync(merchant, parsed.records, parsed.skipped_ids, "full" if mode == "full" else "upsert")
    return ImportPreview(
        filename=display_name(filename),
        format=parsed.format,
        mode=mode,
        mapping=dict(parsed.mapping_used),
        total=parsed.total,
        valid=len(parsed.records),
        failed=parsed.total - len(parsed.records),
        products=parsed.records[:PREVIEW_PRODUCTS],
        errors=_error_dicts(parsed),
        warnings=list(parsed.warnings),
        created=changes.created,
        updated=changes.updated,
        unchanged=changes.unchanged,
        deactivated=changes.deactivated,
    )


def _check_choices(format: str | None, mode: str) -> None:
    if format is not None and format not in FORMATS:
        raise ImportRejected(f"Unknown format {format!r}; use one of: {', '.join(FORMATS)}.", "format")
    if mode not in MODES:
        raise ImportRejected(f"Unknown mode {mode!r}; use 'full' or 'upsert'.", "mode")


def display_name(filename: str | None) -> str:
    """Return an upload's file name fit to show and store: no folders, no control characters."""
    name = CONTROL.sub("", Path((filename or "").replace("\\", "/")).name).strip()
    return name[:200] or "catalog"


def errors_csv(job: CatalogImport) -> str:
    """Return an import's row errors as CSV text."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["row", "field", "message"])
    writer.writerows([e["row"], e["field"], e["message"]] for e in job.errors)
    return out.getvalue()


def _parse(merchant: Merchant, data: bytes, filename: str | None, format: str | None) -> ParsedCatalog:
    try:
        return parse_catalog(data, format=format, filename=filename, mapping=merchant.column_mapping or None)
    except CatalogFormatError as exc:
        raise ImportRejected(str(exc)) from exc


def _error_dicts(parsed: ParsedCatalog) -> list[dict[str, object]]:
    return [{"row": e.row, "field": e.field, "message": e.message} for e in parsed.errors[:MAX_STORED_ERRORS]]


def get_import(merchant: Merchant, import_id: str) -> CatalogImport | None:
    """Return the merchant's import with ``import_id`` (None for another merchant's)."""
    job = get_session().scalar(
        sa.select(CatalogImport).where(CatalogImport.id == import_id, CatalogImport.merchant_id == merchant.id)
    )
    if job is not None:
        fail_stale(job)
    return job


def list_imports(merchant: Merchant, limit: int = 50) -> list[CatalogImport]:
    """Return the merchant's latest imports, newest first (dead runs shown as failed)."""
    jobs = list(
        get_session().scalars(
            sa.select(CatalogImport)
            .where(CatalogImport.merchant_id == merchant.id)
            .order_by(CatalogImport.created_at.desc())
            .limit(limit)
        )
    )
    for job in jobs:
        fail_stale(job)
    return jobs


def progress_of(job: CatalogImport) -> ImportProgress:
    """Return percent done, products per second and seconds left, as far as known."""
    percent = 100.0 if job.status == "done" else (100.0 * job.processed / job.total if job.total else 0.0)
    if job.started_at is None or job.processed == 0:
        return ImportProgress(round(percent, 1), None, None)
    end = job.finished_at or utcnow()
    elapsed = max((_aware(end) - _aware(job.started_at)).total_seconds(), 1e-3)
    rate = job.processed / elapsed
    eta = None if job.status != "running" else max(job.total - job.processed, 0) / rate
    return ImportProgress(round(percent, 1), round(rate, 1), None if eta is None else round(eta, 1))


def _aware(moment: dt.datetime) -> dt.datetime:
    """Return ``moment`` as UTC-aware (SQLite hands back naive datetimes)."""
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def run_import(import_id: str, on_progress: Callable[[int, int], None] | None = None) -> CatalogImport:
    """Run a queued import to the end: embed what changed, then swap catalog and index in at once.

    Any failure leaves the previous catalog and index serving and marks the import failed.
    """
    session = get_session()
    with transaction():
        # Claim the job atomically: of two processes that see it queued, only one runs it.
        claimed = session.execute(
            sa.update(CatalogImport)
            .where(CatalogImport.id == import_id, CatalogImport.status == "queued")
            .values(status="running", started_at=utcnow(), heartbeat_at=utcnow(), worker=this_worker())
        ).rowcount
    if not claimed:
        raise LookupError(f"import {import_id} is not waiting to run")
    job = session.get(CatalogImport, import_id, populate_existing=True)
    merchant = session.get(Merchant, job.merchant_id) if job else None
    if job is None or merchant is None:
        raise LookupError(f"import {import_id} vanished while starting")
    try:
        summary = _run(job, merchant, on_progress)
    except Exception as exc:
        session.rollback()
        logger.exception("import %s failed", import_id)
        told = isinstance(exc, ImportRejected | ImportSuperseded | IndexWriteError)
        reason = str(exc) if told else "an internal error (logged)"
        metrics.count_import_finished("failed", _failure_kind(exc))
        with transaction():
            job = session.get(CatalogImport, import_id, populate_existing=True)
            if job is not None and job.status == "running":
                job.status, job.finished_at = "failed", utcnow()
                job.message = f"The import stopped: {reason}. The previous catalog is still live."
        return job
    finally:
        (upload_folder() / import_id).unlink(missing_ok=True)
    logger.info("import %s done: %s", import_id, summary)
    metrics.count_import_finished("done")
    return job


def _failure_kind(exc: Exception) -> str:
    """Return the bounded metric label of an import failure."""
    if isinstance(exc, ImportRejected):
        return "rejected"
    if isinstance(exc, ImportSuperseded):
        return "superseded"
    return "index_write" if isinstance(exc, IndexWriteError) else "error"


def _run(job: CatalogImport, merchant: Merchant, on_progress: Callable[[int, int], None] | None) -> dict[str, int]:
    parsed = _parse(merchant, (upload_folder() / job.id).read_bytes(), job.filename, job.format)
    plan = plan_sync(merchant, parsed.records, parsed.skipped_ids)
    skipped = job.total - len(parsed.records)
    done = skipped + len(parsed.records) - len(plan.needs_embedding())
    _report(job, done, on_progress)
    last = time.monotonic()

    def advance(batch: int) -> None:
        nonlocal done, last
        done += batch
        if time.monotonic() - last >= 0.5 or done >= job.total:
            _report(job, done, on_progress)
            last = time.monotonic()

    embed_plan(plan, advance)
    _report(job, done, on_progress)  # a fresh heartbeat before the final write
    with transaction():
        get_session().refresh(job)
        if job.status != "running":  # marked failed meanwhile (taken for dead): do not overwrite
            raise ImportSuperseded("it was marked failed while it ran")
        mode: SyncMode = "full" if job.mode == "full" else "upsert"
        summary = apply_sync(merchant, plan, mode)
        changed = bool(summary.created or summary.updated or summary.deactivated)
        version = rebuild_index(merchant) if changed else None
        if changed:
            follow_catalog(merchant)
        job.status, job.finished_at, job.processed = "done", utcnow(), job.total
        job.summary = {**summary.__dict__, "index_version": version}
    return job.summary


def _report(job: CatalogImport, processed: int, on_progress: Callable[[int, int], None] | None) -> None:
    metrics.count_import_rows(processed - job.processed)
    with transaction():
        job.processed, job.heartbeat_at = processed, utcnow()
    if on_progress:
        on_progress(processed, job.total)


def this_worker() -> str:
    """Return "host:pid" of this process."""
    return f"{socket.gethostname()}:{os.getpid()}"


def _runner_is_dead(job: CatalogImport) -> bool:
    """Return whether the process running ``job`` is gone (or silent for too long)."""
    host, _, pid = job.worker.rpartition(":")
    if host == socket.gethostname() and pid.isdigit():
        try:
            os.kill(int(pid), 0)  # signal 0 only asks whether the process exists
        except ProcessLookupError:
            return True
        except PermissionError:  # a process of someone else's has that pid: go by the heartbeat
            pass
    return job.heartbeat_at is None or utcnow() - _aware(job.heartbeat_at) > STALE_AFTER


def fail_stale(job: CatalogImport) -> bool:
    """Mark a running import whose process died as failed; return whether it was."""
    if job.status != "running" or not _runner_is_dead(job):
        return False
    with transaction():
        job.status, job.finished_at, job.message = "failed", utcnow(), INTERRUPTED
    metrics.count_import_finished("failed", "interrupted")
    return True


def recover_interrupted() -> tuple[int, list[str]]:
    """Fail imports left running by dead processes; return how many, and the queued ids to resume."""
    session = get_session()
    running = list(session.scalars(sa.select(CatalogImport).where(CatalogImport.status == "running")))
    failed = sum(fail_stale(job) for job in running)
    queued = list(session.scalars(sa.select(CatalogImport.id).where(CatalogImport.status == "queued")))
    return failed, queued
