"""Attribution references (`attune_ref`): signed, opaque names of one recommendation shown.

A reference says which product was recommended, to which subject, where (site, widget, email),
on which quiz version and when: never the shopper's answers. It rides on recommendation links
and back to Attune with the shop's events and orders, so a click is attributed without cookies.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer

SALT = "attune.ref.v1"
CHANNELS = ("site", "widget", "email", "api")


@dataclass(frozen=True)
class Reference:
    """One recommendation shown: to whom (a subject at a merchant), what, where and when."""

    merchant_id: int
    subject_id: str
    product_id: str
    channel: str
    quiz_version: int
    shown_at: dt.datetime


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=SALT)


def issue(reference: Reference) -> str:
    """Return the `attune_ref` naming ``reference``."""
    return str(
        _serializer().dumps(
            {
                "m": reference.merchant_id,
                "s": reference.subject_id,
                "p": reference.product_id,
                "c": reference.channel,
                "v": reference.quiz_version,
                "t": int(reference.shown_at.timestamp()),
            }
        )
    )


def read(token: str, merchant_id: int) -> Reference | None:
    """Return the reference ``token`` names at ``merchant_id``; None when forged, malformed or another merchant's."""
    try:
        data = _serializer().loads(token)
    except BadSignature:
        return None
    fields = {"m": int, "s": str, "p": str, "c": str, "v": int, "t": int}
    if not isinstance(data, dict) or any(not isinstance(data.get(k), t) for k, t in fields.items()):
        return None
    if data["m"] != merchant_id or data["c"] not in CHANNELS:
        return None
    shown = dt.datetime.fromtimestamp(data["t"], dt.UTC)
    return Reference(data["m"], data["s"], data["p"], data["c"], data["v"], shown)
