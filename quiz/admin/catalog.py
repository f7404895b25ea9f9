"""Catalog pages: upload, import history and live progress, row errors, mapping, products."""

from __future__ import annotations

from flask import abort, flash, jsonify, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from ..api.schemas import import_out
from ..catalog import imports, jobs, products
from ..catalog import mapping as catalog_mapping
from ..catalog import previews as import_previews
from ..models import CatalogImport
from ..platform.body_limits import UPLOAD, body_limit
from ..platform.db import transaction
from ..platform.downloads import attachment
from . import bp
from .auth import admin_required, current_merchant
from .forms import MAPPED_FIELDS, ActionForm, MappingForm, UploadForm

ERRORS_SHOWN = 200
MAX_OFFSET = 10**9
AVAILABILITY = {"yes": True, "no": False}


def _job_or_404(import_id: str) -> CatalogImport:
    job = imports.get_import(current_merchant(), import_id)
    if job is None:
        abort(404, description="No such import.")
    return job


@bp.route("/imports", methods=["GET", "POST"])
@body_limit(UPLOAD)
@admin_required
def import_list() -> ResponseReturnValue:
    """Upload a catalog (to preview before it imports), and list earlier imports."""
    merchant = current_merchant()
    form = UploadForm()
    status = 200
    if form.validate_on_submit():
        upload = form.file.data
        try:
            held, _ = import_previews.hold(
                merchant, upload.read(), upload.filename or "catalog", form.format.data or None, form.mode.data
            )
        except imports.ImportRejected as exc:
            getattr(form, exc.field).errors = [str(exc)]
            status = 422
        else:
            return redirect(url_for("admin.import_preview", token=held.token))
    elif form.is_submitted():
        status = 422
    return render_template(
        "admin/imports.html", merchant=merchant, form=form, history=imports.list_imports(merchant)
    ), status


def _held_or_404(token: str) -> import_previews.HeldUpload:
    held = import_previews.find(current_merchant(), token)
    if held is None:
        abort(404, description="This upload is no longer waiting: upload the file again.")
    return held


@bp.get("/imports/preview/<token>")
@admin_required
def import_preview(token: str) -> ResponseReturnValue:
    """Show what importing an uploaded file would do, with confirm and cancel."""
    held = _held_or_404(token)
    try:
        preview = import_previews.preview(current_merchant(), held)
    except imports.ImportRejected as exc:
        import_previews.discard(held)
        flash(f"The file can no longer be imported: {exc}", "error")
        return redirect(url_for("admin.import_list"))
    return render_template(
        "admin/import_preview.html", merchant=current_merchant(), held=held, preview=preview, form=ActionForm()
    )


@bp.post("/imports/preview/<token>/confirm")
@admin_required
def import_confirm(token: str) -> ResponseReturnValue:
    """Import a previewed upload."""
    held = _held_or_404(token)
    if not ActionForm().validate_on_submit():
        flash("The form expired; please confirm again.", "error")
        return redirect(url_for("admin.import_preview", token=token))
    try:
        job = import_previews.confirm(current_merchant(), held)
    except imports.ImportRejected as exc:
        flash(f"The file can no longer be imported: {exc}", "error")
        return redirect(url_for("admin.import_preview", token=token))
    jobs.enqueue(job.id)
    return redirect(url_for("admin.import_detail", import_id=job.id))


@bp.post("/imports/preview/<token>/cancel")
@admin_required
def import_cancel(token: str) -> ResponseReturnValue:
    """Drop a previewed upload; nothing was imported."""
    held = _held_or_404(token)
    if ActionForm().validate_on_submit():
        import_previews.discard(held)
        flash(f"{held.filename} was not imported; nothing changed.")
    return redirect(url_for("admin.import_list"))


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
        chosen = {name: getattr(form, name).data for name in MAPPED_FIELDS}
        with transaction():
            catalog_mapping.set_mapping(merchant, chosen)
        flash("Mapping saved. It applies to your next generic CSV or JSON import.")
        return redirect(url_for("admin.mapping"))
    return render_template("admin/mapping.html", merchant=merchant, form=form, fields=MAPPED_FIELDS)


@bp.get("/products")
@admin_required
def product_list() -> ResponseReturnValue:
    """Browse the catalog, newest import first, 50 a page: search by title, filter by category and availability."""
    merchant = current_merchant()
    offset = min(max(request.args.get("offset", 0, type=int), 0), MAX_OFFSET)
    availability = request.args.get("available", "")
    where = products.ProductFilter(
        query=request.args.get("q", "").strip()[:200],
        category=request.args.get("category", "").strip()[:500],
        available=AVAILABILITY.get(availability),
    )
    rows, total = products.search(merchant, where, 50, offset)
    filters = {
        "q": where.query,
        "category": where.category,
        "available": availability if availability in AVAILABILITY else "",
    }
    return render_template(
        "admin/products.html",
        merchant=merchant,
        rows=rows,
        total=total,
        offset=offset,
        limit=50,
        filters={name: value for name, value in filters.items() if value},
        categories=products.top_categories(merchant),
    )
