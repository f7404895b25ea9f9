"""The server-rendered shopper pages: explainer, quiz, results, privacy center."""

from flask import Blueprint

bp = Blueprint("shopper", __name__)

from . import privacy, views  # noqa: E402,F401  (routes register on import)
