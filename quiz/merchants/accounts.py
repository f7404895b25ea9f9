"""Merchant admin accounts: scrypt-hashed passwords and authentication."""

from __future__ import annotations

import re
import secrets

import sqlalchemy as sa
from flask import current_app
from werkzeug.security import check_password_hash, generate_password_hash

from ..models import AdminUser, Merchant, utcnow
from ..platform.db import get_session

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MIN_PASSWORD = 12
# OWASP's scrypt parameters (N=2^17, r=8, p=1); tests may lower the cost through config.
DEFAULT_HASH_METHOD = "scrypt:131072:8:1"
DUMMY_HASHES = "attune.dummy_password_hashes"


class AccountError(ValueError):
    """An admin account cannot be created as asked."""


def create_admin(merchant: Merchant, email: str, password: str) -> AdminUser:
    """Create an admin login for ``merchant``."""
    email = email.strip().lower()
    if not EMAIL.match(email):
        raise AccountError(f"{email!r} is not an email address")
    if len(password) < MIN_PASSWORD:
        raise AccountError(f"the password must have at least {MIN_PASSWORD} characters")
    if get_session().scalar(sa.select(AdminUser.id).where(AdminUser.email == email)) is not None:
        raise AccountError(f"an admin with email {email!r} already exists")
    user = AdminUser(merchant_id=merchant.id, email=email, password_hash=generate_password_hash(password, _method()))
    get_session().add(user)
    get_session().flush()
    return user


def authenticate(email: str, password: str) -> AdminUser | None:
    """Return the admin with these credentials, or None (taking the same time either way)."""
    user = get_session().scalar(sa.select(AdminUser).where(AdminUser.email == email.strip().lower()))
    if user is None:
        check_password_hash(_dummy_hash(), password)  # same cost as a real check: no email probing
        return None
    if not check_password_hash(user.password_hash, password):
        return None
    user.last_login_at = utcnow()
    get_session().flush()
    return user


def set_password(user: AdminUser, password: str) -> None:
    """Store a new password for ``user`` (callers end the user's other logins: quiz/merchants/admin_logins.py)."""
    if len(password) < MIN_PASSWORD:
        raise AccountError(f"the password must have at least {MIN_PASSWORD} characters")
    user.password_hash = generate_password_hash(password, _method())
    get_session().flush()


def password_matches(user: AdminUser, password: str) -> bool:
    """Return True if ``password`` is the admin's current password."""
    return check_password_hash(user.password_hash, password)


def _method() -> str:
    return str(current_app.config.get("PASSWORD_HASH_METHOD", DEFAULT_HASH_METHOD))


def _dummy_hash() -> str:
    """Return a hash made with the configured method, to check unknown emails against."""
    cache: dict[str, str] = current_app.extensions.setdefault(DUMMY_HASHES, {})
    method = _method()
    if method not in cache:
        cache[method] = generate_password_hash(secrets.token_urlsafe(16), method)
    return cache[method]
