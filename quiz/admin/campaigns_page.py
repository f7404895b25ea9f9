"""Campaign exports and the outbox in the admin."""

from __future__ import annotations

from flask import abort, render_template
from flask.typing import ResponseReturnValue
from wtforms import SelectChoice

from ..marketing import campaigns, segments
from ..platform import mailer
from ..platform.downloads import attachment
from . import bp
from .auth import admin_required, current_merchant
from .forms import CampaignExportForm


@bp.route("/campaigns", methods=["GET", "POST"])
@admin_required
def campaign_export() -> ResponseReturnValue:
    """Show how many shoppers each channel reaches; download a channel's export."""
    merchant = current_merchant()
    form = CampaignExportForm()
    form.segment.choices = [
        *form.segment.choices,
        *(SelectChoice(s.id, s.name) for s in segments.list_segments(merchant)),
    ]
    if form.validate_on_submit():
        segment = segments.get(merchant, form.segment.data) if form.segment.data else None
        if form.segment.data and segment is None:
            abort(404, description="No such segment.")
        export = campaigns.export(merchant, form.channel.data, form.format.data, form.products.data, segment)
        return attachment(export.body, export.mimetype, export.filename)
    counts = {channel: campaigns.count(merchant, channel) for channel in campaigns.CHANNELS}
    status = 422 if form.errors else 200
    return render_template("admin/campaigns.html", merchant=merchant, form=form, counts=counts), status


@bp.get("/outbox")
@admin_required
def outbox() -> ResponseReturnValue:
    """List the messages written to the outbox for this merchant (when no SMTP server is set)."""
    merchant = current_merchant()
    return render_template("admin/outbox.html", merchant=merchant, messages=mailer.outbox(merchant.slug))
