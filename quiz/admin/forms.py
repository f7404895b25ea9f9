"""flask-wtf forms of the admin pages."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import yaml
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from marshmallow import ValidationError
from wtforms import (
    EmailField,
    IntegerField,
    PasswordField,
    RadioField,
    SelectChoice,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, EqualTo, Length, NumberRange, Optional

from recommender.importers import FORMATS

from ..catalog.mapping import MAPPED_FIELDS
from ..merchants.accounts import MIN_PASSWORD
from ..quizzes.schema import Quiz, load_quiz
from ..quizzes.text import parse_definition_text
from ..quizzes.yaml_hints import explain


class LoginForm(FlaskForm):
    """Email and password."""

    email = EmailField("Email", validators=[DataRequired(), Length(max=320)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=200)])
    submit = SubmitField("Log in")


class PasswordForm(FlaskForm):
    """The current password and a new one, twice."""

    current_password = PasswordField(
        "Current password",
        validators=[DataRequired("Enter your current password."), Length(max=200)],
        render_kw={"autocomplete": "current-password"},
    )
    new_password = PasswordField(
        "New password",
        validators=[
            DataRequired("Choose a new password."),
            Length(
                min=MIN_PASSWORD,
                max=200,
                message=f"Use at least {MIN_PASSWORD} and at most 200 characters.",
            ),
        ],
        render_kw={"autocomplete": "new-password", "minlength": MIN_PASSWORD},
    )
    new_password_again = PasswordField(
        "New password, again",
        validators=[
            DataRequired("Type the new password a second time."),
            EqualTo("new_password", "The two new passwords differ."),
        ],
        render_kw={"autocomplete": "new-password"},
    )
    submit = SubmitField("Change password")


class UploadForm(FlaskForm):
    """A catalog file, its format (detected unless chosen) and the import mode."""

    file = FileField("Catalog file", validators=[FileRequired("Choose a catalog file to upload.")])
    format = SelectField(
        "Format",
        choices=[SelectChoice("", "Detect automatically")] + [SelectChoice(f, f.replace("_", " ")) for f in FORMATS],
        validate_choice=True,
        default="",
    )
    mode = RadioField(
        "Mode",
        choices=[
            SelectChoice("upsert", "Add and update: products not in the file stay as they are"),
            SelectChoice("full", "Full catalog: products not in the file become unavailable"),
        ],
        default="upsert",
    )
    submit = SubmitField("Upload and preview")


class ActionForm(FlaskForm):
    """A bare form for buttons that change something (CSRF only)."""

    submit = SubmitField("Confirm")


class QuizEditorForm(FlaskForm):
    """The quiz definition as YAML or JSON, and what to do with it (ids prefixed: questions use plain ones)."""

    definition = TextAreaField(
        "Quiz definition (YAML or JSON)",
        id="quiz-definition",
        validators=[DataRequired("Write or paste a quiz definition.")],
        render_kw={"rows": 28, "spellcheck": "false", "autocapitalize": "off", "autocomplete": "off"},
    )
    check = SubmitField("Check", id="quiz-check")
    preview = SubmitField("Preview", id="quiz-preview")
    publish = SubmitField("Publish as a new version", id="quiz-publish")

    def clean(self) -> tuple[dict[str, Any], Quiz] | None:
        """Return the definition parsed and loaded, or None with every problem on ``definition``."""
        if not self.validate():
            return None
        try:
            definition = parse_definition_text(self.definition.data)
            return definition, load_quiz(definition)
        except ValueError as exc:
            self.definition.errors = [str(exc)]
        except ValidationError as exc:
            self.definition.errors = _problems(exc.messages, self.definition.data, definition)
        return None


def _problems(messages: Mapping[str, list[str]] | Any, text: str, definition: Mapping[str, Any]) -> list[str]:
    """Return ``line N, path: message`` lines (with a fix where it is clear) from load_quiz's flat error dict."""
    if not isinstance(messages, Mapping):
        return [str(messages)]
    return [
        m if path == "_schema" else explain(text, definition, path, m)
        for path, found in messages.items()
        for m in found
    ]


class SegmentForm(FlaskForm):
    """A segment: its name and its rules as YAML (a list; every rule must hold)."""

    name = StringField("Name", validators=[DataRequired("Give the segment a name."), Length(max=120)])
    rules = TextAreaField(
        "Rules (YAML list; a profile must meet all of them)", id="segment-rules", render_kw={"rows": 10}
    )
    count = SubmitField("Count")
    save = SubmitField("Save segment")

    def definition(self) -> dict[str, Any] | None:
        """Return ``{name, rules}`` as typed, or None with the rules field's error set."""
        try:
            rules = yaml.safe_load(self.rules.data or "") or []
        except yaml.YAMLError as exc:
            self.rules.errors = [f"The rules are not valid YAML: {str(exc).splitlines()[0]}"]
            return None
        return {"name": (self.name.data or "").strip(), "rules": rules}

    def show_errors(self, messages: Mapping[str, list[str]]) -> None:
        """Put validation messages by path on the fields ("rules[0].question: ...")."""
        self.name.errors = list(messages.get("name", []))
        self.rules.errors = [f"{path}: {m}" for path, ms in messages.items() if path != "name" for m in ms]


class ExplainerForm(FlaskForm):
    """The explainer, every language, as YAML."""

    content = TextAreaField("Explainer (YAML, one block per language)", id="explainer-content", render_kw={"rows": 30})
    submit = SubmitField("Publish as a new version")

    def parsed(self) -> Any | None:
        """Return the YAML typed, or None with the field's error set."""
        try:
            return yaml.safe_load(self.content.data or "")
        except yaml.YAMLError as exc:
            self.content.errors = [f"Not valid YAML: {str(exc).splitlines()[0]}"]
            return None


class ClusterSettingForm(FlaskForm):
    """How many taste clusters to form."""

    k = SelectField(
        "Number of clusters",
        choices=[SelectChoice("", "Chosen by silhouette"), *(SelectChoice(str(k)) for k in range(2, 9))],
    )
    submit = SubmitField("Save")


class WebhookForm(FlaskForm):
    """A URL to send signed events to."""

    url = StringField("Webhook URL", validators=[DataRequired("Give the URL to send events to."), Length(max=2000)])
    submit = SubmitField("Add webhook")


class CampaignExportForm(FlaskForm):
    """Which channel's audience to download, in which format, with how many products each."""

    channel = SelectField(
        "Channel", choices=[SelectChoice("email", "Email"), SelectChoice("sms", "SMS")], validators=[DataRequired()]
    )
    format = SelectField(
        "File", choices=[SelectChoice("csv", "CSV (Klaviyo, Mailchimp)"), SelectChoice("json", "JSON")]
    )
    segment = SelectField("Segment", choices=[SelectChoice("", "Everyone")], validate_choice=False)
    products = IntegerField(
        "Products per shopper", default=3, validators=[NumberRange(0, 10, "Choose from 0 to 10 products.")]
    )
    submit = SubmitField("Download")


class PartnerSitesForm(FlaskForm):
    """The partner sites allowed to embed the quiz widget, one origin per line."""

    origins = TextAreaField("Sites allowed to embed your quiz (one per line)", id="origins", render_kw={"rows": 6})
    submit = SubmitField("Save sites")

    def origin_lines(self) -> list[str]:
        """Return the lines typed, blank ones dropped."""
        return [line.strip() for line in (self.origins.data or "").splitlines() if line.strip()]


class ShopSettingsForm(FlaskForm):
    """Shop settings the shopper's pages use: the add-to-cart address pattern."""

    cart_url_pattern = StringField(
        "Add-to-cart address", id="cart_url_pattern", render_kw={"maxlength": 2000, "spellcheck": "false"}
    )
    submit = SubmitField("Save settings")


class MappingForm(FlaskForm):
    """Which column (CSV) or key (JSON, dotted for nesting) holds each field."""

    submit = SubmitField("Save mapping")


for _name in MAPPED_FIELDS:
    setattr(MappingForm, _name, StringField(_name.replace("_", " "), validators=[Optional(), Length(max=200)]))
