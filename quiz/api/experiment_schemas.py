"""Marshmallow schemas of the A/B test endpoints."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from ..models.experiment import METRICS
from .schemas import PlainText

MAX_VARIANTS = 10
MAX_WEIGHT = 1000


class SettingsIn(Schema):
    """Ranking settings of a variant; an unset one stays as the shop has it (on)."""

    diversity = fields.Boolean(truthy={True}, falsy={False})
    category_prior = fields.Boolean(truthy={True}, falsy={False})


class Weight(fields.Float):
    """A JSON number (never a string or true)."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.make_error("invalid")
        return float(super()._deserialize(value, attr, data, **kwargs))


class VariantIn(Schema):
    """One arm: a name, the quiz version shown (the live one when absent), ranking settings, a weight."""

    name = PlainText(required=True, validate=validate.Length(min=1, max=60))
    quiz_version = fields.Integer(strict=True, load_default=None, validate=validate.Range(min=1, max=2**31 - 1))
    settings = fields.Nested(SettingsIn, load_default=None)
    weight = Weight(
        required=True,
        validate=validate.Range(
            min=0, max=MAX_WEIGHT, min_inclusive=False, error="Must be a positive number up to 1000."
        ),
    )


class ExperimentIn(Schema):
    """A new A/B test (created as a draft)."""

    name = PlainText(required=True, validate=validate.Length(min=1, max=120))
    variants = fields.List(
        fields.Nested(VariantIn),
        required=True,
        validate=validate.Length(min=2, max=MAX_VARIANTS, error="Give between 2 and 10 variants."),
    )
    metric = fields.String(required=True, validate=validate.OneOf(METRICS))

    @validates_schema
    def _distinct_names(self, data: dict[str, Any], **_: Any) -> None:
        names = [v["name"] for v in data.get("variants", [])]
        if len(set(names)) != len(names):
            raise ValidationError("Each variant needs its own name.", "variants")


class WinnerIn(Schema):
    """The variant declared the winner."""

    variant = PlainText(required=True, validate=validate.Length(min=1, max=60))


experiment_in = ExperimentIn()
winner_in = WinnerIn()
