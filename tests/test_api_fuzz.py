"""Schemathesis against /api/v1/openapi.json, in-process through the WSGI app, with every check on.

Every documented operation gets positive (schema-valid) and negative (schema-breaking) requests,
as the demo merchant (a real API key) and as a shopper (a fresh subject token per request), with
real ids of the demo's segment, webhook, import and profile in the paths. A run must end with 0
server errors and 0 failed checks; the few checks that do not apply somewhere are excluded below,
each with why. Bounded for CI by FUZZ_EXAMPLES per operation and mode (40 by default, about 25 s on a quiet
machine); the time taken is printed, never asserted (speed lives in bench/).
"""

from __future__ import annotations

import os
import time
import traceback
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, Phase, given, settings

from .helpers import full_answers, grant

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "40"))


def _checks() -> dict[str, Any]:
    from schemathesis.specs.openapi import checks

    return {"positive_data_acceptance": checks.positive_data_acceptance}


# Operations whose rules a JSON Schema cannot state, so that schema-valid data is still refused (422)
# by design: positive_data_acceptance ("valid data is accepted") does not apply to them.
SEMANTIC = {
    ("POST", "/api/v1/m/{slug}/consents"): "explainer_version must be the current version, which changes",
    ("POST", "/api/v1/m/{slug}/recommendations"): "answers are checked against the merchant's live quiz",
    ("POST", "/api/v1/m/{slug}/responses"): "answers are checked against the live quiz (required questions)",
    ("PATCH", "/api/v1/me/consents"): "withdrawing recommendations or a purpose already withdrawn; "
    "anything once every purpose is withdrawn (410)",
    ("POST", "/api/v1/catalog/imports"): "a file of random bytes is no catalog: 422 with the reason",
    ("PUT", "/api/v1/quiz"): "a quiz definition has cross-references (show_if, unique ids, locales)",
    ("POST", "/api/v1/segments"): "answer rules must name questions and options of the live quiz; names unique",
    ("POST", "/api/v1/segments/count"): "answer rules must name questions and options of the live quiz",
    ("PUT", "/api/v1/segments/{segment_id}"): "as POST /segments",
    ("POST", "/api/v1/webhooks"): "the URL must be http(s) with a host at a public address; at most 10 webhooks",
    ("PUT", "/api/v1/widget/origins"): "each origin must be scheme://host[:port], which a length limit cannot state",
    ("POST", "/api/v1/m/{slug}/events"): "product ids in the catalog, the currency the shop's, the time recent; "
    "a view names its product, a purchase its order; attune_ref must be signed",
    ("POST", "/api/v1/orders"): "the currency must be the shop's; attune_ref must be signed by Attune",
    ("GET", "/api/v1/analytics/outcomes"): "'to' must not be before 'from', and the range at most a year",
    ("POST", "/api/v1/experiments"): "quiz versions must be the shop's; variant names distinct",
    ("POST", "/api/v1/experiments/{experiment_id}/start"): "only a draft starts, one running experiment a shop (409)",
    ("POST", "/api/v1/experiments/{experiment_id}/stop"): "only a running experiment stops (409)",
    ("POST", "/api/v1/experiments/{experiment_id}/winner"): "the variant must be one of the experiment's",
    ("PATCH", "/api/v1/settings"): (
        "the cart pattern must be https with {id} or {sku}, categories bought again must be the catalog's; "
        "a misspelt setting is refused"
    ),
}


@pytest.fixture
def demo_state(app: Flask) -> Iterator[dict[str, str]]:
    """Give the demo a key, a segment, a webhook and a failed import to fuzz; put its settings back after."""
    from quiz import merchants
    from quiz.catalog import imports
    from quiz.marketing import segments
    from quiz.merchants import api_keys, webhooks
    from quiz.models import ApiKey, CatalogImport
    from quiz.outcomes import experiments
    from quiz.platform.db import get_session, transaction

    with app.app_context():
        with transaction():
            demo = merchants.get_by_slug("demo")
            saved = {"partner_origins": list(demo.partner_origins or []), "column_mapping": demo.column_mapping}
            saved |= {"hide_bought_days": demo.hide_bought_days, "rebuy_categories": list(demo.rebuy_categories)}
            row, key = api_keys.issue(demo)
            segment = segments.save(demo, {"name": "fuzz", "rules": [{"kind": "consent", "purpose": "email"}]})
            hook = webhooks.register(demo, "https://hooks.invalid/events")  # .invalid never resolves: nothing is sent
            arms = [{"name": "A", "weight": 1}, {"name": "B", "weight": 1}]
            trial = experiments.create(demo, {"name": "fuzz", "metric": "completion", "variants": arms})
        job = imports.create_import(demo, b"id,title,price\nF1,,1\nF2,Fuzz cup,2\n", "fuzz.csv")
        with transaction():
            job.status, job.message = "failed", "kept failed so that no worker runs it"
        (imports.upload_folder() / job.id).unlink(missing_ok=True)
        ids = {"key": key, "key_id": str(row.id), "segment_id": segment.id, "webhook_id": hook.id, "import_id": job.id}
        ids["experiment_id"] = trial.id
    yield ids
    with app.app_context(), transaction():
        demo = merchants.get_by_slug("demo")
        demo.partner_origins, demo.column_mapping = saved["partner_origins"], saved["column_mapping"]
        demo.hide_bought_days, demo.rebuy_categories = saved["hide_bought_days"], saved["rebuy_categories"]
        get_session().execute(sa.delete(ApiKey).where(ApiKey.id == int(ids["key_id"])))
        get_session().execute(sa.delete(CatalogImport).where(CatalogImport.merchant_id == demo.id))
        for leftover in imports.upload_folder().iterdir():
            leftover.unlink(missing_ok=True)


def fuzz(
    operation: Any,
    mode: Any,
    *,
    path_parameters: dict[str, str],
    headers: Callable[[], dict[str, str]],
    excluded: list[Any],
    statuses: Counter[int],
) -> int:
    """Send up to EXAMPLES generated requests to one operation in one mode, checking each; return how many."""
    sent = 0

    @settings(
        max_examples=EXAMPLES,
        phases=[Phase.explicit, Phase.generate],  # no shrinking: the first failure is reported as found
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=mode, path_parameters=path_parameters))
    def run(case: Any) -> None:
        nonlocal sent
        # A negative case may drop or break the credentials on purpose: then send none of ours.
        credentials = {} if operation.schema.is_security_param_negated(case) else headers()
        response = case.call_and_validate(headers=credentials, excluded_checks=excluded)
        statuses[response.status_code] += 1
        if os.environ.get("FUZZ_TRACE"):
            print(operation.method.upper(), operation.path, mode.value, response.status_code)
        sent += 1

    run()
    return sent


def test_api_matches_its_openapi_document(app: Flask, client: FlaskClient, demo_state: dict[str, str]) -> None:
    import schemathesis
    from hypothesis.errors import Unsatisfiable
    from schemathesis import GenerationMode
    from schemathesis.core.failures import FailureGroup

    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    # The document says no text accepts NUL (400, tests/test_nul_characters.py), which JSON Schema
    # cannot state per field: valid data is generated without it.
    schema.config.generation.update(allow_x00=False)
    shopper = grant(client, "demo", profile=True, email=True)
    profile = client.post("/api/v1/m/demo/responses", json={"answers": full_answers()}, headers=shopper).json
    fixed = {**demo_state, "slug": "demo", "profile_id": profile["profile_id"]}
    merchant = {"Authorization": f"Bearer {demo_state['key']}"}
    positive_data_acceptance = _checks()["positive_data_acceptance"]

    started = time.monotonic()
    counts: Counter[str] = Counter()
    statuses: Counter[int] = Counter()
    problems: list[str] = []
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 30, "every documented operation loads"
    for operation in operations:
        method, path = operation.method.upper(), operation.path
        security = next(iter((operation.definition.raw.get("security") or [{}])[0]), None)

        def headers(security: str | None = security, method: str = method, path: str = path) -> dict[str, str]:
            if security == "merchant":
                return merchant
            if security != "subject":
                return {}
            if (method, path) == ("DELETE", "/api/v1/me"):
                return grant(client, "demo", profile=True, email=True)  # erasing withdraws the token's consents
            return shopper

        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            try:
                counts[mode.value] += fuzz(
                    operation,
                    mode,
                    path_parameters={name: value for name, value in fixed.items() if "{" + name + "}" in path},
                    headers=headers,
                    excluded=[positive_data_acceptance] if (method, path) in SEMANTIC else [],
                    statuses=statuses,
                )
            except Unsatisfiable:
                # Nothing to break: no parameters and no body (GET /healthz, /quiz, /explainer) has no negative case.
                assert mode == GenerationMode.NEGATIVE, f"{method} {path}: no positive case could be generated"
                counts["no negative case"] += 1
            except FailureGroup as exc:
                problems.append(f"{method} {path} ({mode.value}):\n{exc}")
            except Exception as exc:  # a crash of the app under test surfaces here, with its request
                where = "".join(traceback.format_exception(exc)[-6:])
                problems.append(f"{method} {path} ({mode.value}): {type(exc).__name__}: {exc}\n{where}")
    seconds = time.monotonic() - started
    print(
        f"schemathesis: {len(operations)} operations, {sum(counts.values())} requests {dict(counts)}, "
        f"statuses {dict(sorted(statuses.items()))}, {seconds:.1f} s"
    )
    assert not problems, "\n\n".join(problems)
    assert statuses[500] == 0
