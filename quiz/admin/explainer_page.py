"""The consent explainer in the admin: edit its text per language; each save is a new version."""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from marshmallow import ValidationError

from ..platform.db import transaction
from ..privacy.explainer import editable_content, latest_version, save_version
from ..quizzes.text import definition_text
from . import bp
from .auth import admin_required, current_merchant
from .forms import ExplainerForm


@bp.route("/explainer", methods=["GET", "POST"])
@admin_required
def explainer_editor() -> ResponseReturnValue:
    """Edit the explainer; saving creates a new version, and changed purposes are asked again."""
    merchant = current_merchant()
    form = ExplainerForm()
    if not form.is_submitted():
        form.content.data = definition_text(editable_content(merchant))
    elif form.validate_on_submit() and (raw := form.parsed()) is not None:
        try:
            with transaction():
                row = save_version(merchant, raw)
        except ValidationError as exc:
            messages = exc.messages if isinstance(exc.messages, dict) else {"_schema": exc.messages}
            form.content.errors = [f"{path}: {m}" for path, ms in messages.items() for m in ms]
        else:
            flash(f"Version {row.version} is live. Shoppers who allowed a purpose whose text changed are asked again.")
            return redirect(url_for("admin.explainer_editor"))
    current = latest_version(merchant)
    return render_template(
        "admin/explainer.html", merchant=merchant, form=form, version=current.version if current else None
    ), (422 if form.errors else 200)
