"""The explainer as merchants write it: one text per language, checked before it is saved."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

PLACEHOLDERS = {"merchant": "Shop", "retention_months": 24, "partner": "partner.example"}
PURPOSE_KEYS = ("recommendations", "profile", "email", "sms")


def _fills(text: str) -> None:
    """Refuse text with a placeholder other than {merchant}, {retention_months} and {partner}."""
    try:
        text.format(**PLACEHOLDERS)
    except (KeyError, IndexError, ValueError) as exc:
        raise ValidationError(
            "Use only the placeholders {merchant}, {retention_months} and {partner}; write other braces as {{ }}."
        ) from exc


def _text(max_length: int) -> fields.String:
    return fields.String(required=True, validate=[validate.Length(1, max_length), _fills])


class SectionSchema(Schema):
    heading = _text(200)
    body = _text(3000)


class PurposeSchema(Schema):
    key = fields.String(required=True, validate=validate.OneOf(PURPOSE_KEYS))
    title = _text(100)
    why = _text(500)
    required = fields.Boolean(load_default=False)


class LanguageSchema(Schema):
    """The explainer in one language."""

    title = _text(200)
    intro = _text(2000)
    partner_section = fields.Nested(SectionSchema, required=True)
    sections = fields.List(fields.Nested(SectionSchema), required=True, validate=validate.Length(1, 12))
    purposes = fields.List(fields.Nested(PurposeSchema), required=True)

    @validates_schema
    def check_purposes(self, data: dict[str, Any], **_: Any) -> None:
        keys = tuple(p["key"] for p in data.get("purposes", []))
        if keys != PURPOSE_KEYS:
            raise ValidationError(f"List the purposes {', '.join(PURPOSE_KEYS)}, in this order.", "purposes")
        if not data["purposes"][0].get("required") or any(p.get("required") for p in data["purposes"][1:]):
            raise ValidationError("Only recommendations is required (required: true).", "purposes")
