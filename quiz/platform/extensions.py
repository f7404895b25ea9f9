"""Flask extensions, created unbound here and bound to the app in ``create_app``."""

from __future__ import annotations

from flask_wtf import CSRFProtect

from .limits import limiter

csrf = CSRFProtect()

__all__ = ["csrf", "limiter"]
