"""Merchants: look-up by slug, creation with an API key, and key verification."""

from __future__ import annotations

import hashlib
import re
import secrets

import sqlalchemy as sa
from flask import abort

from .db import get_session
from .models import ApiKey, Merchant
from .quizzes import default_definition, publish

SLUG = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$")
KEY_PREFIX = "atk_"


class MerchantError(ValueError):
    """A merchant cannot be created as asked."""


def get_by_slug(slug: str) -> Merchant | None:
    """Return the merchant with ``slug``, if any."""
    return get_session().scalar(sa.select(Merchant).where(Merchant.slug == slug))


def get_or_404(slug: str) -> Merchant:
    """Return the merchant with ``slug`` or answer 404."""
    merchant = get_by_slug(slug)
    if merchant is None:
        abort(404, description=f"No merchant {slug!r}.")
    return merchant


def create(slug: str, name: str) -> tuple[Merchant, str]:
    """Create a merchant with the default quiz and a first API key; return both.

    The key is returned only now: only its digest is stored.
    """
    if not SLUG.match(slug):
        raise MerchantError("slug must be 1-64 lowercase letters, digits or hyphens, e.g. 'acme-outdoor'")
    if not name.strip():
        raise MerchantError("name must not be empty")
    if get_by_slug(slug) is not None:
        raise MerchantError(f"a merchant with slug {slug!r} already exists")
    session = get_session()
    merchant = Merchant(slug=slug, name=name.strip())
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    merchant.api_keys.append(ApiKey(prefix=key[:12], key_hash=hash_key(key)))
    session.add(merchant)
    session.flush()
    publish(merchant, default_definition())
    return merchant, key


def hash_key(key: str) -> str:
    """Return the stored digest of an API key (keys are random, so a fast hash suffices)."""
    return hashlib.sha256(key.encode()).hexdigest()
