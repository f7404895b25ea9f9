"""The API description covers every API route the app serves."""

from __future__ import annotations

import re
from collections.abc import Callable

from flask import Flask
from flask.testing import FlaskClient

from .helpers import full_answers

CONSENT = {"purposes": {"recommendations": True, "profile": False, "email": False, "sms": False}}


def test_every_api_route_is_described(app: Flask, client: FlaskClient) -> None:
    spec = client.get("/api/v1/openapi.json").json
    assert spec["openapi"].startswith("3.")
    served = {
        (method.lower(), re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule))
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/api/v1")
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    described = {(method, path) for path, ops in spec["paths"].items() for method in ops}
    assert served <= described, served - described


def test_request_bodies_come_from_the_live_schemas(client: FlaskClient) -> None:
    spec = client.get("/api/v1/openapi.json").json
    consent = spec["paths"]["/api/v1/m/{slug}/consents"]["post"]["requestBody"]["content"]["application/json"]
    purposes = consent["schema"]["properties"]["purposes"]
    assert purposes["required"] == ["recommendations"]
    assert purposes["properties"]["sms"] == {"type": "boolean"}


def test_the_rate_limited_operations_document_their_429(new_app: Callable[..., Flask]) -> None:
    limited = new_app(RATELIMIT_CONSENT="1 per minute", RATELIMIT_RECOMMENDATIONS="1 per minute")
    client = limited.test_client()
    spec = client.get("/api/v1/openapi.json").json
    documented = {(m, p) for p, ops in spec["paths"].items() for m, op in ops.items() if "429" in op["responses"]}
    shopper = {"Authorization": "Bearer " + client.post("/api/v1/m/demo/consents", json=CONSENT).json["subject_token"]}
    calls = {
        ("post", "/api/v1/m/{slug}/consents"): lambda: client.post("/api/v1/m/demo/consents", json=CONSENT),
        ("post", "/api/v1/m/{slug}/recommendations"): lambda: client.post(
            "/api/v1/m/demo/recommendations", json={"answers": full_answers()}, headers=shopper
        ),
        ("post", "/api/v1/m/{slug}/responses"): lambda: client.post(
            "/api/v1/m/demo/responses", json={"answers": full_answers()}, headers=shopper
        ),
        ("patch", "/api/v1/me/consents"): lambda: client.patch(
            "/api/v1/me/consents", json={"purposes": {"email": True}}, headers=shopper
        ),
    }
    assert documented == set(calls)
    for operation, call in calls.items():
        responses = [call() for _ in range(3)]
        refused = [r for r in responses if r.status_code == 429]
        assert refused, f"{operation}: never limited"
        assert int(refused[0].headers["Retry-After"]) >= 1 and refused[0].json["error"], operation
