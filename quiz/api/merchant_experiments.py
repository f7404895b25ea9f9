"""A/B tests of quiz versions and ranking settings: create, list, read with results, start, stop, winner."""

from __future__ import annotations

from flask import jsonify
from flask.typing import ResponseReturnValue

from ..outcomes import experiments
from ..platform.db import transaction
from . import bp
from .auth import current_merchant, merchant_required
from .documented import documented
from .experiment_schemas import ExperimentIn, WinnerIn, experiment_in, winner_in
from .openapi_schemas import OBJECT, Items
from .parsing import json_body


@bp.post("/experiments")
@documented(
    "Create a draft A/B test of quiz versions or ranking settings (two or more weighted variants)",
    auth="merchant",
    body=ExperimentIn,
    status=201,
    response=OBJECT,
)
@merchant_required
def post_experiment() -> ResponseReturnValue:
    """Create a draft experiment; 422 with field messages when its variants do not hold up."""
    merchant = current_merchant()
    data = experiment_in.load(json_body())
    with transaction():
        experiment = experiments.create(merchant, data)
        body = experiments.results(experiment)
    return jsonify(body), 201


@bp.get("/experiments")
@documented("A/B tests with each variant's results", auth="merchant", response=Items(OBJECT))
@merchant_required
def get_experiments() -> ResponseReturnValue:
    """Return the merchant's experiments with each variant's results, newest first."""
    return jsonify({"items": [experiments.results(e) for e in experiments.listed(current_merchant())]})


@bp.get("/experiments/<experiment_id>")
@documented(
    "One A/B test: exposures, outcomes, rate with a 95% interval and significance per variant",
    auth="merchant",
    response=OBJECT,
)
@merchant_required
def get_experiment(experiment_id: str) -> ResponseReturnValue:
    """Return one experiment: each variant's exposures, outcomes, rate with a 95% interval, significance."""
    return jsonify(experiments.results(experiments.get_or_404(current_merchant(), experiment_id)))


@bp.post("/experiments/<experiment_id>/start")
@documented("Start assigning shoppers (one running test per shop)", auth="merchant", response=OBJECT)
@merchant_required
def start_experiment(experiment_id: str) -> ResponseReturnValue:
    """Start assigning shoppers to the variants (409 while another experiment runs)."""
    merchant = current_merchant()
    with transaction():
        experiment = experiments.start(merchant, experiments.get_or_404(merchant, experiment_id))
        body = experiments.results(experiment)
    return jsonify(body)


@bp.post("/experiments/<experiment_id>/stop")
@documented("Stop assigning shoppers", auth="merchant", response=OBJECT)
@merchant_required
def stop_experiment(experiment_id: str) -> ResponseReturnValue:
    """Stop assigning shoppers; everyone gets the live quiz again."""
    merchant = current_merchant()
    with transaction():
        experiment = experiments.stop(experiments.get_or_404(merchant, experiment_id))
        body = experiments.results(experiment)
    return jsonify(body)


@bp.post("/experiments/<experiment_id>/winner")
@documented(
    "Declare the winning variant: stops the test and publishes its quiz version",
    auth="merchant",
    body=WinnerIn,
    response=OBJECT,
)
@merchant_required
def post_winner(experiment_id: str) -> ResponseReturnValue:
    """Declare a variant the winner: the experiment stops and its quiz version is published."""
    merchant = current_merchant()
    experiment = experiments.get_or_404(merchant, experiment_id)
    data = winner_in.load(json_body())
    with transaction():
        published = experiments.declare_winner(merchant, experiment, data["variant"])
        body = {**experiments.results(experiment), "published_version": published}
    return jsonify(body)
