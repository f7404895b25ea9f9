"""Flask extensions, created unbound here and bound to the app in ``create_app``."""

from __future__ import annotations

from flask_wtf import CSRFProtect

from .limits import AppLimiter, client_address

csrf = CSRFProtect()
limiter = AppLimiter(key_func=client_address)  # bound by quiz.limits.init_app; limits in docs/security.md
