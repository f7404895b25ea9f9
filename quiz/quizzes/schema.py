"""The quiz definition format: marshmallow schemas and the typed objects they load into."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from marshmallow import Schema, ValidationError, fields, post_load, validate, validates_schema

from ..platform.body_limits import MAX_DEFINITION_JSON
from ..platform.i18n import LOCALES as SHOPPER_LOCALES
from ..platform.whole_numbers import WholeNumber
from .countries import country_names, sort_key
from .local_text import LOCALE_CODE, LocalizedString, LocalText, localize

QUESTION_TYPES = ("single", "multi", "text", "range", "scale", "boolean", "country")
CHOICE_TYPES = ("single", "multi")
ROLES = ("budget", "first_name", "email", "phone", "need")
DEFAULT_TEXT_LIMIT = 500
# Query weight of a question without an explicit one: free text speaks loudest.
DEFAULT_TEXT_WEIGHT = 1.0
DEFAULT_CHOICE_WEIGHT = 0.35
# MAX_DEFINITION_JSON (quiz.platform.body_limits, which sizes the request bodies by it): far above
# any real quiz as JSON (the default one is 9 kB), far below what strains a request.


@dataclass(frozen=True)
class Option:
    """One answer a shopper can pick, with the signals it sends to the recommender."""

    value: str
    label: str
    signals: Mapping[str, Any] = field(default_factory=dict)
    image: str = ""  # a picture shown with the label (a picture choice); never its only meaning


@dataclass(frozen=True)
class Question:
    """One question of a section."""

    id: str
    type: str
    label: str
    required: bool = False
    help: str = ""
    options: tuple[Option, ...] = ()
    min: float | None = None
    max: float | None = None
    max_length: int | None = None
    show_if: Mapping[str, Any] = field(default_factory=dict)
    weight: float | None = None
    role: str | None = None

    def option(self, value: str) -> Option | None:
        """Return the option with ``value``, if the question has one."""
        return next((o for o in self.options if o.value == value), None)

    @property
    def query_weight(self) -> float:
        """Return how strongly this question's answer shapes the preference query."""
        if self.weight is not None:
            return self.weight
        return DEFAULT_TEXT_WEIGHT if self.type == "text" else DEFAULT_CHOICE_WEIGHT


@dataclass(frozen=True)
class Section:
    """One page of the quiz."""

    id: str
    title: str
    questions: tuple[Question, ...]
    intro: str = ""


@dataclass(frozen=True)
class Quiz:
    """A loaded, validated quiz definition."""

    id: str
    title: str
    sections: tuple[Section, ...]
    locale: str = "en"
    version: int = 0

    def questions(self) -> Iterator[Question]:
        """Yield every question in order."""
        for section in self.sections:
            yield from section.questions

    def question(self, qid: str) -> Question | None:
        """Return the question with id ``qid``."""
        return next((q for q in self.questions() if q.id == qid), None)

    def section(self, sid: str) -> Section | None:
        """Return the section with id ``sid``."""
        return next((s for s in self.sections if s.id == sid), None)

    def localized(self, locale: str) -> Quiz:
        """Return the quiz as shoppers of ``locale`` read it; ids, values and signals are unchanged."""
        if locale == self.locale:
            return self
        shown = map_texts(self, lambda text, _path: localize(text, locale))
        sections = tuple(replace(s, questions=tuple(_sorted_countries(q) for q in s.questions)) for s in shown.sections)
        return replace(shown, locale=locale, sections=sections)


def _sorted_countries(question: Question) -> Question:
    """Return a country question with its options in the order of their (translated) names."""
    if question.type != "country":
        return question
    return replace(question, options=tuple(sorted(question.options, key=lambda o: sort_key(o.label))))


TextMapper = Callable[[str, str], str]


def map_texts(quiz: Quiz, fn: TextMapper) -> Quiz:
    """Return ``quiz`` with ``fn(text, path)`` applied to every text a shopper reads."""

    def option(o: Option, path: str) -> Option:
        signals = dict(o.signals)
        if "reason" in signals:
            signals["reason"] = fn(signals["reason"], f"{path}.signals.reason")
        return replace(o, label=fn(o.label, f"{path}.label"), signals=signals)

    def question(q: Question, path: str) -> Question:
        return replace(
            q,
            label=fn(q.label, f"{path}.label"),
            help=fn(q.help, f"{path}.help"),
            options=tuple(option(o, f"{path}.options[{i}]") for i, o in enumerate(q.options)),
        )

    def section(s: Section, path: str) -> Section:
        return replace(
            s,
            title=fn(s.title, f"{path}.title"),
            intro=fn(s.intro, f"{path}.intro"),
            questions=tuple(question(q, f"{path}.questions[{i}]") for i, q in enumerate(s.questions)),
        )

    return replace(
        quiz,
        title=fn(quiz.title, "title"),
        sections=tuple(section(s, f"sections[{i}]") for i, s in enumerate(quiz.sections)),
    )


def _values() -> fields.Field:
    """A string, or a list of strings."""
    return fields.Raw(validate=_string_or_strings)


def _string_or_strings(value: Any) -> None:
    if isinstance(value, str) or (isinstance(value, list) and value and all(isinstance(v, str) for v in value)):
        return
    raise ValidationError("Give a text or a list of texts.")


class SignalsSchema(Schema):
    """What choosing an option tells the recommender (see docs/quiz-signals.md)."""

    any = fields.Boolean()
    query = fields.String(validate=validate.Length(max=500))
    categories = fields.List(fields.String(), validate=validate.Length(min=1))
    exclude_categories = fields.List(fields.String(), validate=validate.Length(min=1))
    price = fields.List(fields.Float(allow_none=True), validate=validate.Length(equal=2))
    filters = fields.Dict(keys=fields.String(), values=_values())
    boost = fields.Dict(keys=fields.String(), values=_values())
    avoid = fields.Dict(keys=fields.String(), values=_values())
    allow = fields.Dict(keys=fields.String(), values=_values())
    reason = LocalizedString(200)
    pin = fields.List(fields.String(), validate=validate.Length(min=1, max=12))
    exclude = fields.List(fields.String(), validate=validate.Length(min=1))
    max_age = WholeNumber(validate=validate.Range(0, 150))


class OptionSchema(Schema):
    value = fields.String(required=True, validate=validate.Length(1, 100))
    label = LocalizedString(200, required=True, validate=validate.Length(min=1))
    signals = fields.Nested(SignalsSchema, load_default=dict)
    image = fields.String(
        validate=[
            validate.Length(max=1000),
            validate.Regexp(
                r"^(https://|/(?!/))[^\s\"'<>]*$", error="Give an https:// address or a path starting with /."
            ),
        ]
    )

    @post_load
    def make(self, data: dict[str, Any], **_: Any) -> Option:
        return Option(**data)


class QuestionSchema(Schema):
    id = fields.String(
        required=True,
        validate=validate.Regexp(r"^[a-z][a-z0-9_]{0,63}$", error="Use lowercase letters, digits and _ (max 64)."),
    )
    type = fields.String(required=True, validate=validate.OneOf(QUESTION_TYPES))
    label = LocalizedString(300, required=True, validate=validate.Length(min=1))
    required = fields.Boolean(load_default=False)
    help = LocalizedString(1000, load_default="")
    options = fields.List(fields.Nested(OptionSchema), load_default=list)
    min = fields.Float(load_default=None, allow_none=True)
    max = fields.Float(load_default=None, allow_none=True)
    max_length = WholeNumber(load_default=None, allow_none=True, validate=validate.Range(1, 5000))
    show_if = fields.Dict(keys=fields.String(), load_default=dict)
    weight = fields.Float(load_default=None, allow_none=True, validate=validate.Range(0, 10))
    role = fields.String(load_default=None, allow_none=True, validate=validate.OneOf(ROLES))

    @validates_schema
    def check_shape(self, data: dict[str, Any], **_: Any) -> None:
        kind = data.get("type")
        options = data.get("options") or []
        if kind in CHOICE_TYPES and not options:
            raise ValidationError("A choice question needs at least one option.", "options")
        values = [o.value for o in options]
        if len(values) != len(set(values)):
            raise ValidationError("Option values must be unique.", "options")
        low, high = data.get("min"), data.get("max")
        if kind in ("range", "scale") and (low is None or high is None or low >= high):
            raise ValidationError("Give both min and max, with min below max.", "max")
        if kind == "multi" and high is not None and low is not None and low > high:
            raise ValidationError("min selections cannot exceed max.", "min")

    @post_load
    def make(self, data: dict[str, Any], **_: Any) -> Question:
        if data["type"] == "text" and data["max_length"] is None:
            data["max_length"] = DEFAULT_TEXT_LIMIT
        data["options"] = tuple(data["options"])
        return Question(**data)


class SectionSchema(Schema):
    id = fields.String(required=True, validate=validate.Regexp(r"^[a-z][a-z0-9_]{0,63}$"))
    title = LocalizedString(200, required=True, validate=validate.Length(min=1))
    intro = LocalizedString(1000, load_default="")
    questions = fields.List(fields.Nested(QuestionSchema), required=True, validate=validate.Length(min=1))

    @post_load
    def make(self, data: dict[str, Any], **_: Any) -> Section:
        data["questions"] = tuple(data["questions"])
        return Section(**data)


class QuizSchema(Schema):
    id = fields.String(required=True, validate=validate.Length(1, 64))
    title = LocalizedString(200, required=True, validate=validate.Length(min=1))
    locale = fields.String(load_default="en", validate=validate.Regexp(LOCALE_CODE))
    sections = fields.List(fields.Nested(SectionSchema), required=True, validate=validate.Length(min=1))

    @validates_schema
    def check_references(self, data: dict[str, Any], **_: Any) -> None:
        errors: dict[str, list[str]] = {}
        seen: dict[str, Question] = {}
        section_ids: set[str] = set()
        for si, section in enumerate(data.get("sections") or []):
            if section.id in section_ids:
                errors[f"sections[{si}].id"] = [f"Duplicate section id {section.id!r}."]
            section_ids.add(section.id)
            for qi, question in enumerate(section.questions):
                path = f"sections[{si}].questions[{qi}]"
                if question.id in seen:
                    errors[f"{path}.id"] = [f"Duplicate question id {question.id!r}."]
                for ref in question.show_if:
                    if ref not in seen:
                        errors[f"{path}.show_if"] = [f"{ref!r} is not an earlier question."]
                seen[question.id] = question
        if errors:
            raise ValidationError(errors)

    @validates_schema
    def check_languages(self, data: dict[str, Any], **_: Any) -> None:
        if "sections" not in data or "title" not in data:
            return
        own = data.get("locale", "en")
        errors: dict[str, list[str]] = {}

        def check(text: str, path: str) -> str:
            if isinstance(text, LocalText) and own not in text.translations:
                errors[path] = [f"Give the {own!r} text: it is the quiz's own language (its locale)."]
            return text

        map_texts(Quiz("", data["title"], tuple(data["sections"])), check)
        if errors:
            raise ValidationError(errors)

    @post_load
    def make(self, data: dict[str, Any], **_: Any) -> Quiz:
        own = data["locale"]
        quiz = Quiz(**{**data, "sections": tuple(data["sections"])})
        quiz = map_texts(quiz, lambda text, _path: _based_on(text, own))
        return replace(quiz, sections=tuple(_with_countries(s, own) for s in quiz.sections))


def _based_on(text: str, locale: str) -> str:
    """Return ``text`` with ``locale`` as its plain value."""
    return LocalText(text.translations, locale) if isinstance(text, LocalText) else text


def _with_countries(section: Section, locale: str) -> Section:
    """Give ``country`` questions without options of their own every country, named per language."""
    if not any(q.type == "country" and not q.options for q in section.questions):
        return section
    locales = (locale, *(code for code in SHOPPER_LOCALES if code != locale))
    options = tuple(Option(code, LocalText(names, locale)) for code, names in country_names(locales))
    questions = tuple(
        replace(q, options=options) if q.type == "country" and not q.options else q for q in section.questions
    )
    return replace(section, questions=questions)


quiz_schema = QuizSchema()


def flatten_errors(messages: Any, prefix: str = "") -> dict[str, list[str]]:
    """Turn marshmallow's nested error dict into ``{"sections[1].questions[2].options": [...]}``."""
    flat: dict[str, list[str]] = {}
    if isinstance(messages, Mapping):
        for key, value in messages.items():
            if isinstance(key, int):
                path = f"{prefix}[{key}]"
            elif key == "_schema":
                path = prefix
            else:
                path = f"{prefix}.{key}" if prefix else str(key)
            if isinstance(value, list) and all(isinstance(v, str) for v in value):
                flat.setdefault(path or "_schema", []).extend(value)
            else:
                flat.update(flatten_errors(value, path))
    elif isinstance(messages, list):
        flat.setdefault(prefix or "_schema", []).extend(str(m) for m in messages)
    return flat


def load_quiz(definition: Mapping[str, Any], version: int = 0) -> Quiz:
    """Validate a raw definition and return it loaded.

    Raises:
        ValidationError: with ``messages`` flattened to dotted paths.
    """
    _check_storable(definition)
    try:
        quiz: Quiz = quiz_schema.load(definition)
    except ValidationError as exc:
        raise ValidationError(flatten_errors(exc.messages)) from exc
    return Quiz(quiz.id, quiz.title, quiz.sections, quiz.locale, version)


def _check_storable(definition: Any) -> None:
    """Refuse NaN, infinities and absurd sizes, which no JSON column or JSON response can hold."""
    # Free-form values (show_if) pass the schema as they are, so check the whole document here.
    try:
        text = json.dumps(definition, allow_nan=False)
    except (TypeError, ValueError, RecursionError) as exc:
        message = "The definition holds values JSON cannot store (NaN, Infinity, binary data): replace them."
        raise ValidationError({"_schema": [message]}) from exc
    if len(text) > MAX_DEFINITION_JSON:
        message = f"The definition is {len(text):,} characters as JSON; keep it under {MAX_DEFINITION_JSON:,}."
        raise ValidationError({"_schema": [message]})
