"""Webhooks in the admin: register URLs, see their secrets and delivery status."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue

from ..merchants import webhooks
from ..platform.db import get_session, transaction
from . import bp
from .auth import admin_required, current_merchant
from .forms import ActionForm, WebhookForm


@bp.route("/webhooks", methods=["GET", "POST"])
@admin_required
def webhook_list() -> ResponseReturnValue:
    """Register a URL; list the URLs with their secret and newest deliveries."""
    merchant = current_merchant()
    form = WebhookForm()
    status = 200
    if form.validate_on_submit():
        try:
            with transaction():
                webhooks.register(merchant, form.url.data or "")
        except webhooks.WebhookError as exc:
            form.url.errors = [str(exc)]
        else:
            flash("Webhook added. Verify each event's signature with the secret shown.")
            return redirect(url_for("admin.webhook_list"))
    if form.errors:
        status = 422
    hooks = [(h, webhooks.deliveries(h, 10)) for h in webhooks.list_webhooks(merchant)]
    return render_template(
        "admin/webhooks.html",
        merchant=merchant,
        form=form,
        hooks=hooks,
        delete_form=ActionForm(),
        described=webhooks.described,
    ), status


@bp.post("/webhooks/<webhook_id>/delete")
@admin_required
def webhook_delete(webhook_id: str) -> ResponseReturnValue:
    """Remove a webhook."""
    hook = webhooks.get(current_merchant(), webhook_id)
    if hook is None:
        abort(404, description="No such webhook.")
    if not ActionForm().validate_on_submit():
        abort(400, description="The form expired; reload the page and try again.")
    with transaction():
        get_session().delete(hook)
    flash("Webhook removed.")
    return redirect(url_for("admin.webhook_list"))


@bp.post("/webhooks/<webhook_id>/test")
@admin_required
def webhook_test(webhook_id: str) -> ResponseReturnValue:
    """Send a signed ``webhook.test`` event to one webhook now."""
    hook = webhooks.get(current_merchant(), webhook_id)
    if hook is None:
        abort(404, description="No such webhook.")
    if not ActionForm().validate_on_submit():
        abort(400, description="The form expired; reload the page and try again.")
    with transaction():
        webhooks.send_test(hook)
    flash(f"A test event is on its way to {hook.url}; its result appears in the table below in a few seconds.")
    return redirect(url_for("admin.webhook_list"))
