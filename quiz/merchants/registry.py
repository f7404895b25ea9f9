"""Merchants: look-up by slug and creation with an admin login and an API key."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass

import sqlalchemy as sa
from flask import abort
from flask_babel import gettext

from ..models import Merchant
from ..platform.db import get_session
from ..quizzes.store import default_definition, publish
from . import api_keys
from .accounts import create_admin

SLUG = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$")


class MerchantError(ValueError):
    """A merchant cannot be created as asked."""


@dataclass(frozen=True)
class NewMerchant:
    """A created merchant with the secrets shown only once."""

    merchant: Merchant
    api_key: str
    admin_email: str
    admin_password: str


def get_by_slug(slug: str) -> Merchant | None:
    """Return the merchant with ``slug``, if any."""
    return get_session().scalar(sa.select(Merchant).where(Merchant.slug == slug))


def get_or_404(slug: str) -> Merchant:
    """Return the merchant with ``slug`` or answer 404."""
    merchant = get_by_slug(slug)
    if merchant is None:
        abort(404, description=gettext("No merchant %(slug)s.", slug=repr(slug)))
    return merchant


def create(slug: str, name: str, email: str | None = None, password: str | None = None) -> NewMerchant:
    """Create a merchant with the default quiz, an admin login and a first API key.

    Without ``password`` one is generated. The key and password are returned only now:
    only their hashes are stored.

    Raises:
        MerchantError: a bad slug or name, or a slug already taken.
        accounts.AccountError: a bad email or password.
    """
    if not SLUG.match(slug):
        raise MerchantError("slug must be 1-64 lowercase letters, digits or hyphens, e.g. 'acme-outdoor'")
    if not name.strip():
        raise MerchantError("name must not be empty")
    if get_by_slug(slug) is not None:
        raise MerchantError(f"a merchant with slug {slug!r} already exists")
    session = get_session()
    merchant = Merchant(slug=slug, name=name.strip())
    session.add(merchant)
    session.flush()
    email = email or f"admin@{slug}.example"
    password = password or secrets.token_urlsafe(15)
    create_admin(merchant, email, password)
    _, key = api_keys.issue(merchant)
    publish(merchant, default_definition(), origin="default")
    return NewMerchant(merchant, key, email, password)
