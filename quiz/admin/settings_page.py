"""Shop settings: the add-to-cart address pattern that results cards link to, and how long
products a shopper bought stay out of their picks (with the categories bought again and again)."""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue

from ..merchants import cart
from ..models import Merchant
from ..outcomes import bought
from ..platform.db import transaction
from . import bp
from .auth import admin_required, current_merchant
from .forms import ShopSettingsForm
from .outcome_forms import BoughtSettingsForm


@bp.route("/settings", methods=["GET", "POST"])
@admin_required
def shop_settings() -> ResponseReturnValue:
    """Edit the cart address pattern; an invalid one is shown again with why, nothing saved."""
    merchant = current_merchant()
    form = ShopSettingsForm(data={"cart_url_pattern": merchant.cart_url_pattern or ""})
    status = 200
    if form.validate_on_submit():
        try:
            with transaction():
                stored = cart.set_pattern(merchant, form.cart_url_pattern.data)
        except cart.CartPatternError as exc:
            form.cart_url_pattern.errors = [str(exc)]
            status = 422
        else:
            flash(
                "Saved. Results show “Add to cart” on every pick."
                if stored
                else "Saved. Results show “View in shop” only."
            )
            return redirect(url_for("admin.shop_settings"))
    return _page(merchant, form, _bought_form(merchant)), status


@bp.post("/settings/bought")
@admin_required
def bought_settings() -> ResponseReturnValue:
    """Keep how long bought products stay out of picks and the categories bought again; 422 with why, nothing saved."""
    merchant = current_merchant()
    form = BoughtSettingsForm()
    if form.validate_on_submit():
        try:
            with transaction():
                bought.change_settings(merchant, form.hide_bought_days.data, form.rebuy_categories.data)
        except bought.BoughtSettingsError as exc:
            form.show_problems(exc.fields)
        else:
            days = merchant.hide_bought_days
            flash(
                f"Saved. Products a shopper bought are not recommended to them again for {days} days."
                if days
                else "Saved. Products a shopper bought can be recommended to them again at once."
            )
            return redirect(url_for("admin.shop_settings", _anchor="bought"))
    cart_form = ShopSettingsForm(formdata=None, data={"cart_url_pattern": merchant.cart_url_pattern or ""})
    return _page(merchant, cart_form, form), 422


def _bought_form(merchant: Merchant) -> BoughtSettingsForm:
    data = {"hide_bought_days": merchant.hide_bought_days, "rebuy_categories": list(merchant.rebuy_categories or [])}
    return BoughtSettingsForm(formdata=None, data=data)


def _page(merchant: Merchant, form: ShopSettingsForm, bought_form: BoughtSettingsForm) -> str:
    example = cart.cart_url(merchant, "ABC-123") if merchant.cart_url_pattern else None
    return render_template(
        "admin/settings.html",
        merchant=merchant,
        form=form,
        example=example,
        bought_form=bought_form,
        groups=bought.category_groups(merchant),
        chosen=set(bought_form.rebuy_categories.data or []),
        max_days=bought.MAX_HIDE_DAYS,
    )
