"""A marshmallow field for whole numbers as JSON Schema counts them: 5 and 5.0, never 2.5 or true."""

from __future__ import annotations

from typing import Any

from marshmallow import fields


class WholeNumber(fields.Integer):
    """An integer that refuses fractions instead of truncating them (2.5 is an error, not 2).

    JSON Schema's ``integer`` admits 5.0, so it is read as 5; marshmallow's ``strict`` would
    refuse it, and its default would take 2.5 as 2. Booleans and numeric strings are refused too:
    a JSON body says a number as a number.
    """

    default_error_messages = {"invalid": "Not a valid whole number."}

    def _validated(self, value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self.make_error("invalid")
        if isinstance(value, float) and not value.is_integer():
            raise self.make_error("invalid")
        return int(value)
