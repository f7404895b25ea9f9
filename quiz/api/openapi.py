"""The API description at /api/v1/openapi.json, built from the same schemas the views use."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from flask import jsonify
from flask.typing import ResponseReturnValue
from marshmallow import Schema

from ..segments import SegmentSchema
from . import bp
from .merchant_campaigns import ExportIn
from .merchant_webhooks import WebhookIn
from .merchant_widget import OriginsIn
from .openapi_schemas import (
    CLUSTERS,
    CONSENT,
    COUNT,
    ERROR,
    EXPLAINER,
    OBJECT,
    PAGE_EXTRA,
    PURPOSES,
    QUIZ_BODY,
    QUIZ_DEFINITION,
    SEGMENT,
    VERSION,
    WEBHOOK,
    WIDGET,
    Items,
    array,
    obj,
    query_parameters,
    schema_json,
)
from .schemas import (
    ConsentIn,
    ConsentPatchIn,
    ImportOut,
    ImportSummaryOut,
    ItemOut,
    PageIn,
    ProductOut,
    QuizOut,
    RecommendationsIn,
    ResponsesIn,
)

Body = dict[str, Any] | type[Schema] | Items
_PATH_PARAMETER = re.compile(r"{(\w+)}")
CSV = "text/csv"


@dataclass(frozen=True)
class Operation:
    """One documented endpoint."""

    method: str
    path: str
    summary: str
    auth: str | None = None  # "subject" (token from /consents) or "merchant" (API key)
    body: Body | None = None
    status: int = 200
    response: Body | None = None
    multipart: bool = False
    query: type[Schema] | None = None
    media: tuple[str, ...] = ("application/json",)  # of the success response
    defaulted: tuple[str, ...] = ()  # body fields the schema requires but the view fills in when missing
    limited: bool = False  # wears a rate limit (quiz/limits.py): may answer 429 with Retry-After


OPERATIONS = (
    Operation("get", "/healthz", "Liveness", response=OBJECT),
    Operation("get", "/api/v1/m/{slug}/quiz", "The merchant's live quiz", response=QuizOut),
    Operation("get", "/api/v1/m/{slug}/explainer", "Consent explainer text, version and SHA-256", response=EXPLAINER),
    Operation(
        "post",
        "/api/v1/m/{slug}/consents",
        "Record a consent decision; returns the subject token",
        body=ConsentIn,
        status=201,
        response=CONSENT,
        limited=True,
    ),
    Operation(
        "post",
        "/api/v1/m/{slug}/recommendations",
        "Recommendations for (partial) answers",
        auth="subject",
        body=RecommendationsIn,
        response=Items(ItemOut, (("took_ms", "number"),)),
        limited=True,
    ),
    Operation(
        "post",
        "/api/v1/m/{slug}/responses",
        "Submit a finished quiz; stores a profile with consent",
        auth="subject",
        body=ResponsesIn,
        status=201,
        response=Items(ItemOut, (("profile_id", ["string", "null"]),)),
        limited=True,
    ),
    Operation("get", "/api/v1/me", "Everything stored about the token's subject", auth="subject", response=OBJECT),
    Operation("delete", "/api/v1/me", "Erase the profile and withdraw every consent", auth="subject", status=204),
    Operation(
        "patch",
        "/api/v1/me/consents",
        "Change or withdraw purposes",
        auth="subject",
        body=ConsentPatchIn,
        response=PURPOSES,
        limited=True,
    ),
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
        "get",
        "/api/v1/catalog/imports/{import_id}/errors.csv",
        "An import's row errors as CSV",
        auth="merchant",
        media=(CSV,),
    ),
    Operation(
        "get",
        "/api/v1/products",
        "The catalog, a page at a time (limit, offset)",
        auth="merchant",
        query=PageIn,
        response=Items(ProductOut, PAGE_EXTRA),
    ),
    Operation(
        "get",
        "/api/v1/quiz",
        "The live quiz definition with its matching signals",
        auth="merchant",
        response=QUIZ_DEFINITION,
    ),
    Operation(
        "put",
        "/api/v1/quiz",
        "Publish a new quiz version: {definition} or the definition itself (422 with a message per path)",
        auth="merchant",
        body=QUIZ_BODY,
        response=VERSION,
    ),
    Operation(
        "get",
        "/api/v1/widget",
        "Partner origins allowed to embed the widget, and the snippet",
        auth="merchant",
        response=WIDGET,
    ),
    Operation("get", "/api/v1/segments", "Saved segments with their sizes", auth="merchant", response=Items(SEGMENT)),
    Operation(
        "get",
        "/api/v1/clusters",
        "Taste clusters: sizes, nearest categories, typical answers",
        auth="merchant",
        response=CLUSTERS,
    ),
    Operation(
        "get",
        "/api/v1/webhooks",
        "Registered webhooks with their signing secrets",
        auth="merchant",
        response=Items(WEBHOOK),
    ),
    Operation(
        "post",
        "/api/v1/webhooks",
        "Register a webhook URL (201 with its secret)",
        auth="merchant",
        body=WebhookIn,
        status=201,
        response=WEBHOOK,
    ),
    Operation("delete", "/api/v1/webhooks/{webhook_id}", "Stop sending events to a URL", auth="merchant", status=204),
    Operation(
        "get",
        "/api/v1/webhooks/{webhook_id}/deliveries",
        "A webhook's deliveries and status",
        auth="merchant",
        response=Items(OBJECT),
    ),
    Operation(
        "post",
        "/api/v1/segments",
        "Save a segment (422 with a message per path)",
        auth="merchant",
        body=SegmentSchema,
        status=201,
        response=SEGMENT,
    ),
    Operation(
        "post",
        "/api/v1/segments/count",
        "Count the profiles rules select, unsaved",
        auth="merchant",
        body=SegmentSchema,
        defaulted=("name",),
        response=COUNT,
    ),
    Operation(
        "get",
        "/api/v1/segments/{segment_id}",
        "A segment, its size and members",
        auth="merchant",
        response={**SEGMENT, "properties": {**SEGMENT["properties"], "profile_ids": array({"type": "string"})}},
    ),
    Operation(
        "put",
        "/api/v1/segments/{segment_id}",
        "Replace a segment",
        auth="merchant",
        body=SegmentSchema,
        response=SEGMENT,
    ),
    Operation("delete", "/api/v1/segments/{segment_id}", "Delete a segment", auth="merchant", status=204),
    Operation(
        "get",
        "/api/v1/campaigns/export",
        "Download everyone who may be contacted on a channel now (?channel=email|sms&format=csv|json&products=3)",
        auth="merchant",
        query=ExportIn,
        media=(CSV, "application/json"),
    ),
    Operation(
        "put",
        "/api/v1/widget/origins",
        "Replace the allowed partner origins (422 naming each invalid one)",
        auth="merchant",
        body=OriginsIn,
        response=WIDGET,
    ),
    Operation(
        "get",
        "/api/v1/profiles",
        "Stored profiles (limit, offset)",
        auth="merchant",
        query=PageIn,
        response=Items(OBJECT, PAGE_EXTRA),
    ),
    Operation("get", "/api/v1/profiles/{profile_id}", "One stored profile", auth="merchant", response=OBJECT),
    Operation("get", "/api/v1/openapi.json", "This document", response=OBJECT),
)


def _body_json(body: Body) -> dict[str, Any]:
    if isinstance(body, type):
        return schema_json(body())
    if isinstance(body, Items):
        return body.json()
    return body


def _parameters(op: Operation) -> list[dict[str, Any]]:
    path = [
        {"name": name, "in": "path", "required": True, "schema": {"type": "string", "minLength": 1}}
        for name in _PATH_PARAMETER.findall(op.path)
    ]
    return path + (query_parameters(op.query()) if op.query else [])


RATE_LIMITED = {
    "description": "Too many requests; try again after Retry-After seconds",
    "headers": {"Retry-After": {"required": True, "schema": {"type": "integer", "minimum": 1}}},
    "content": {"application/json": {"schema": ERROR}},
}


def _operation(op: Operation) -> dict[str, Any]:
    success: dict[str, Any] = {"description": "OK"}
    if op.status != 204:
        schema = _body_json(op.response) if op.response is not None else {}
        success["content"] = {media: {"schema": schema if media == "application/json" else {}} for media in op.media}
    spec: dict[str, Any] = {
        "summary": op.summary,
        "responses": {
            str(op.status): success,
            "4XX": {"description": "Error", "content": {"application/json": {"schema": ERROR}}},
        },
    }
    if op.limited:
        spec["responses"]["429"] = RATE_LIMITED
    if parameters := _parameters(op):
        spec["parameters"] = parameters
    if op.auth:
        spec["security"] = [{op.auth: []}]
    if op.body is not None:
        body = _body_json(op.body)
        if op.defaulted:
            body = {**body, "required": [name for name in body.get("required", []) if name not in op.defaulted]}
        spec["requestBody"] = {"required": True, "content": {"application/json": {"schema": body}}}
    if op.multipart:
        spec["requestBody"] = {
            "required": True,
            "content": {
                "multipart/form-data": {
                    "schema": obj(
                        ("file",),
                        file={"type": "string", "format": "binary"},
                        format={"type": "string"},
                        mode={"type": "string", "enum": ["upsert", "full"]},
                    )
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
            "of the `lang` query parameter (en, es), else of the Accept-Language header, else English. "
            "No text accepts the NUL character (U+0000): a query parameter or JSON string holding one "
            "is answered 400 with the fields named.",
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
