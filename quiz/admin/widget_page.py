"""The widget: which partner sites may embed the quiz, and the snippet they paste."""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue

from ..merchants import partners
from ..platform.db import transaction
from ..shopper.widget import embed_version
from . import bp
from .auth import admin_required, current_merchant
from .forms import PartnerSitesForm


@bp.route("/widget", methods=["GET", "POST"])
@admin_required
def widget_settings() -> ResponseReturnValue:
    """Edit the allowed partner sites; show the embed snippet."""
    merchant = current_merchant()
    form = PartnerSitesForm(data={"origins": "\n".join(merchant.partner_origins or [])})
    status = 200
    if form.validate_on_submit():
        try:
            with transaction():
                partners.set_origins(merchant, form.origin_lines())
        except partners.OriginError as exc:
            form.origins.errors = [message for messages in exc.fields.values() for message in messages]
            status = 422
        else:
            flash("Saved. Only these sites can show your quiz.")
            return redirect(url_for("admin.widget_settings"))
    script = url_for("shopper.embed_script", v=embed_version(), _external=True)
    snippet = partners.snippet(merchant, script)
    return render_template("admin/widget.html", merchant=merchant, form=form, snippet=snippet), status
