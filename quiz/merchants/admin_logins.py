"""Admin logins kept on the server: started at login, checked on every admin request, ended at will.

The session cookie carries a random login id; the table holds only its SHA-256 digest (a 256-bit
random value needs no slow hash). A login ends when its admin logs out, changes the password
(every other login of that admin), presses "log out everywhere" (all of them), or when
``PERMANENT_SESSION_LIFETIME`` has passed since it started, whatever the cookie says.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

import sqlalchemy as sa

from ..models import AdminLogin, AdminUser, utcnow
from ..platform.db import get_session

# "Last seen" is written at most this often per login: an admin clicking around is not a write per request.
SEEN_RESOLUTION = dt.timedelta(minutes=1)


def _digest(login_id: str) -> str:
    return hashlib.sha256(login_id.encode()).hexdigest()


def start(user: AdminUser) -> str:
    """Record a new login of ``user``; return its id for the cookie (returned only now)."""
    login_id = secrets.token_urlsafe(32)
    get_session().add(AdminLogin(admin_user_id=user.id, token_hash=_digest(login_id)))
    get_session().flush()
    return login_id


def find_active(login_id: str, lifetime: dt.timedelta, now: dt.datetime | None = None) -> AdminLogin | None:
    """Return the login with this id if it has not ended and started less than ``lifetime`` ago."""
    now = now or utcnow()
    return get_session().scalar(
        sa.select(AdminLogin).where(
            AdminLogin.token_hash == _digest(login_id),
            AdminLogin.ended_at.is_(None),
            AdminLogin.created_at > now - lifetime,
        )
    )


def touch(login: AdminLogin, now: dt.datetime | None = None) -> bool:
    """Move the login's "last seen" to now when it is older than SEEN_RESOLUTION; True if it changed."""
    now = now or utcnow()
    seen = login.last_seen_at if login.last_seen_at.tzinfo else login.last_seen_at.replace(tzinfo=dt.UTC)
    if now - seen < SEEN_RESOLUTION:
        return False
    login.last_seen_at = now
    get_session().flush()
    return True


def end(login: AdminLogin) -> None:
    """End one login, at once."""
    if login.ended_at is None:
        login.ended_at = utcnow()
        get_session().flush()


def end_all(user: AdminUser, keep: AdminLogin | None = None) -> int:
    """End every login of ``user`` but ``keep``; return how many ended."""
    query = sa.update(AdminLogin).where(AdminLogin.admin_user_id == user.id, AdminLogin.ended_at.is_(None))
    if keep is not None:
        query = query.where(AdminLogin.id != keep.id)
    result = get_session().execute(query.values(ended_at=utcnow()))
    get_session().expire_all()  # loaded logins see their new end
    return int(getattr(result, "rowcount", 0) or 0)


def active(user: AdminUser, lifetime: dt.timedelta) -> list[AdminLogin]:
    """Return the logins of ``user`` that are still valid, newest first."""
    return list(
        get_session().scalars(
            sa.select(AdminLogin)
            .where(
                AdminLogin.admin_user_id == user.id,
                AdminLogin.ended_at.is_(None),
                AdminLogin.created_at > utcnow() - lifetime,
            )
            .order_by(AdminLogin.created_at.desc(), AdminLogin.id.desc())
        )
    )


def purge(lifetime: dt.timedelta, now: dt.datetime | None = None) -> int:
    """Delete logins that have ended or outlived ``lifetime``; return how many."""
    now = now or utcnow()
    result = get_session().execute(
        sa.delete(AdminLogin).where(sa.or_(AdminLogin.ended_at.is_not(None), AdminLogin.created_at <= now - lifetime))
    )
    return int(getattr(result, "rowcount", 0) or 0)
