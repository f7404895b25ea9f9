"""The API description at /api/v1/openapi.json, generated from the routes the app serves.

Each view carries its own description (``@documented`` in quiz/api/documented.py); this module
walks the URL map, reads those descriptions and assembles the document with apispec. Bodies are
translated from the same marshmallow schemas the views load and dump with; named bodies become
components.
"""

from __future__ import annotations

import re
from typing import Any

from apispec import APISpec
from flask import current_app, jsonify
from flask.typing import ResponseReturnValue
from marshmallow import Schema
from werkzeug.routing import Rule

from . import bp
from .documented import Body, Operation, documented, operation_of
from .openapi_schemas import ERROR, OBJECT, Component, Items, obj, query_parameters, schema_json

_CONVERTED = re.compile(r"<(?:\w+:)?(\w+)>")
_PATH_PARAMETER = re.compile(r"{(\w+)}")
DESCRIPTION = (
    "Shopper-facing text (quiz, explainer, reasons, answer errors) is in the language "
    "of the `lang` query parameter (en, es), else of the Accept-Language header, else English. "
    "No text accepts the NUL character (U+0000): a query parameter or JSON string holding one "
    "is answered 400 with the fields named."
)
SECURITY_SCHEMES = {
    "subject": {"type": "http", "scheme": "bearer", "description": "subject_token from POST /consents"},
    "merchant": {"type": "http", "scheme": "bearer", "description": "a merchant API key"},
}
UPLOAD_FORM = obj(
    ("file",),
    file={"type": "string", "format": "binary"},
    format={"type": "string"},
    mode={"type": "string", "enum": ["upsert", "full"]},
    dry_run={"type": "string", "enum": ["true", "false"]},
)


def component_name(schema: type[Schema]) -> str:
    """Return the component name of a marshmallow schema class: its ``openapi_name``, else ItemOut -> Item,
    RecommendationsIn -> RecommendationsRequest."""
    name = schema.__dict__.get("openapi_name") or schema.__name__
    for suffix, replacement in (("Out", ""), ("In", "Request"), ("Schema", "Request")):
        if name.endswith(suffix) and name != suffix:
            return name.removesuffix(suffix) + replacement
    return name


class _Document:
    """An APISpec being filled: operations in, components registered once as they are referenced."""

    def __init__(self) -> None:
        self.spec = APISpec(title="Attune API", version="1", openapi_version="3.1.0", info={"description": DESCRIPTION})
        self.named: dict[str, dict[str, Any]] = {}
        for name, scheme in SECURITY_SCHEMES.items():
            self.spec.components.security_scheme(name, scheme)

    def ref(self, name: str, schema: dict[str, Any]) -> dict[str, Any]:
        """Register ``schema`` as component ``name`` (once) and return a reference to it."""
        known = self.named.setdefault(name, schema)
        if known is not schema and known != schema:
            raise ValueError(f"Two different schemas are named {name}")
        if name not in self.spec.components.schemas:
            self.spec.components.schema(name, schema)
        return {"$ref": f"#/components/schemas/{name}"}

    def body(self, body: Body) -> dict[str, Any]:
        """Return the JSON Schema of a body: a reference when it has a name, else inline."""
        if isinstance(body, type):
            return self.ref(component_name(body), schema_json(body()))
        if isinstance(body, Component):
            return self.ref(body.name, body.schema)
        if isinstance(body, Items):
            return body.json(self.body(body.schema))
        return body

    def error(self) -> dict[str, Any]:
        return {"application/json": {"schema": self.body(ERROR)}}

    def too_large(self, op: Operation) -> dict[str, Any]:
        """Return the 413 response of an operation that takes a body, naming its limit."""
        if op.multipart:
            limit = "ATTUNE_MAX_CONTENT_LENGTH (50 MB by default), or more than MAX_FORM_PARTS fields"
        elif op.larger_body:
            limit = "2 MB (a quiz definition may be up to 1,000,000 characters as JSON)"
        else:
            limit = "ATTUNE_MAX_BODY_LENGTH (256 KB by default)"
        return {
            "description": f"The body is larger than this endpoint's limit: {limit}; refused before it is read",
            "content": self.error(),
        }

    def rate_limited(self) -> dict[str, Any]:
        return {
            "description": "Too many requests; try again after Retry-After seconds",
            "headers": {"Retry-After": {"required": True, "schema": {"type": "integer", "minimum": 1}}},
            "content": self.error(),
        }

    def request_body(self, op: Operation) -> dict[str, Any] | None:
        if op.multipart:
            return {"required": True, "content": {"multipart/form-data": {"schema": UPLOAD_FORM}}}
        if op.body is None:
            return None
        schema = self.body(op.body)
        if op.defaulted:  # not the component: the same body with fewer required fields
            full = schema_json(op.body()) if isinstance(op.body, type) else self.body(op.body)
            required = [name for name in full.get("required", []) if name not in op.defaulted]
            schema = {**full, "required": required}
        return {"required": True, "content": {"application/json": {"schema": schema}}}

    def operation(self, op: Operation, path: str) -> dict[str, Any]:
        """Return the OpenAPI operation object of one documented view at ``path``."""
        success: dict[str, Any] = {"description": "OK"}
        if op.status != 204:
            schema = self.body(op.response) if op.response is not None else {}
            success["content"] = {m: {"schema": schema if m == "application/json" else {}} for m in op.media}
        responses: dict[str, Any] = {str(op.status): success, "4XX": {"description": "Error", "content": self.error()}}
        if op.also is not None:
            status, body, description = op.also
            responses[str(status)] = {
                "description": description,
                "content": {"application/json": {"schema": self.body(body)}},
            }
        if op.limited:
            responses["429"] = self.rate_limited()
        request_body = self.request_body(op)
        if request_body is not None:
            responses["413"] = self.too_large(op)
        spec: dict[str, Any] = {"summary": op.summary, "responses": responses}
        parameters = [
            {"name": name, "in": "path", "required": True, "schema": {"type": "string", "minLength": 1}}
            for name in _PATH_PARAMETER.findall(path)
        ] + (query_parameters(op.query()) if op.query else [])
        if parameters:
            spec["parameters"] = parameters
        if op.auth:
            spec["security"] = [{op.auth: []}]
        if request_body is not None:
            spec["requestBody"] = request_body
        return spec


def openapi_path(rule: Rule) -> str:
    """Return a Flask rule as an OpenAPI path: /m/<slug>/quiz -> /m/{slug}/quiz."""
    return _CONVERTED.sub(r"{\1}", rule.rule)


def rule_methods(rule: Rule) -> list[str]:
    """Return the methods a rule answers that the document describes (not HEAD or OPTIONS)."""
    return sorted(method.lower() for method in (rule.methods or set()) - {"HEAD", "OPTIONS"})


def build_spec() -> dict[str, Any]:
    """Return the OpenAPI 3.1 document of every documented route of the current app."""
    document = _Document()
    paths: dict[str, dict[str, Any]] = {}
    for rule in sorted(current_app.url_map.iter_rules(), key=lambda r: r.rule):
        op = operation_of(current_app.view_functions[rule.endpoint])
        if op is None:
            continue
        path = openapi_path(rule)
        for method in rule_methods(rule):
            paths.setdefault(path, {})[method] = document.operation(op, path)
    for path, operations in paths.items():
        document.spec.path(path=path, operations=operations)
    return document.spec.to_dict()


@bp.get("/openapi.json")
@documented("This document", response=OBJECT)
def openapi() -> ResponseReturnValue:
    """Describe the API."""
    return jsonify(build_spec())
