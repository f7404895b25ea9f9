"""The API description covers every API route the app serves."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from .helpers import full_answers

CONSENT = {"purposes": {"recommendations": True, "profile": False, "email": False, "sms": False}}


def _served(app: Flask) -> set[tuple[str, str]]:
    """Return (method, OpenAPI path) of every route of the `api` blueprint the app serves."""
    return {
        (method.lower(), re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule))
        for rule in app.url_map.iter_rules()
        if rule.endpoint.startswith("api.")
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }


def _resolve(spec: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    """Follow a local $ref to the component it names."""
    if "$ref" not in schema:
        return schema
    return spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]


def test_the_document_describes_exactly_the_api_routes_served(app: Flask, client: FlaskClient) -> None:
    """Every api. endpoint in the URL map is in the document, and every documented operation is served."""
    spec = client.get("/api/v1/openapi.json").json
    assert spec["openapi"].startswith("3.")
    described = {(method, path) for path, ops in spec["paths"].items() for method in ops}
    served = _served(app)
    assert len(served) > 30
    assert served == described - {("get", "/healthz")}, (served - described, described - served)


def test_a_new_route_without_documentation_is_left_out_and_caught(new_app: Callable[..., Flask]) -> None:
    """An undocumented view added to the api blueprint makes the served and described sets differ."""
    app = new_app()
    app.add_url_rule("/api/v1/undocumented", "api.undocumented", lambda: "", methods=["GET"])
    spec = app.test_client().get("/api/v1/openapi.json").json
    assert "/api/v1/undocumented" not in spec["paths"]
    described = {(method, path) for path, ops in spec["paths"].items() for method in ops}
    assert ("get", "/api/v1/undocumented") in _served(app) - described


def test_named_bodies_are_components(client: FlaskClient) -> None:
    """Items, products, the error body and a consent decision are named types clients can generate."""
    spec = client.get("/api/v1/openapi.json").json
    components = spec["components"]["schemas"]
    assert {"Item", "Product", "Error", "ConsentDecision", "Segment", "Webhook"} <= set(components)
    consent = spec["paths"]["/api/v1/m/{slug}/consents"]["post"]
    assert consent["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ConsentDecision"
    }
    error = consent["responses"]["4XX"]["content"]["application/json"]["schema"]
    assert _resolve(spec, error)["required"] == ["error", "fields"]
    products = spec["paths"]["/api/v1/products"]["get"]["responses"]["200"]["content"]["application/json"]
    assert products["schema"]["properties"]["items"]["items"] == {"$ref": "#/components/schemas/Product"}


def test_request_bodies_come_from_the_live_schemas(client: FlaskClient) -> None:
    spec = client.get("/api/v1/openapi.json").json
    consent = spec["paths"]["/api/v1/m/{slug}/consents"]["post"]["requestBody"]["content"]["application/json"]
    purposes = _resolve(spec, consent["schema"])["properties"]["purposes"]
    assert purposes["required"] == ["recommendations"]
    assert purposes["properties"]["sms"] == {"type": "boolean"}


def test_the_rate_limited_operations_document_their_429(new_app: Callable[..., Flask]) -> None:
    limited = new_app(
        RATELIMIT_CONSENT="1 per minute", RATELIMIT_RECOMMENDATIONS="1 per minute", RATELIMIT_EVENTS="1 per minute"
    )
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
        ("post", "/api/v1/m/{slug}/events"): lambda: client.post(
            "/api/v1/m/demo/events", json={"type": "product_view", "product_id": "TS-0001"}, headers=shopper
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


def test_every_operation_with_a_body_documents_its_413_and_answers_it(app: Flask, client: FlaskClient) -> None:
    """Sent one byte more than the limit its 413 names, each answers 413 in the error format, unread."""
    from .test_hostile_uploads import VirtualBody

    spec = client.get("/api/v1/openapi.json").json
    limits = {
        "ATTUNE_MAX_CONTENT_LENGTH": app.config["MAX_CONTENT_LENGTH"],
        "2 MB": 2 * 1024 * 1024,
        "ATTUNE_MAX_BODY_LENGTH": app.config["MAX_BODY_LENGTH"],
    }
    checked = []
    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            assert ("413" in op["responses"]) == ("requestBody" in op), (method, path)
            if "413" not in op["responses"]:
                continue
            limit = next(size for name, size in limits.items() if name in op["responses"]["413"]["description"])
            body = VirtualBody(b"{", limit + 1, b"}")
            url = re.sub(r"\{slug\}", "demo", re.sub(r"\{(?!slug)\w+\}", "0" * 32, path))
            response = client.open(url, method=method.upper(), input_stream=body, content_type="application/json")
            assert response.status_code == 413, (method, path, response.status_code)
            assert set(response.json) == {"error", "fields"} and body.furthest == 0, (method, path)
            checked.append((method, path))
    assert ("put", "/api/v1/quiz") in checked and ("post", "/api/v1/catalog/imports") in checked
