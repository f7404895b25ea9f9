"""Uploads held between the admin's preview and the merchant's confirm: a file and who sent it.

An upload is read and previewed first (nothing changes); the file waits in the instance folder
until the merchant confirms it (it then becomes an import) or cancels it. Held files older than
``MAX_AGE`` are removed whenever another upload is held, so abandoned previews do not pile up.
"""

from __future__ import annotations

import json
import re
import secrets
import time
from dataclasses import dataclass
from pathlib import Path

from flask import current_app

from ..models import CatalogImport, Merchant
from .imports import ImportPreview, create_import, preview_import

MAX_AGE_S = 3600
_TOKEN = re.compile(r"[0-9a-f]{32}")


@dataclass(frozen=True)
class HeldUpload:
    """An uploaded file waiting for the merchant's confirm, with the choices made on upload."""

    token: str
    merchant_id: int
    filename: str
    format: str | None
    mode: str

    @property
    def path(self) -> Path:
        """Return the held file's path."""
        return held_folder() / self.token


def held_folder() -> Path:
    """Return the folder holding previewed uploads."""
    folder = Path(current_app.instance_path) / "import-previews"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def hold(
    merchant: Merchant, data: bytes, filename: str, format: str | None, mode: str
) -> tuple[HeldUpload, ImportPreview]:
    """Preview an upload and keep its file for the confirm; a refused file is not kept.

    Raises:
        ImportRejected: as :func:`quiz.imports.create_import` would.
    """
    preview = preview_import(merchant, data, filename, format, mode)
    remove_expired()
    held = HeldUpload(secrets.token_hex(16), merchant.id, filename, format, mode)
    held.path.write_bytes(data)
    meta = {"merchant_id": merchant.id, "filename": filename, "format": format, "mode": mode}
    _meta_path(held.token).write_text(json.dumps(meta), encoding="utf-8")
    return held, preview


def find(merchant: Merchant, token: str) -> HeldUpload | None:
    """Return the merchant's held upload ``token`` (None if unknown, gone or another merchant's)."""
    if not _TOKEN.fullmatch(token):
        return None
    try:
        meta = json.loads(_meta_path(token).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    held = HeldUpload(token, meta["merchant_id"], meta["filename"], meta["format"], meta["mode"])
    return held if held.merchant_id == merchant.id and held.path.exists() else None


def preview(merchant: Merchant, held: HeldUpload) -> ImportPreview:
    """Return the preview of a held upload against the catalog as it is now."""
    return preview_import(merchant, held.path.read_bytes(), held.filename, held.format, held.mode)


def confirm(merchant: Merchant, held: HeldUpload) -> CatalogImport:
    """Turn a held upload into a queued import and let go of the held file.

    Raises:
        ImportRejected: if the file no longer imports (e.g. the mapping changed meanwhile); it stays held.
    """
    job = create_import(merchant, held.path.read_bytes(), held.filename, held.format, held.mode)
    discard(held)
    return job


def discard(held: HeldUpload) -> None:
    """Remove a held upload's file and its note."""
    held.path.unlink(missing_ok=True)
    _meta_path(held.token).unlink(missing_ok=True)


def remove_expired(now: float | None = None) -> int:
    """Remove held uploads older than MAX_AGE_S; return how many files went."""
    cutoff = (time.time() if now is None else now) - MAX_AGE_S
    removed = 0
    for path in held_folder().iterdir():
        try:
            if path.stat().st_mtime < cutoff:
                path.unlink(missing_ok=True)
                removed += 1
        except FileNotFoundError:  # removed by another request meanwhile
            continue
    return removed


def _meta_path(token: str) -> Path:
    return held_folder() / f"{token}.json"
