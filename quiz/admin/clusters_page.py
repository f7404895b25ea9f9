"""Taste clusters in the admin: sizes in a chart, labels, the k setting, and saving one as a segment."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from marshmallow import ValidationError

from ..marketing import clusters, segments
from ..platform.db import transaction
from . import bp
from .auth import admin_required, current_merchant
from .forms import ActionForm, ClusterSettingForm


@bp.route("/clusters", methods=["GET", "POST"])
@admin_required
def taste_clusters() -> ResponseReturnValue:
    """Show the taste clusters; set how many to form (or let silhouette choose)."""
    merchant = current_merchant()
    form = ClusterSettingForm(data={"k": str(merchant.taste_clusters or "")})
    if form.validate_on_submit():
        with transaction():
            merchant.taste_clusters = int(form.k.data) if form.k.data else None
        flash("Saved. The clusters below are formed with that setting.")
        return redirect(url_for("admin.taste_clusters"))
    report = clusters.taste_clusters(merchant)
    return render_template(
        "admin/clusters.html", merchant=merchant, report=report, form=form, save_form=ActionForm()
    ), (422 if form.errors else 200)


@bp.post("/clusters/<int:index>/segment")
@admin_required
def cluster_segment(index: int) -> ResponseReturnValue:
    """Save a taste cluster as a segment (it follows the cluster as profiles change)."""
    if not ActionForm().validate_on_submit():
        abort(400, description="The form expired; reload the page and try again.")
    merchant = current_merchant()
    report = clusters.taste_clusters(merchant)
    found = next((c for c in report.clusters if c.index == index), None)
    if found is None:
        abort(404, description="No such cluster.")
    name = f"Taste cluster {index + 1}: " + (", ".join(found.categories) or "mixed")
    try:
        with transaction():
            rule = {"kind": "cluster", "cluster": index, "centroid": [round(float(x), 6) for x in found.centroid]}
            segment = segments.save(merchant, {"name": name[:120], "rules": [rule]})
    except ValidationError:
        flash(f"A segment called {name!r} exists already.")
        return redirect(url_for("admin.taste_clusters"))
    return redirect(url_for("admin.segment_editor", segment_id=segment.id))
