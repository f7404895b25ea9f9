"""Marshmallow schemas of the API's request and response bodies (created once, here)."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from ..explainer import PURPOSES


class PurposesSchema(Schema):
    recommendations = fields.Boolean(required=True)
    profile = fields.Boolean(load_default=False)
    email = fields.Boolean(load_default=False)
    sms = fields.Boolean(load_default=False)


class PurposesPatchSchema(Schema):
    recommendations = fields.Boolean()
    profile = fields.Boolean()
    email = fields.Boolean()
    sms = fields.Boolean()

    @validates_schema
    def not_empty(self, data: dict[str, Any], **_: Any) -> None:
        if not data:
            raise ValidationError(f"Name at least one of {', '.join(PURPOSES)}.")


class ConsentIn(Schema):
    purposes = fields.Nested(PurposesSchema, required=True)
    explainer_version = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=32))
    locale = fields.String(load_default="en", validate=validate.Length(1, 16))


class ConsentPatchIn(Schema):
    purposes = fields.Nested(PurposesPatchSchema, required=True)


class RecommendationsIn(Schema):
    answers = fields.Dict(keys=fields.String(), required=True)
    limit = fields.Integer(load_default=None, allow_none=True, validate=validate.Range(1, 50))


class ResponsesIn(Schema):
    answers = fields.Dict(keys=fields.String(), required=True)
    email = fields.Email(load_default=None, allow_none=True, validate=validate.Length(max=320))
    first_name = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=100))
    limit = fields.Integer(load_default=None, allow_none=True, validate=validate.Range(1, 50))


class OptionOut(Schema):
    value = fields.String()
    label = fields.String()


class QuestionOut(Schema):
    id = fields.String()
    type = fields.String()
    label = fields.String()
    help = fields.String()
    required = fields.Boolean()
    options = fields.List(fields.Nested(OptionOut))
    min = fields.Float(allow_none=True)
    max = fields.Float(allow_none=True)
    max_length = fields.Integer(allow_none=True)
    show_if = fields.Dict()


class SectionOut(Schema):
    id = fields.String()
    title = fields.String()
    intro = fields.String()
    questions = fields.List(fields.Nested(QuestionOut))


class QuizOut(Schema):
    id = fields.String()
    title = fields.String()
    version = fields.Integer()
    locale = fields.String()
    sections = fields.List(fields.Nested(SectionOut))


class ItemOut(Schema):
    id = fields.String(attribute="item.external_id")
    title = fields.String(attribute="item.title")
    price = fields.Float(attribute="item.price", allow_none=True)
    currency = fields.String(attribute="item.currency")
    url = fields.String(attribute="item.url")
    image_url = fields.String(attribute="item.image_url")
    category = fields.String(attribute="item.category")
    brand = fields.String(attribute="item.brand")
    score = fields.Float()
    reasons = fields.List(fields.String())


consent_in = ConsentIn()
consent_patch_in = ConsentPatchIn()
recommendations_in = RecommendationsIn()
responses_in = ResponsesIn()
quiz_out = QuizOut()
items_out = ItemOut(many=True)
