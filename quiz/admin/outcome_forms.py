"""flask-wtf forms of the outcome pages: the orders upload, a new A/B test, nothing bought shown again."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    DecimalField,
    FieldList,
    Form,
    FormField,
    IntegerField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
)
from wtforms.validators import DataRequired, InputRequired, Length, Optional

VARIANT_ROWS = 3


class OrdersUploadForm(FlaskForm):
    """An order file (Shopify's orders CSV export or an invoices table) and, for invoices, a currency."""

    file = FileField("Orders file", validators=[FileRequired("Choose an orders file to upload.")])
    currency = StringField(
        "Currency of an invoices table (only when the shop has no catalog yet)",
        validators=[Optional(), Length(min=3, max=3, message="Give a three-letter currency code, like EUR.")],
    )
    submit = SubmitField("Import orders")


class DaysField(IntegerField):
    """A whole number of days, refused in plain words when it is not one."""

    def process_formdata(self, valuelist: list[Any]) -> None:
        if valuelist and not str(valuelist[0]).strip():
            self.data = None  # left empty: InputRequired says what to give
            return
        try:
            super().process_formdata(valuelist)
        except ValueError as exc:
            raise ValueError("Give a whole number of days, like 90 (0 turns this off).") from exc


class BoughtSettingsForm(FlaskForm):
    """How long a bought product stays out of a shopper's picks, and the categories bought again."""

    hide_bought_days = DaysField(
        "Days before a bought product is recommended again",
        validators=[InputRequired("Give a number of days (0 turns this off).")],
        render_kw={"min": 0, "max": 3650, "inputmode": "numeric"},
    )
    # The choices are the catalog's categories, listed by the page; the service refuses any other.
    rebuy_categories = SelectMultipleField("Categories bought again and again", choices=[], validate_choice=False)
    save_bought = SubmitField("Save")

    def show_problems(self, messages: Mapping[str, str]) -> None:
        """Put the service's messages on the fields they are about."""
        for name, message in messages.items():
            field = getattr(self, name, None)
            if field is not None:
                field.errors = [message]


class VariantForm(Form):
    """One arm of an A/B test (a sub-form: the experiment form carries the CSRF token)."""

    name = StringField("Name", validators=[Length(max=60)])
    quiz_version = SelectField("Quiz", choices=[], validate_choice=False, default="")
    diversity = BooleanField("Mix categories in the results (diversity)", default=True)
    category_prior = BooleanField("Favour the categories the shopper picked (category prior)", default=True)
    weight = DecimalField("Share of shoppers (weight)", default=1, validators=[Optional()], places=None)


class ExperimentForm(FlaskForm):
    """A new A/B test: its name, what it is judged on, two or three variants."""

    name = StringField("Name of the test", validators=[DataRequired("Give the test a name."), Length(max=120)])
    metric = SelectField(
        "Judge the variants on",
        choices=[
            SelectChoice("completion", "Finishing the quiz (completion)"),
            SelectChoice("conversion", "Ordering after the quiz (conversion)"),
            SelectChoice("revenue_per_visitor", "Revenue per shopper shown the quiz"),
        ],
        default="completion",
    )
    variants = FieldList(FormField(VariantForm), min_entries=VARIANT_ROWS, max_entries=VARIANT_ROWS)
    submit = SubmitField("Create the test")

    def set_versions(self, choices: list[SelectChoice]) -> None:
        """Offer ``choices`` as each variant's quiz."""
        for entry in self.variants:
            entry.form.quiz_version.choices = choices

    def named(self) -> list[VariantForm]:
        """Return the variant rows the merchant filled in (a row without a name is left out)."""
        return [e.form for e in self.variants if (e.form.name.data or "").strip()]

    def data_for_api(self) -> dict[str, Any]:
        """Return the test as ``POST /api/v1/experiments`` takes it."""
        variants = [
            {
                "name": sub.name.data.strip(),
                "quiz_version": int(sub.quiz_version.data) if str(sub.quiz_version.data or "").isdigit() else None,
                "settings": {"diversity": bool(sub.diversity.data), "category_prior": bool(sub.category_prior.data)},
                "weight": float(sub.weight.data) if sub.weight.data is not None else 0.0,
            }
            for sub in self.named()
        ]
        return {"name": self.name.data, "metric": self.metric.data, "variants": variants}

    def show_problems(self, messages: Mapping[str, Any]) -> None:
        """Put the API's field messages on the fields they are about (variants by their place among the named)."""
        named = self.named()
        for key, found in messages.items():
            if key == "variants" and isinstance(found, Mapping):
                for index, fields in found.items():
                    position = int(index) if str(index).isdigit() else len(named)
                    if position >= len(named) or not isinstance(fields, Mapping):
                        continue
                    for field_name, problems in fields.items():
                        target = getattr(named[position], field_name, None)
                        if target is not None:
                            target.errors = [_text(problems)]
            elif key == "variants":
                self.variants.errors = [_text(found)]
            elif key in ("name", "metric"):
                getattr(self, key).errors = [_text(found)]


def _text(problems: Any) -> str:
    """Return marshmallow's messages (a list, or a dict of nested ones) as one line."""
    if isinstance(problems, Mapping):
        return " ".join(_text(v) for v in problems.values())
    if isinstance(problems, list | tuple):
        return " ".join(_text(p) for p in problems)
    return str(problems)
