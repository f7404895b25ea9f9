"""The API description at /api/v1/openapi.json, built from the same schemas the views use."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import jsonify
from flask.typing import ResponseReturnValue
from marshmallow import Schema, fields

from . import bp
from .merchant_widget import OriginsIn
from .schemas import (
    ConsentIn,
    ConsentPatchIn,
    ImportOut,
    ImportSummaryOut,
    ItemOut,
    ProductOut,
    QuizOut,
    RecommendationsIn,
    ResponsesIn,
)

ERROR = {
    "type": "object",
    "properties": {"error": {"type": "string"}, "fields": {"type": "object"}},
    "required": ["error", "fields"],
}


@dataclass(frozen=True)
class Operation:
    """One documented endpoint."""

    method: str
    path: str
    summary: str
    auth: str | None = None  # "subject" (token from /consents) or "merchant" (API key)
    body: type[Schema] | None = None
    status: int = 200
    response: dict[str, Any] | type[Schema] | Items | None = None
    multipart: bool = False


@dataclass(frozen=True)
class Items:
    """A response body ``{"items": [SCHEMA, ...], **extra}``."""

    schema: type[Schema]
    extra: tuple[tuple[str, str | list[str]], ...] = ()

    def json(self) -> dict[str, Any]:
        """Return the JSON Schema of the body."""
        properties: dict[str, Any] = {"items": {"type": "array", "items": schema_json(self.schema())}}
        properties.update({name: {"type": kind} for name, kind in self.extra})
        return {"type": "object", "properties": properties}


OPERATIONS = (
    Operation("get", "/healthz", "Liveness", response={"type": "object"}),
    Operation("get", "/api/v1/m/{slug}/quiz", "The merchant's live quiz", response=QuizOut),
    Operation("get", "/api/v1/m/{slug}/explainer", "Consent explainer text, version and SHA-256"),
    Operation(
        "post",
        "/api/v1/m/{slug}/consents",
        "Record a consent decision; returns the subject token",
        body=ConsentIn,
        status=201,
        response={"type": "object", "properties": {"subject_token": {"type": "string"}}},
    ),
    Operation(
        "post",
        "/api/v1/m/{slug}/recommendations",
        "Recommendations for (partial) answers",
        auth="subject",
        body=RecommendationsIn,
        response=Items(ItemOut, (("took_ms", "number"),)),
    ),
    Operation(
        "post",
        "/api/v1/m/{slug}/responses",
        "Submit a finished quiz; stores a profile with consent",
        auth="subject",
        body=ResponsesIn,
        status=201,
        response=Items(ItemOut, (("profile_id", ["string", "null"]),)),
    ),
    Operation("get", "/api/v1/me", "Everything stored about the token's subject", auth="subject"),
    Operation("delete", "/api/v1/me", "Erase the profile and withdraw every consent", auth="subject", status=204),
    Operation("patch", "/api/v1/me/consents", "Change or withdraw purposes", auth="subject", body=ConsentPatchIn),
    Operation(
        "post",
        "/api/v1/catalog/imports",
        "Upload a catalog file (multipart: file, format, mode)",
        auth="merchant",
        status=202,
        response=ImportOut,
        multipart=True,
    ),
    Operation("get", "/api/v1/catalog/imports", "Import history", auth="merchant", response=Items(ImportSummaryOut)),
    Operation(
        "get",
        "/api/v1/catalog/imports/{import_id}",
        "An import's status, progress and row errors",
        auth="merchant",
        response=ImportOut,
    ),
    Operation(
        "get", "/api/v1/catalog/imports/{import_id}/errors.csv", "An import's row errors as CSV", auth="merchant"
    ),
    Operation(
        "get",
        "/api/v1/products",
        "The catalog, a page at a time (limit, offset)",
        auth="merchant",
        response=Items(ProductOut, (("total", "integer"), ("limit", "integer"), ("offset", "integer"))),
    ),
    Operation("get", "/api/v1/quiz", "The live quiz definition with its matching signals", auth="merchant"),
    Operation("put", "/api/v1/quiz", "Publish a new quiz version (422 with a message per path)", auth="merchant"),
    Operation("get", "/api/v1/widget", "Partner origins allowed to embed the widget, and the snippet", auth="merchant"),
    Operation("get", "/api/v1/segments", "Saved segments with their sizes", auth="merchant"),
    Operation("get", "/api/v1/clusters", "Taste clusters: sizes, nearest categories, typical answers", auth="merchant"),
    Operation("get", "/api/v1/webhooks", "Registered webhooks with their signing secrets", auth="merchant"),
    Operation("post", "/api/v1/webhooks", "Register a webhook URL (201 with its secret)", auth="merchant", status=201),
    Operation("delete", "/api/v1/webhooks/{webhook_id}", "Stop sending events to a URL", auth="merchant", status=204),
    Operation("get", "/api/v1/webhooks/{webhook_id}/deliveries", "A webhook's deliveries and status", auth="merchant"),
    Operation("post", "/api/v1/segments", "Save a segment (422 with a message per path)", auth="merchant", status=201),
    Operation("post", "/api/v1/segments/count", "Count the profiles rules select, unsaved", auth="merchant"),
    Operation("get", "/api/v1/segments/{segment_id}", "A segment, its size and members", auth="merchant"),
    Operation("put", "/api/v1/segments/{segment_id}", "Replace a segment", auth="merchant"),
    Operation("delete", "/api/v1/segments/{segment_id}", "Delete a segment", auth="merchant", status=204),
    Operation(
        "get",
        "/api/v1/campaigns/export",
        "Download everyone who may be contacted on a channel now (?channel=email|sms&format=csv|json&products=3)",
        auth="merchant",
    ),
    Operation(
        "put",
        "/api/v1/widget/origins",
        "Replace the allowed partner origins (422 naming each invalid one)",
        auth="merchant",
        body=OriginsIn,
    ),
    Operation("get", "/api/v1/profiles", "Stored profiles (limit, offset)", auth="merchant"),
    Operation("get", "/api/v1/profiles/{profile_id}", "One stored profile", auth="merchant"),
    Operation("get", "/api/v1/openapi.json", "This document"),
)


def field_json(field: fields.Field) -> dict[str, Any]:
    """Return the JSON Schema of one marshmallow field."""
    if isinstance(field, fields.Nested):
        nested = schema_json(field.schema)
        return {"type": "array", "items": nested} if field.many else nested
    if isinstance(field, fields.List):
        return {"type": "array", "items": field_json(field.inner)}
    simple = (
        (fields.Boolean, {"type": "boolean"}),
        (fields.Integer, {"type": "integer"}),
        (fields.Float, {"type": "number"}),
        (fields.Email, {"type": "string", "format": "email"}),
        (fields.DateTime, {"type": "string", "format": "date-time"}),
        (fields.String, {"type": "string"}),
        (fields.Dict, {"type": "object"}),
    )
    return next((dict(spec) for kind, spec in simple if isinstance(field, kind)), {})


def schema_json(schema: Schema) -> dict[str, Any]:
    """Return the JSON Schema of a marshmallow schema."""
    properties = {f.data_key or name: field_json(f) for name, f in schema.fields.items()}
    required = [f.data_key or name for name, f in schema.fields.items() if f.required]
    return {"type": "object", "properties": properties, **({"required": required} if required else {})}


def _operation(op: Operation) -> dict[str, Any]:
    response = op.response
    if isinstance(response, type):
        body_schema: dict[str, Any] | None = schema_json(response())
    elif isinstance(response, Items):
        body_schema = response.json()
    else:
        body_schema = response
    spec: dict[str, Any] = {
        "summary": op.summary,
        "responses": {
            str(op.status): {
                "description": "OK",
                **({"content": {"application/json": {"schema": body_schema}}} if body_schema else {}),
            },
            "4XX": {"description": "Error", "content": {"application/json": {"schema": ERROR}}},
        },
    }
    if op.auth:
        spec["security"] = [{op.auth: []}]
    if op.body is not None:
        spec["requestBody"] = {"required": True, "content": {"application/json": {"schema": schema_json(op.body())}}}
    if op.multipart:
        spec["requestBody"] = {
            "required": True,
            "content": {
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "required": ["file"],
                        "properties": {
                            "file": {"type": "string", "format": "binary"},
                            "format": {"type": "string"},
                            "mode": {"type": "string", "enum": ["upsert", "full"]},
                        },
                    }
                }
            },
        }
    return spec


def build_spec() -> dict[str, Any]:
    """Return the OpenAPI 3.1 document of the API."""
    paths: dict[str, dict[str, Any]] = {}
    for op in OPERATIONS:
        paths.setdefault(op.path, {})[op.method] = _operation(op)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Attune API",
            "version": "1",
            "description": "Shopper-facing text (quiz, explainer, reasons, answer errors) is in the language "
            "of the `lang` query parameter (en, es), else of the Accept-Language header, else English.",
        },
        "paths": paths,
        "components": {
            "securitySchemes": {
                "subject": {"type": "http", "scheme": "bearer", "description": "subject_token from POST /consents"},
                "merchant": {"type": "http", "scheme": "bearer", "description": "a merchant API key"},
            }
        },
    }


@bp.get("/openapi.json")
def openapi() -> ResponseReturnValue:
    """Describe the API."""
    return jsonify(build_spec())
