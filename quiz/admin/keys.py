"""API keys: list by prefix, create, rotate, revoke."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue

from ..merchants import api_keys
from ..models import ApiKey
from ..platform.db import transaction
from . import bp
from .auth import admin_required, current_merchant
from .forms import ActionForm


def _key_or_404(key_id: int) -> ApiKey:
    key = api_keys.get_key(current_merchant(), key_id)
    if key is None:
        abort(404, description="No such key.")
    return key


def _key_page(new_key: str | None = None) -> ResponseReturnValue:
    """Render the key list; a new key is shown in this response only (never put in the session)."""
    merchant = current_merchant()
    return render_template(
        "admin/keys.html", merchant=merchant, keys=api_keys.list_keys(merchant), form=ActionForm(), new_key=new_key
    )


@bp.get("/keys")
@admin_required
def key_list() -> ResponseReturnValue:
    """List the merchant's API keys by prefix."""
    return _key_page()


@bp.post("/keys")
@admin_required
def key_create() -> ResponseReturnValue:
    """Create a new API key."""
    if not ActionForm().validate_on_submit():
        abort(400, description="The form expired; reload the page and try again.")
    with transaction():
        _, key = api_keys.issue(current_merchant())
    return _key_page(key)


@bp.post("/keys/<int:key_id>/rotate")
@admin_required
def key_rotate(key_id: int) -> ResponseReturnValue:
    """Revoke a key and issue its replacement."""
    key = _key_or_404(key_id)
    if not ActionForm().validate_on_submit():
        abort(400, description="The form expired; reload the page and try again.")
    with transaction():
        new = api_keys.rotate(current_merchant(), key)
    return _key_page(new)


@bp.post("/keys/<int:key_id>/revoke")
@admin_required
def key_revoke(key_id: int) -> ResponseReturnValue:
    """Revoke a key at once."""
    key = _key_or_404(key_id)
    if not ActionForm().validate_on_submit():
        abort(400, description="The form expired; reload the page and try again.")
    with transaction():
        api_keys.revoke(key)
    flash(f"Key {key.prefix}… is revoked.")
    return redirect(url_for("admin.key_list"))
