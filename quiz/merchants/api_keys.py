"""Merchant API keys: issued once, stored as SHA-256 digests, listed by prefix, rotated, revoked."""

from __future__ import annotations

import hashlib
import secrets

import sqlalchemy as sa

from ..models import ApiKey, Merchant, utcnow
from ..platform.db import get_session

KEY_PREFIX = "atk_"
SHOWN_PREFIX = 12


def hash_key(key: str) -> str:
    """Return the stored digest of an API key (keys are 256-bit random, so a fast hash suffices)."""
    return hashlib.sha256(key.encode()).hexdigest()


def issue(merchant: Merchant) -> tuple[ApiKey, str]:
    """Create a key for ``merchant``; the plain key is returned only now."""
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    row = ApiKey(merchant_id=merchant.id, prefix=key[:SHOWN_PREFIX], key_hash=hash_key(key))
    get_session().add(row)
    get_session().flush()
    return row, key


def list_keys(merchant: Merchant) -> list[ApiKey]:
    """Return the merchant's keys, newest first."""
    return list(
        get_session().scalars(sa.select(ApiKey).where(ApiKey.merchant_id == merchant.id).order_by(ApiKey.id.desc()))
    )


def get_key(merchant: Merchant, key_id: int) -> ApiKey | None:
    """Return one of the merchant's keys (None for another merchant's)."""
    return get_session().scalar(sa.select(ApiKey).where(ApiKey.id == key_id, ApiKey.merchant_id == merchant.id))


def revoke(key: ApiKey) -> None:
    """Stop a key from authenticating, at once."""
    if key.revoked_at is None:
        key.revoked_at = utcnow()
        get_session().flush()


def rotate(merchant: Merchant, key: ApiKey) -> str:
    """Revoke ``key`` and return its replacement."""
    revoke(key)
    return issue(merchant)[1]


def merchant_for(key: str) -> Merchant | None:
    """Return the merchant an active key belongs to."""
    return get_session().scalar(
        sa.select(Merchant).join(ApiKey).where(ApiKey.key_hash == hash_key(key), ApiKey.revoked_at.is_(None))
    )
