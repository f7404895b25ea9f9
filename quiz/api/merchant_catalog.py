"""Merchant API: catalog imports and products."""

from __future__ import annotations

from flask import Response, jsonify, request
from flask.typing import ResponseReturnValue

from .. import imports, jobs, products
from ..downloads import attachment
from ..errors import ApiError
from ..models import CatalogImport
from . import bp
from .auth import current_merchant, merchant_required
from .parsing import is_public_id
from .schemas import import_out, imports_out, page_in, products_out


@bp.post("/catalog/imports")
@merchant_required
def create_import() -> ResponseReturnValue:
    """Accept a catalog file (multipart ``file``) and import it in the background."""
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        raise ApiError(422, "Attach the catalog as a multipart field named 'file'.", {"file": ["Missing file."]})
    try:
        job = imports.create_import(
            current_merchant(),
            upload.read(),
            upload.filename,
            format=request.form.get("format") or None,
            mode=request.form.get("mode") or "upsert",
        )
    except imports.ImportRejected as exc:
        raise ApiError(422, str(exc), {exc.field: [str(exc)]}) from exc
    jobs.enqueue(job.id)
    return jsonify(import_out.dump(job)), 202


def _job_or_404(import_id: str) -> CatalogImport:
    job = imports.get_import(current_merchant(), import_id) if is_public_id(import_id) else None
    if job is None:
        raise ApiError(404, "No such import.")
    return job


@bp.get("/catalog/imports/<import_id>")
@merchant_required
def get_import(import_id: str) -> ResponseReturnValue:
    """Return an import's status, progress and row errors."""
    return jsonify(import_out.dump(_job_or_404(import_id)))


@bp.get("/catalog/imports")
@merchant_required
def list_imports() -> ResponseReturnValue:
    """Return the merchant's import history, newest first."""
    return jsonify({"items": imports_out.dump(imports.list_imports(current_merchant()))})


@bp.get("/catalog/imports/<import_id>/errors.csv")
@merchant_required
def import_errors_csv(import_id: str) -> Response:
    """Download an import's row errors as CSV."""
    job = _job_or_404(import_id)
    return attachment(imports.errors_csv(job), "text/csv", f"import-{job.id}-errors.csv")


@bp.get("/products")
@merchant_required
def list_products() -> ResponseReturnValue:
    """Return one page of the merchant's products."""
    args = page_in.load(request.args)
    rows, total = products.page(current_merchant(), args["limit"], args["offset"])
    return jsonify({"items": products_out.dump(rows), "total": total, **args})
