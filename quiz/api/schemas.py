"""Marshmallow schemas of the API's request and response bodies (created once, here)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import Any

from marshmallow import Schema, ValidationError, fields, post_dump, validate, validates_schema

from recommender import FILE_FIELDS

from ..catalog.imports import progress_of
from ..platform.i18n import LOCALES
from ..privacy.email_optin import public_url
from ..privacy.explainer import PURPOSES
from ..quizzes.answers import clean_text


class UtcDateTime(fields.AwareDateTime):
    """A timestamp written with its UTC offset, also when the database handed it back naive (SQLite)."""

    def _serialize(self, value: dt.datetime | None, attr: str | None, obj: Any, **kwargs: Any) -> str | None:
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=dt.UTC)
        return super()._serialize(value, attr, obj, **kwargs)


class Decision(fields.Boolean):
    """A consent decision: JSON true or false only, never "yes", 1 or "on"."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> bool:
        if not isinstance(value, bool):
            raise self.make_error("invalid", input=value)
        return value


class PlainText(fields.String):
    """A string without control characters, refused when it is not valid Unicode."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        text = super()._deserialize(value, attr, data, **kwargs)
        try:
            return clean_text(text)
        except ValueError as exc:
            raise ValidationError(str(exc)) from exc


class PurposesSchema(Schema):
    """A full decision: every purpose granted or refused."""

    recommendations = Decision(required=True)
    profile = Decision(load_default=False)
    email = Decision(load_default=False)
    sms = Decision(load_default=False)


class PurposesPatchSchema(Schema):
    """A change of mind about some purposes."""

    recommendations = Decision()
    profile = Decision()
    email = Decision()
    sms = Decision()

    @validates_schema
    def not_empty(self, data: dict[str, Any], **_: Any) -> None:
        if not data:
            raise ValidationError(f"Name at least one of {', '.join(PURPOSES)}.")


class ConsentIn(Schema):
    """A consent decision."""

    openapi_name = "ConsentDecision"

    purposes = fields.Nested(PurposesSchema, required=True)
    explainer_version = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=32))
    # The language of the explainer the shopper read; by default the request's (lang, Accept-Language).
    locale = fields.String(load_default=None, allow_none=True, validate=validate.OneOf(LOCALES))


class ConsentPatchIn(Schema):
    """A change of consent."""

    purposes = fields.Nested(PurposesPatchSchema, required=True)


class RecommendationsIn(Schema):
    """Answers so far, for recommendations."""

    answers = fields.Dict(keys=fields.String(), required=True)
    limit = fields.Integer(load_default=None, allow_none=True, strict=True, validate=validate.Range(1, 50))
    exclude = fields.List(
        fields.String(validate=validate.Length(1, 200)), load_default=list, validate=validate.Length(max=500)
    )
    diverse = Decision(load_default=True)


class ResponsesIn(Schema):
    """A finished quiz."""

    answers = fields.Dict(keys=fields.String(), required=True)
    email = fields.Email(load_default=None, allow_none=True, validate=validate.Length(max=320))
    first_name = PlainText(load_default=None, allow_none=True, validate=validate.Length(max=100))
    limit = fields.Integer(load_default=None, allow_none=True, strict=True, validate=validate.Range(1, 50))


class OptionOut(Schema):
    """An answer option as shoppers see it; ``image`` (a picture choice) absolute, "" when it has none."""

    value = fields.String()
    label = fields.String()
    image = fields.String()

    @post_dump
    def absolute_image(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        """Resolve an image path on this instance to a full URL: a partner page on another origin shows it."""
        if data.get("image", "").startswith("/"):
            data["image"] = public_url(data["image"])
        return data


class QuestionOut(Schema):
    """A question as shoppers see it (no matching signals)."""

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
    """A quiz page."""

    id = fields.String()
    title = fields.String()
    intro = fields.String()
    questions = fields.List(fields.Nested(QuestionOut))


class QuizOut(Schema):
    """The live quiz."""

    id = fields.String()
    title = fields.String()
    version = fields.Integer()
    locale = fields.String()
    sections = fields.List(fields.Nested(SectionOut))


# How the API writes each of the product's fields (declared once, in ``recommender.PRODUCT_FIELDS``):
# text unless named here. The shop's own id is "id" in the API, as in catalog files.
_FIELD_KINDS: dict[str, Callable[..., fields.Field]] = {
    "tags": lambda **kw: fields.List(fields.String(), **kw),
    "price": lambda **kw: fields.Float(allow_none=True, **kw),
    "available": fields.Boolean,
    "attributes": fields.Dict,
}
# The product's fields a recommended item shows, in the API's order.
ITEM_FIELDS = ("id", "title", "price", "currency", "url", "image_url", "category", "brand")


def product_fields(names: Sequence[str], within: str = "") -> dict[str, fields.Field]:
    """Return marshmallow fields writing the product fields ``names`` of an object (at ``within``, dotted)."""
    unknown = set(names) - {*FILE_FIELDS, "attributes"}
    if unknown:
        raise ValueError(f"not product fields: {sorted(unknown)}")
    return {
        name: _FIELD_KINDS.get(name, fields.String)(attribute=within + ("external_id" if name == "id" else name))
        for name in names
    }


ItemOut = type(
    "ItemOut",
    (Schema,),
    {
        "__module__": __name__,
        "__doc__": "A recommended product with its score and reasons.",
        **product_fields(ITEM_FIELDS, within="item."),
        "score": fields.Float(),
        "reasons": fields.List(fields.String()),
        "fallback": fields.Boolean(),
        "owned": fields.Boolean(),  # bought before: its reasons say so
    },
)


consent_in = ConsentIn()
consent_patch_in = ConsentPatchIn()
recommendations_in = RecommendationsIn()
responses_in = ResponsesIn()
quiz_out = QuizOut()
items_out = ItemOut(many=True)


class PageIn(Schema):
    """Paging parameters."""

    limit = fields.Integer(load_default=50, validate=validate.Range(1, 500))
    offset = fields.Integer(load_default=0, validate=validate.Range(0, 10**9))


class ImportOut(Schema):
    """An import with its progress and row errors."""

    id = fields.String()
    filename = fields.String()
    format = fields.String()
    mode = fields.String()
    status = fields.String()
    total = fields.Integer()
    processed = fields.Integer()
    failed = fields.Integer()
    errors = fields.List(fields.Dict())
    warnings = fields.List(fields.String())
    summary = fields.Dict()
    message = fields.String()
    created_at = UtcDateTime(default_timezone=dt.UTC)
    started_at = UtcDateTime(default_timezone=dt.UTC, allow_none=True)
    finished_at = UtcDateTime(default_timezone=dt.UTC, allow_none=True)
    percent = fields.Method("get_percent")
    rate_per_s = fields.Method("get_rate")
    eta_s = fields.Method("get_eta")

    def get_percent(self, job: Any) -> float:
        return progress_of(job).percent

    def get_rate(self, job: Any) -> float | None:
        return progress_of(job).rate_per_s

    def get_eta(self, job: Any) -> float | None:
        return progress_of(job).eta_s


class ImportSummaryOut(ImportOut):
    """An import without its row errors, for lists."""

    # Not "ImportSummary": client generators name the Import's ``summary`` object so.
    openapi_name = "ImportBrief"

    class Meta:
        exclude = ("errors",)


ProductOut = type(
    "ProductOut",
    (Schema,),
    {"__module__": __name__, "__doc__": "A stored product.", **product_fields((*FILE_FIELDS, "attributes"))},
)


class ImportPreviewOut(Schema):
    """What importing a file would do (``dry_run``): nothing was changed."""

    dry_run = fields.Constant(True)
    filename = fields.String()
    format = fields.String()
    mode = fields.String()
    mapping = fields.Dict(keys=fields.String(), values=fields.String())
    total = fields.Integer()
    valid = fields.Integer()
    failed = fields.Integer()
    products = fields.List(fields.Nested(ProductOut))
    errors = fields.List(fields.Dict())
    warnings = fields.List(fields.String())
    changes = fields.Method("get_changes")

    def get_changes(self, preview: Any) -> dict[str, int]:
        return {k: getattr(preview, k) for k in ("created", "updated", "unchanged", "deactivated")}


page_in = PageIn()
import_out = ImportOut()
imports_out = ImportSummaryOut(many=True)
products_out = ProductOut(many=True)
import_preview_out = ImportPreviewOut()
