"""The API description covers every API route the app serves."""

from __future__ import annotations

import re

from flask import Flask
from flask.testing import FlaskClient


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
