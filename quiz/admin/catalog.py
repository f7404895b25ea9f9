"""Catalog pages: upload, import history and live progress, row errors, mapping, products."""

from __future__ import annotations

from flask import abort, flash, jsonify, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from .. import imports, jobs, products
from ..api.schemas import import_out
from ..db import transaction
from ..downloads import attachment
from ..models import CatalogImport
from . import bp
from .auth import admin_required, current_merchant
from .forms import MAPPED_FIELDS, MappingForm, UploadForm

ERRORS_SHOWN = 200
MAX_OFFSET = 10**9


def _job_or_404(import_id: str) -> CatalogImport:
    job = imports.get_import(current_merchant(), import_id)
    if job is None:
        abort(404, description="No such import.")
    return job


@bp.route("/imports", methods=["GET", "POST"])
@admin_required
def import_list() -> ResponseReturnValue:
    """Upload a catalog, and list earlier imports."""
    merchant = current_merchant()
    form = UploadForm()
    status = 200
    if form.validate_on_submit():
        upload = form.file.data
        try:
            job = imports.create_import(
                merchant, upload.read(), upload.filename or "catalog", form.format.data or None, form.mode.data
            )
        except imports.ImportRejected as exc:
            getattr(form, exc.field).errors = [str(exc)]
            status = 422
        else:
            jobs.enqueue(job.id)
            return redirect(url_for("admin.import_detail", import_id=job.id))
    elif form.is_submitted():
        status = 422
    return render_template(
        "admin/imports.html", merchant=merchant, form=form, history=imports.list_imports(merchant)
    ), status


@bp.get("/imports/<import_id>")
@admin_required
def import_detail(import_id: str) -> ResponseReturnValue:
    """Show an import's progress (live with JavaScript) and its row errors."""
    job = _job_or_404(import_id)
    return render_template(
        "admin/import_detail.html",
        merchant=current_merchant(),
        job=job,
        progress=imports.progress_of(job),
        errors=job.errors[:ERRORS_SHOWN],
    )


@bp.get("/imports/<import_id>/status.json")
@admin_required
def import_status(import_id: str) -> ResponseReturnValue:
    """Return an import's progress for the page's live updates."""
    data = import_out.dump(_job_or_404(import_id))
    data.pop("errors")
    return jsonify(data)


@bp.get("/imports/<import_id>/errors.csv")
@admin_required
def import_errors(import_id: str) -> ResponseReturnValue:
    """Download an import's row errors."""
    job = _job_or_404(import_id)
    return attachment(imports.errors_csv(job), "text/csv", f"import-{job.id}-errors.csv")


@bp.route("/mapping", methods=["GET", "POST"])
@admin_required
def mapping() -> ResponseReturnValue:
    """Set which columns of a generic CSV or JSON file hold which product field."""
    merchant = current_merchant()
    form = MappingForm(data=merchant.column_mapping or {})
    if form.validate_on_submit():
        chosen = {name: value.strip() for name in MAPPED_FIELDS if (value := getattr(form, name).data or "").strip()}
        with transaction():
            merchant.column_mapping = chosen
        flash("Mapping saved. It applies to your next generic CSV or JSON import.")
        return redirect(url_for("admin.mapping"))
    return render_template("admin/mapping.html", merchant=merchant, form=form, fields=MAPPED_FIELDS)


@bp.get("/products")
@admin_required
def product_list() -> ResponseReturnValue:
    """Browse the catalog, 50 products a page."""
    offset = min(max(request.args.get("offset", 0, type=int), 0), MAX_OFFSET)
    rows, total = products.page(current_merchant(), 50, offset)
    return render_template(
        "admin/products.html", merchant=current_merchant(), rows=rows, total=total, offset=offset, limit=50
    )
