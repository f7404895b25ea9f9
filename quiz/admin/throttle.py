"""Failed-login throttling, per client address and per account, in this process."""

from __future__ import annotations

import threading
import time
from collections import defaultdict, deque

from flask import current_app

EXTENSION = "attune.login_throttle"


class LoginThrottle:
    """Refuse logins after too many recent failures from one address or for one account."""

    def __init__(self, per_account: int = 5, per_address: int = 20, window_s: float = 900) -> None:
        self.limits = {"account": per_account, "address": per_address}
        self.window_s = window_s
        self._failures: dict[str, deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def _keys(self, address: str, email: str) -> dict[str, str]:
        return {"account": f"account:{email.strip().lower()}", "address": f"address:{address}"}

    def blocked(self, address: str, email: str) -> bool:
        """Return whether a login attempt must be refused now."""
        now = time.monotonic()
        with self._lock:
            for kind, key in self._keys(address, email).items():
                failures = self._failures[key]
                while failures and now - failures[0] > self.window_s:
                    failures.popleft()
                if len(failures) >= self.limits[kind]:
                    return True
        return False

    def failed(self, address: str, email: str) -> None:
        """Count a failed attempt."""
        now = time.monotonic()
        with self._lock:
            for key in self._keys(address, email).values():
                self._failures[key].append(now)

    def succeeded(self, address: str, email: str) -> None:
        """Forget the account's failures after a good login."""
        with self._lock:
            self._failures.pop(self._keys(address, email)["account"], None)


def throttle() -> LoginThrottle:
    """Return the app's login throttle, creating it on first use."""
    found: LoginThrottle = current_app.extensions.setdefault(EXTENSION, LoginThrottle())
    return found
