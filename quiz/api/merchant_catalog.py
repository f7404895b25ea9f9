"""Merchant API: catalog imports and products."""

from __future__ import annotations

from flask import Response, jsonify, request
from flask.typing import ResponseReturnValue

from ..catalog import imports, jobs, products
from ..catalog import mapping as catalog_mapping
from ..models import CatalogImport
from ..platform.body_limits import UPLOAD, body_limit
from ..platform.db import transaction
from ..platform.downloads import attachment
from ..platform.errors import ApiError
from . import bp
from .auth import current_merchant, merchant_required
from .documented import documented
from .openapi_schemas import CSV, PAGE_EXTRA, Component, Items, array, mapping_object, obj
from .parsing import is_public_id, json_body
from .schemas import (
    ImportOut,
    ImportPreviewOut,
    ImportSummaryOut,
    PageIn,
    ProductOut,
    import_out,
    import_preview_out,
    imports_out,
    page_in,
    products_out,
)


@bp.post("/catalog/imports")
@documented(
    "Upload a catalog file (multipart: file, format, mode, dry_run); with dry_run=true nothing changes "
    "and the answer is a preview: detected format, mapping used, the first 20 products, row errors",
    auth="merchant",
    status=202,
    response=ImportOut,
    multipart=True,
    also=(200, ImportPreviewOut, "dry_run=true: what importing the file would do; nothing was changed"),
)
@body_limit(UPLOAD)
@merchant_required
def create_import() -> ResponseReturnValue:
    """Accept a catalog file (multipart ``file``) and import it in the background.

    With ``dry_run=true`` nothing changes: the answer (200) is the preview of what importing it would do.
    """
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        raise ApiError(422, "Attach the catalog as a multipart field named 'file'.", {"file": ["Missing file."]})
    dry_run = _flag("dry_run")
    start = imports.preview_import if dry_run else imports.create_import
    try:
        result = start(
            current_merchant(),
            upload.read(),
            upload.filename,
            format=request.form.get("format") or None,
            mode=request.form.get("mode") or "upsert",
        )
    except imports.ImportRejected as exc:
        raise ApiError(422, str(exc), {exc.field: [str(exc)]}) from exc
    if isinstance(result, imports.ImportPreview):
        return jsonify(import_preview_out.dump(result))
    jobs.enqueue(result.id)
    return jsonify(import_out.dump(result)), 202


def _flag(name: str) -> bool:
    """Read a true/false form field (absent: false); 422 for anything else."""
    value = (request.form.get(name) or request.args.get(name) or "false").strip().lower()
    if value not in _FLAGS:
        raise ApiError(422, f"'{name}' must be true or false.", {name: ["Use true or false."]})
    return _FLAGS[value]


MAPPING = Component(
    "ColumnMapping",
    obj(
        ("mapping", "fields"),
        mapping=mapping_object(catalog_mapping.MAPPED_FIELDS, catalog_mapping.MAX_COLUMN_LENGTH),
        fields=array({"type": "string"}),
    ),
)
MAPPING_BODY = Component(
    "ColumnMappingChange",
    obj(("mapping",), mapping=mapping_object(catalog_mapping.MAPPED_FIELDS, catalog_mapping.MAX_COLUMN_LENGTH)),
)
_FLAGS = {"true": True, "1": True, "yes": True, "false": False, "0": False, "no": False}


@bp.get("/catalog/mapping")
@documented(
    "The column mapping for generic CSV/JSON catalogs (product field -> column) and the fields it may name",
    auth="merchant",
    response=MAPPING,
)
@merchant_required
def get_mapping() -> ResponseReturnValue:
    """Return the column mapping used for generic CSV and JSON catalogs, and the fields it may name."""
    return jsonify(_mapping_body())


@bp.put("/catalog/mapping")
@documented(
    "Replace the column mapping: {mapping: {field: column}} (422 naming each unknown field by path)",
    auth="merchant",
    body=MAPPING_BODY,
    response=MAPPING,
)
@merchant_required
def put_mapping() -> ResponseReturnValue:
    """Replace the column mapping; 422 naming each unknown field by path, nothing changed."""
    body = json_body()
    try:
        with transaction():
            catalog_mapping.set_mapping(current_merchant(), body.get("mapping"))
    except catalog_mapping.MappingError as exc:
        raise ApiError(422, str(exc), exc.fields) from exc
    return jsonify(_mapping_body())


def _mapping_body() -> dict[str, object]:
    return {
        "mapping": catalog_mapping.current_mapping(current_merchant()),
        "fields": list(catalog_mapping.MAPPED_FIELDS),
    }


def _job_or_404(import_id: str) -> CatalogImport:
    job = imports.get_import(current_merchant(), import_id) if is_public_id(import_id) else None
    if job is None:
        raise ApiError(404, "No such import.")
    return job


@bp.get("/catalog/imports/<import_id>")
@documented("An import's status, progress and row errors", auth="merchant", response=ImportOut)
@merchant_required
def get_import(import_id: str) -> ResponseReturnValue:
    """Return an import's status, progress and row errors."""
    return jsonify(import_out.dump(_job_or_404(import_id)))


@bp.get("/catalog/imports")
@documented("Import history", auth="merchant", response=Items(ImportSummaryOut))
@merchant_required
def list_imports() -> ResponseReturnValue:
    """Return the merchant's import history, newest first."""
    return jsonify({"items": imports_out.dump(imports.list_imports(current_merchant()))})


@bp.get("/catalog/imports/<import_id>/errors.csv")
@documented("An import's row errors as CSV", auth="merchant", media=(CSV,))
@merchant_required
def import_errors_csv(import_id: str) -> Response:
    """Download an import's row errors as CSV."""
    job = _job_or_404(import_id)
    return attachment(imports.errors_csv(job), "text/csv", f"import-{job.id}-errors.csv")


@bp.get("/products")
@documented(
    "The catalog, a page at a time (limit, offset)",
    auth="merchant",
    query=PageIn,
    response=Items(ProductOut, PAGE_EXTRA),
)
@merchant_required
def list_products() -> ResponseReturnValue:
    """Return one page of the merchant's products."""
    args = page_in.load(request.args)
    rows, total = products.page(current_merchant(), args["limit"], args["offset"])
    return jsonify({"items": products_out.dump(rows), "total": total, **args})
