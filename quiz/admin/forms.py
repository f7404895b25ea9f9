"""flask-wtf forms of the admin pages."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import EmailField, PasswordField, RadioField, SelectChoice, SelectField, StringField, SubmitField
from wtforms.validators import DataRequired, Length, Optional

from recommender.importers import FORMATS

MAPPED_FIELDS = (
    "id",
    "title",
    "description",
    "brand",
    "category",
    "tags",
    "price",
    "currency",
    "url",
    "image_url",
    "available",
)


class LoginForm(FlaskForm):
    """Email and password."""

    email = EmailField("Email", validators=[DataRequired(), Length(max=320)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=200)])
    submit = SubmitField("Log in")


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
    submit = SubmitField("Upload and import")


class ActionForm(FlaskForm):
    """A bare form for buttons that change something (CSRF only)."""

    submit = SubmitField("Confirm")


class MappingForm(FlaskForm):
    """Which column (CSV) or key (JSON, dotted for nesting) holds each field."""

    submit = SubmitField("Save mapping")


for _name in MAPPED_FIELDS:
    setattr(MappingForm, _name, StringField(_name.replace("_", " "), validators=[Optional(), Length(max=200)]))
