"""JSON Schema for the API description: marshmallow schemas translated, and the bodies built by hand.

Bodies with a name (a :class:`Component`, or a marshmallow schema class) become components of the
document, referenced where used, so that client generators produce readable types.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from marshmallow import Schema, fields, validate

from ..quizzes.local_text import LocalizedString


@dataclass(frozen=True)
class Component:
    """A body schema with a name: a component of the document, referenced where it is used."""

    name: str
    schema: dict[str, Any]


ERROR = Component(
    "Error",
    {
        "type": "object",
        "properties": {"error": {"type": "string"}, "fields": {"type": "object"}},
        "required": ["error", "fields"],
    },
)
STRING = {"type": "string"}
INTEGER = {"type": "integer"}
OBJECT = {"type": "object"}
NULLABLE_STRING = {"type": ["string", "null"]}


def obj(required: tuple[str, ...] = (), **properties: dict[str, Any]) -> dict[str, Any]:
    """Return an object schema with ``properties``, of which ``required`` must be present."""
    return {"type": "object", "properties": properties, **({"required": list(required)} if required else {})}


def array(items: dict[str, Any]) -> dict[str, Any]:
    """Return an array schema."""
    return {"type": "array", "items": items}


_SIMPLE = (
    (fields.Boolean, {"type": "boolean"}),
    (fields.Integer, {"type": "integer"}),
    (fields.Float, {"type": "number"}),
    (fields.Decimal, {"type": "number"}),
    (fields.Email, {"type": "string", "format": "email"}),
    (fields.Date, {"type": "string", "format": "date"}),
    (fields.DateTime, {"type": "string", "format": "date-time"}),
    (fields.String, {"type": "string"}),
    (fields.Dict, {"type": "object"}),
    (LocalizedString, {"type": ["string", "object"]}),
)


def field_json(field: fields.Field) -> dict[str, Any]:
    """Return the JSON Schema of one marshmallow field, its validators' limits included."""
    if isinstance(field, fields.Nested):
        nested = schema_json(field.schema)
        spec = array(nested) if field.many else nested
    elif isinstance(field, fields.List):
        spec = array(field_json(field.inner))
    else:
        spec = next((dict(kind_spec) for kind, kind_spec in _SIMPLE if isinstance(field, kind)), {})
    for validator in field.validators:
        spec.update(_limits(validator, spec.get("type")))
    if field.allow_none and "type" in spec:
        kinds = spec["type"] if isinstance(spec["type"], list) else [spec["type"]]
        spec["type"] = [*kinds, "null"]
        if "enum" in spec:
            spec["enum"] = [*spec["enum"], None]
    return spec


def _limits(validator: Any, kind: Any) -> dict[str, Any]:
    """Return the JSON Schema keywords of a marshmallow validator (Range, Length, OneOf, Regexp)."""
    if isinstance(validator, validate.Range):
        low = "minimum" if validator.min_inclusive else "exclusiveMinimum"
        high = "maximum" if validator.max_inclusive else "exclusiveMaximum"
        return {
            **({low: validator.min} if validator.min is not None else {}),
            **({high: validator.max} if validator.max is not None else {}),
        }
    if isinstance(validator, validate.Length):
        names = ("minItems", "maxItems") if kind == "array" else ("minLength", "maxLength")
        low, high = (
            (validator.equal, validator.equal) if validator.equal is not None else (validator.min, validator.max)
        )
        return {
            **({names[0]: low} if low is not None else {}),
            **({names[1]: high} if high is not None else {}),
        }
    if isinstance(validator, validate.OneOf):
        return {"enum": list(validator.choices)}
    if isinstance(validator, validate.Regexp):
        return {"pattern": validator.regex.pattern}
    return {}


def schema_json(schema: Schema, *, closed: bool = False) -> dict[str, Any]:
    """Return the JSON Schema of a marshmallow schema; ``closed`` forbids other properties (as loading does)."""
    properties = {f.data_key or name: field_json(f) for name, f in schema.fields.items()}
    required = [f.data_key or name for name, f in schema.fields.items() if f.required]
    return {
        "type": "object",
        "properties": properties,
        **({"required": required} if required else {}),
        **({"additionalProperties": False} if closed else {}),
    }


def query_parameters(schema: Schema) -> list[dict[str, Any]]:
    """Return OpenAPI query parameters for the fields of a marshmallow schema."""
    return [
        {"name": f.data_key or name, "in": "query", "required": f.required, "schema": field_json(f)}
        for name, f in schema.fields.items()
    ]


@dataclass(frozen=True)
class Items:
    """A response body ``{"items": [SCHEMA, ...], **extra}``."""

    schema: type[Schema] | Component | dict[str, Any]
    extra: tuple[tuple[str, str | list[str]], ...] = ()

    def json(self, item: dict[str, Any]) -> dict[str, Any]:
        """Return the JSON Schema of the body, given the schema (or reference) of one item."""
        properties: dict[str, Any] = {"items": array(item)}
        properties.update({name: {"type": kind} for name, kind in self.extra})
        return {"type": "object", "properties": properties, "required": ["items"]}


# Bodies of views that build their answers by hand (their own modules are the source of truth).
SEGMENT = Component("Segment", obj(("id", "name", "rules"), id=STRING, name=STRING, rules=array(OBJECT), count=INTEGER))
WEBHOOK = Component(
    "Webhook", obj(("id", "url", "secret", "events"), id=STRING, url=STRING, secret=STRING, events=array(STRING))
)


def mapping_object(names: tuple[str, ...], max_length: int) -> dict[str, Any]:
    """Return the schema of a column mapping: product field -> column name (null or blank: not mapped)."""
    column = {"type": ["string", "null"], "maxLength": max_length}
    return {"type": "object", "properties": dict.fromkeys(names, column), "additionalProperties": False}


WIDGET = Component(
    "Widget", obj(("origins", "script", "snippet"), origins=array(STRING), script=STRING, snippet=STRING)
)
SHOP_SETTINGS = Component(
    "ShopSettings",
    obj(
        ("cart_url_pattern", "hide_bought_days", "rebuy_categories"),
        cart_url_pattern={"type": ["string", "null"], "maxLength": 2000},
        hide_bought_days={"type": "integer", "minimum": 0, "maximum": 3650},
        rebuy_categories=array(STRING),
    ),
)
EXPLAINER = Component(
    "Explainer",
    obj(
        ("version", "locale", "sha256", "text", "purposes"),
        version=STRING,
        locale=STRING,
        sha256=STRING,
        text=STRING,
        purposes=array(OBJECT),
    ),
)
CONSENT = Component(
    "ConsentRecorded",
    obj(
        ("subject_token", "purposes", "explainer_version"),
        subject_token=STRING,
        purposes=OBJECT,
        explainer_version=STRING,
    ),
)
LIVE_QUIZ = Component("QuizDefinition", obj(("version", "definition"), version=INTEGER, definition=OBJECT))
VERSION = Component("QuizVersion", obj(("version",), version=INTEGER))
COUNT = Component("SegmentCount", obj(("count",), count=INTEGER))
CLUSTERS = Component(
    "Clusters",
    obj(
        ("clusters",),
        silhouette={"type": ["number", "null"]},
        fixed_k={"type": "boolean"},
        clusters=array(OBJECT),
    ),
)
PURPOSES = Component("Purposes", obj(("purposes",), purposes=OBJECT))
PAGE_EXTRA = (("total", "integer"), ("limit", "integer"), ("offset", "integer"))
QUIZ_BODY = Component("QuizPublish", obj(definition=OBJECT))  # or the definition itself as the body
EVENT_ACCEPTED = Component(
    "EventAccepted", obj(("stored", "duplicate"), stored={"type": "boolean"}, duplicate={"type": "boolean"})
)
ORDER = Component(
    "Order",
    obj(
        ("order_id", "placed_at", "currency", "total", "cancelled", "linked", "items", "created"),
        order_id=STRING,
        placed_at={"type": "string", "format": "date-time"},
        currency=STRING,
        total={"type": "number"},
        cancelled={"type": "boolean"},
        linked={"type": "boolean"},
        linked_by=NULLABLE_STRING,
        items=array(OBJECT),
        created={"type": "boolean"},
    ),
)
SEGMENT_MEMBERS = Component(
    "SegmentMembers",
    {**SEGMENT.schema, "properties": {**SEGMENT.schema["properties"], "profile_ids": array({"type": "string"})}},
)
CSV = "text/csv"
