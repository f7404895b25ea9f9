"""flask-wtf forms of the shopper pages; quiz sections are built from the quiz definition."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask_babel import gettext
from flask_wtf import FlaskForm
from markupsafe import Markup, escape
from wtforms import (
    BooleanField,
    Field,
    HiddenField,
    RadioField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.widgets import CheckboxInput, ListWidget, html_params

from ..platform.i18n import N_
from ..privacy.receipts import layered_notice
from ..quizzes.answers import AnswerError, clean_answers, is_visible
from ..quizzes.schema import Question, Quiz, Section
from .channel import form_meta

# Browsers offer the right keyboard and autofill for the answers with a known role.
TEXT_INPUTS: dict[str, dict[str, str]] = {
    "email": {"type": "email", "autocomplete": "email", "spellcheck": "false"},
    "phone": {"type": "tel", "autocomplete": "tel"},
    "first_name": {"autocomplete": "given-name"},
}


class ShopperForm(FlaskForm):
    """Base of the shopper forms: CSRF from the session on the site, from signed tokens in the widget."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs["meta"] = {**form_meta(), **kwargs.get("meta", {})}
        super().__init__(*args, **kwargs)


class TranslatedForm(ShopperForm):
    """A form whose labels, written in English and marked with ``N_``, show in the request's language."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for field in self:
            field.label.text = gettext(field.label.text)


class ConsentForm(TranslatedForm):
    """The explainer's choices: three equally prominent ways to decide, nothing pre-ticked."""

    explainer_version = HiddenField()
    # "1" when the shopper unfolded the notice's details before deciding, "0" when not; set by
    # quiz.js, so empty (not known) without JavaScript. Kept with the decision for the receipt.
    details_opened = HiddenField()
    profile = BooleanField(N_("Keep my profile"))
    email = BooleanField(N_("Email"))
    sms = BooleanField(N_("SMS"))
    accept_all = SubmitField(N_("Accept all"))
    necessary_only = SubmitField(N_("Only what's needed"))
    save_choices = SubmitField(N_("Save my choices"))

    def purposes(self) -> dict[str, bool]:
        """Return the decision the button pressed stands for."""
        if self.accept_all.data:
            return {"recommendations": True, "profile": True, "email": True, "sms": True}
        if self.necessary_only.data:
            return {"recommendations": True, "profile": False, "email": False, "sms": False}
        return {
            "recommendations": True,
            "profile": bool(self.profile.data),
            "email": bool(self.email.data),
            "sms": bool(self.sms.data),
        }

    def notice_layers(self) -> dict[str, Any]:
        """Return the layers of the notice this decision was made on, as the receipt keeps them."""
        opened = {"1": True, "0": False}.get(self.details_opened.data or "")
        return layered_notice(opened)


class ConsentChangeForm(TranslatedForm):
    """The privacy center's per-purpose switches (showing the current state)."""

    recommendations = BooleanField(N_("Recommendations"))
    profile = BooleanField(N_("Keep my profile"))
    email = BooleanField(N_("Email"))
    sms = BooleanField(N_("SMS"))
    submit = SubmitField(N_("Save my choices"))

    def purposes(self) -> dict[str, bool]:
        """Return the purposes as switched."""
        return {name: bool(getattr(self, name).data) for name in ("recommendations", "profile", "email", "sms")}


class ReconsentForm(TranslatedForm):
    """The purposes asked again after their text changed (only those are shown; nothing ticked)."""

    profile = BooleanField(N_("Keep my profile"))
    email = BooleanField(N_("Email"))
    sms = BooleanField(N_("SMS"))
    submit = SubmitField(N_("Save my choices"))


class ConfirmEmailForm(TranslatedForm):
    """Confirm an address (a button, so that mail scanners opening the link confirm nothing)."""

    submit = SubmitField(N_("Confirm my email"))


class ResendForm(TranslatedForm):
    """Ask for a new confirmation link after one expired."""

    submit = SubmitField(N_("Send me a new link"))


class ContactEmailForm(TranslatedForm):
    """The results page's "Where should we send your picks?" for a quiz that did not ask for an address."""

    email = StringField(N_("Your email address"), render_kw={**TEXT_INPUTS["email"], "maxlength": 254})
    submit = SubmitField(N_("Send me a confirmation link"))


class SavedLinkForm(TranslatedForm):
    """The "saved" page's offer to email the resume link (shown with email consent)."""

    email = StringField(N_("Your email address"), render_kw={**TEXT_INPUTS["email"], "maxlength": 254})
    submit = SubmitField(N_("Email me the link"))


class DeleteForm(TranslatedForm):
    """Confirm erasure."""

    submit = SubmitField(N_("Delete my data"))


class RangeWidget:
    """Two number inputs, ``NAME-low`` and ``NAME-high``."""

    def __call__(self, field: RangeField, **kwargs: Any) -> Markup:
        low, high = field.raw_pair()
        parts = []
        for end, value, label in (("low", low, gettext("From")), ("high", high, gettext("To"))):
            attrs = html_params(
                type="number",
                id=f"{field.id}-{end}",
                name=f"{field.name}-{end}",
                value=value,
                min=field.bounds[0],
                max=field.bounds[1],
                step="any",
                inputmode="decimal",
                **{"aria-describedby": f"{field.id}-hint"},
            )
            parts.append(f'<label for="{field.id}-{end}">{escape(label)}</label> <input {attrs}>')
        return Markup('<span class="range">' + " ".join(parts) + "</span>")


class RangeField(Field):
    """A ``[low, high]`` answer entered as two numbers."""

    widget = RangeWidget()

    def __init__(self, label: str, bounds: tuple[float, float], **kwargs: Any) -> None:
        super().__init__(label, **kwargs)
        self.bounds = bounds
        self._raw: tuple[str, str] | None = None

    def process(self, formdata: Any, data: Any = None, extra_filters: Any = None) -> None:  # noqa: D102
        super().process(None, data)
        if formdata is not None and (f"{self.name}-low" in formdata or f"{self.name}-high" in formdata):
            self._raw = (formdata.get(f"{self.name}-low", ""), formdata.get(f"{self.name}-high", ""))
            self.data = [_number_or_text(v) for v in self._raw]
            if self.data == ["", ""]:
                self.data = None

    def raw_pair(self) -> tuple[str, str]:
        """Return what to show in the two inputs."""
        if self._raw is not None:
            return self._raw
        if isinstance(self.data, list) and len(self.data) == 2:
            return (f"{self.data[0]:g}", f"{self.data[1]:g}")
        return (f"{self.bounds[0]:g}", f"{self.bounds[1]:g}")


def _number_or_text(value: str) -> float | str:
    try:
        return float(value)
    except ValueError:
        return value.strip()


class MultiCheckboxField(SelectMultipleField):
    """A list of checkboxes."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class SectionForm(ShopperForm):
    """Base of the generated section forms; validation is the quiz's own answer checker."""

    quiz: Quiz
    section: Section

    def answers(self) -> dict[str, Any]:
        """Return the submitted values by question id, as the API would receive them."""
        result: dict[str, Any] = {}
        for question in self.section.questions:
            value = self[question.id].data
            if question.type == "boolean" and value in ("yes", "no"):
                value = value == "yes"
            elif question.type == "scale" and isinstance(value, str) and value:
                value = _number_or_text(value)
            result[question.id] = value
        return result

    def clean(self, earlier: Mapping[str, Any]) -> dict[str, Any] | None:
        """Validate CSRF and the answers; return them cleaned, or None with field errors set."""
        if not self.validate():
            return None
        try:
            return clean_answers(
                self.quiz, self.answers(), complete=True, questions=self.section.questions, earlier=earlier
            )
        except AnswerError as exc:
            for qid, messages in exc.fields.items():
                if qid in self:
                    self[qid].errors = list(messages)
            return None

    def answered(self, earlier: Mapping[str, Any]) -> dict[str, Any] | None:
        """Return the valid answers given so far, required ones missing or not ("save and finish later").

        An answer that does not pass its check (a malformed address, say) is left out, not saved
        half-right. Returns None when the form itself expired (CSRF).
        """
        self.validate()
        if self.errors.get("csrf_token"):
            return None
        self.form_errors.clear()
        for field in self:
            field.errors = []
        given = self.answers()
        kept: dict[str, Any] = {}
        for question in self.section.questions:
            try:
                kept |= clean_answers(
                    self.quiz,
                    {question.id: given.get(question.id)},
                    complete=False,
                    questions=(question,),
                    earlier={**earlier, **kept},
                )
            except AnswerError:
                continue
        return kept


def section_form(quiz: Quiz, section: Section, saved: Mapping[str, Any]) -> SectionForm:
    """Return a bound form for one quiz section, pre-filled with the answers given before."""
    fields = {q.id: _field_for(q) for q in section.questions}
    form_class = type(f"Section_{section.id}", (SectionForm,), {**fields, "quiz": quiz, "section": section})
    data = {q.id: _initial(q, saved.get(q.id)) for q in section.questions if q.id in saved}
    form: SectionForm = form_class(data=data)
    return form


def _initial(question: Question, value: Any) -> Any:
    if question.type == "boolean" and isinstance(value, bool):
        return "yes" if value else "no"
    if question.type == "scale" and isinstance(value, (int, float)):
        return f"{value:g}"
    return value


def _field_for(question: Question) -> Field:
    kwargs: dict[str, Any] = {"description": question.help}
    choices = [SelectChoice(o.value, o.label) for o in question.options]
    kind = question.type
    if kind == "single":
        return RadioField(question.label, choices=choices, validate_choice=False, **kwargs)
    if kind == "country":
        return SelectField(
            question.label,
            choices=[SelectChoice("", gettext("Choose your country")), *choices],
            validate_choice=False,
            **kwargs,
        )
    if kind == "multi":
        return MultiCheckboxField(question.label, choices=choices, validate_choice=False, **kwargs)
    if kind == "text":
        render: dict[str, Any] = {"maxlength": question.max_length, **TEXT_INPUTS.get(question.role or "", {})}
        if question.role == "need":
            return TextAreaField(question.label, render_kw={**render, "rows": 3}, **kwargs)
        return StringField(question.label, render_kw=render, **kwargs)
    if kind == "range":
        return RangeField(question.label, bounds=(question.min or 0, question.max or 0), **kwargs)
    if kind == "scale":
        steps = range(int(question.min or 0), int(question.max or 0) + 1)
        return RadioField(
            question.label, choices=[SelectChoice(str(s)) for s in steps], validate_choice=False, **kwargs
        )
    if kind == "boolean":
        return RadioField(
            question.label,
            choices=[SelectChoice("yes", gettext("Yes")), SelectChoice("no", gettext("No"))],
            validate_choice=False,
            **kwargs,
        )
    raise ValueError(f"no form field for question type {kind!r}")


def asked_questions(section: Section, earlier: Mapping[str, Any]) -> list[Question]:
    """Return the questions to show: conditions on earlier pages are settled, same-page ones can't be."""
    own = {q.id for q in section.questions}
    return [q for q in section.questions if any(ref in own for ref in q.show_if) or is_visible(q, earlier)]
