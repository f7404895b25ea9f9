"""Subject tokens: signed, opaque handles on an anonymous shopper of one merchant."""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer

SALT = "attune.subject.v1"


@dataclass(frozen=True)
class Subject:
    """Who a token speaks for: a random subject id at one merchant."""

    subject_id: str
    merchant_id: int


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=SALT)


def issue_token(subject: Subject) -> str:
    """Return a token that identifies ``subject`` to the API and the privacy page."""
    return str(_serializer().dumps({"s": subject.subject_id, "m": subject.merchant_id}))


def read_token(token: str) -> Subject | None:
    """Return the subject of a token, or None when it is forged or malformed."""
    try:
        data = _serializer().loads(token)
    except BadSignature:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("s"), str) or not isinstance(data.get("m"), int):
        return None
    return Subject(data["s"], data["m"])
