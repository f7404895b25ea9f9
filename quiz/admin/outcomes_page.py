"""Outcome pages: the revenue the quiz brought (with charts), and uploading the shop's orders."""

from __future__ import annotations

from flask import current_app, render_template
from flask.typing import ResponseReturnValue

from ..outcomes import attribution
from ..outcomes.events import shop_currency
from ..outcomes.order_imports import OrderFileRejected, import_orders, parse_for
from ..platform.body_limits import UPLOAD, body_limit
from . import bp
from .auth import admin_required, current_merchant
from .outcome_forms import OrdersUploadForm
from .ranges import date_range

ERRORS_SHOWN = 50


@bp.get("/outcomes")
@admin_required
def outcomes_report() -> ResponseReturnValue:
    """Show quiz-influenced orders and revenue, conversion, per channel and quiz version (default: 30 days)."""
    start, end, errors = date_range()
    merchant = current_merchant()
    report = attribution.report(merchant, start, end, current_app.config["ATTRIBUTION_WINDOW_DAYS"])
    return render_template(
        "admin/outcomes.html", merchant=merchant, report=report, errors=errors, currency=shop_currency(merchant) or ""
    )


@bp.route("/orders", methods=["GET", "POST"])
@body_limit(UPLOAD)
@admin_required
def orders_upload() -> ResponseReturnValue:
    """Import an order file (Shopify's orders CSV or an invoices table); rows that cannot be read are listed."""
    merchant = current_merchant()
    form = OrdersUploadForm()
    parsed = summary = None
    status = 200
    if form.validate_on_submit():
        upload = form.file.data
        try:
            parsed = parse_for(merchant, upload.read(), form.currency.data)
        except OrderFileRejected as exc:
            field = form.currency if str(exc).startswith("currency") or "--currency" in str(exc) else form.file
            field.errors = [_sentence(str(exc))]
            status = 422
        else:
            if parsed.orders:
                summary = import_orders(merchant, parsed)
            else:
                form.file.errors = [f"No order in this file could be imported ({len(parsed.errors)} rows skipped)."]
                status = 422
    elif form.is_submitted():
        status = 422
    return render_template(
        "admin/orders.html",
        merchant=merchant,
        form=form,
        parsed=parsed,
        summary=summary,
        shown_errors=ERRORS_SHOWN,
        filename=form.file.data.filename if summary and form.file.data else "",
    ), status


def _sentence(message: str) -> str:
    """Return a service message as a sentence for the form: "Not an order export ..."."""
    message = message.replace("give --currency", "give its currency below")
    return message[:1].upper() + message[1:] + ("" if message.endswith(".") else ".")
