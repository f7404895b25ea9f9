"""Who a rate limit counts, as keyed digests (Redis and log lines hold no address, email or token),
and where each app keeps its limiter engine. Shared by the limits and the login throttle.
"""

from __future__ import annotations

import hashlib
import hmac

from flask import current_app, request

EXTENSION = "attune.limiter"


def digest(value: str) -> str:
    """Return a short HMAC of ``value`` keyed with SECRET_KEY."""
    secret = str(current_app.config["SECRET_KEY"]).encode()
    return hmac.new(secret, value.encode(), hashlib.sha256).hexdigest()[:24]


def client_address() -> str:
    """Return the client's address (behind a proxy, the one PROXY_HOPS trusts) as a limit key."""
    return "address:" + digest(request.remote_addr or "unknown")
