"""A/B test pages: create a test, read each variant's numbers and the verdict, start, stop, choose a winner."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from marshmallow import ValidationError
from wtforms import SelectChoice

from .. import quizzes
from ..api.experiment_schemas import experiment_in
from ..models import Experiment, Merchant
from ..outcomes import experiments, verdicts
from ..platform.db import transaction
from ..platform.errors import ApiError
from . import bp
from .auth import admin_required, current_merchant
from .forms import ActionForm
from .outcome_forms import ExperimentForm


def _version_choices(merchant: Merchant) -> list[SelectChoice]:
    rows = quizzes.versions(merchant)
    live = rows[0].version if rows else None
    choices = [SelectChoice("", f"The live quiz (version {live})")]
    for row in rows:
        title = str((row.definition or {}).get("title") or "")[:60]
        label = f"Version {row.version}" + (f": {title}" if title else "") + (" (live)" if row.version == live else "")
        choices.append(SelectChoice(str(row.version), label))
    return choices


@bp.route("/experiments", methods=["GET", "POST"])
@admin_required
def experiment_list() -> ResponseReturnValue:
    """List the shop's A/B tests and create a new one (a draft, started from its page)."""
    merchant = current_merchant()
    form = ExperimentForm()
    form.set_versions(_version_choices(merchant))
    if request.method == "GET":
        for n, entry in enumerate(form.variants):
            entry.form.name.data = ("A", "B", "")[n]
    status = 200
    if form.validate_on_submit():
        try:
            data = experiment_in.load(form.data_for_api())
            with transaction():
                experiment = experiments.create(merchant, data)
        except ValidationError as exc:
            form.show_problems(exc.messages if isinstance(exc.messages, dict) else {"name": exc.messages})
            status = 422
        except ApiError as exc:
            form.show_problems(exc.fields or {})
            status = 422
        else:
            flash(f"Test {experiment.name!r} created as a draft. Start it when you are ready.", "success")
            return redirect(url_for("admin.experiment_detail", experiment_id=experiment.id))
    elif form.is_submitted():
        status = 422
    tests = [(e, verdicts.verdict(experiments.results(e))) for e in experiments.listed(merchant)]
    return render_template("admin/experiments.html", merchant=merchant, form=form, tests=tests), status


def _experiment_or_404(experiment_id: str) -> Experiment:
    try:
        return experiments.get_or_404(current_merchant(), experiment_id)
    except ApiError:
        abort(404, description="No such test.")


@bp.get("/experiments/<experiment_id>")
@admin_required
def experiment_detail(experiment_id: str) -> ResponseReturnValue:
    """Show one test: per variant its shoppers, outcomes and rate with a 95% interval, and the verdict."""
    experiment = _experiment_or_404(experiment_id)
    results = experiments.results(experiment)
    return render_template(
        "admin/experiment.html",
        merchant=current_merchant(),
        results=results,
        verdict=verdicts.verdict(results),
        shown=verdicts.shown,
        metric_name=verdicts.METRIC_NAMES[results["metric"]],
        form=ActionForm(),
    )


@bp.post("/experiments/<experiment_id>/<action>")
@admin_required
def experiment_action(experiment_id: str, action: str) -> ResponseReturnValue:
    """Start, stop, or choose a winner (which stops the test and makes the winner what every shopper gets)."""
    merchant = current_merchant()
    experiment = _experiment_or_404(experiment_id)
    if action not in ("start", "stop", "winner") or not ActionForm().validate_on_submit():
        abort(400, description="This form expired; reload the page and try again.")
    try:
        with transaction():
            if action == "start":
                experiments.start(merchant, experiment)
                flash("The test is running: shoppers are now split between the variants.", "success")
            elif action == "stop":
                experiments.stop(experiment)
                flash("The test is stopped: every shopper gets the live quiz again. The results stay.", "success")
            else:
                name = request.form.get("variant", "")
                published = experiments.declare_winner(merchant, experiment, name)
                what = (
                    f"its quiz is live as version {published}" if published else "its ranking settings are the shop's"
                )
                flash(f"{name} is the winner: {what}, for every shopper.", "success")
    except ApiError as exc:
        problems = " ".join(" ".join(v) for v in (exc.fields or {}).values() if isinstance(v, list))
        flash(f"{exc.message} {problems}".strip(), "error")
    return redirect(url_for("admin.experiment_detail", experiment_id=experiment.id))
