"""Rate limits (quiz/platform/limits.py): counted together by every worker in Redis, in the one error format.

The shared test config keeps counts in each app's memory and lifts the consent and
recommendation limits out of reach; the tests here set them back, on the real Redis at
127.0.0.1:6379, each under a key prefix of its own that it deletes afterwards.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from flask import Flask

from quiz.platform.config import ConfigError
from quiz.platform.db import get_engine

from .conftest import csrf_token, make_app
from .helpers import full_answers, grant, make_merchant
from .tcp_proxy import TcpProxy
from .test_admin import PASSWORD, log_in
from .test_shopper_pages import ABOUT, INTENT, PREFERENCES, answer, decide

REDIS = "redis://127.0.0.1:6379/0"
FALLBACK_WARNING = "Rate limit storage unreachable"
RECOVERED = "Rate limit storage recovered"
CONSENT = {"purposes": {"recommendations": True}}


@pytest.fixture
def prefix() -> Iterator[str]:
    """Yield a key prefix of this test's own; delete its keys from Redis afterwards."""
    name = f"attune-test-{uuid.uuid4().hex[:12]}"
    yield name
    server = redis.Redis.from_url(REDIS)
    keys = list(server.scan_iter(match=f"*{name}*"))
    if keys:
        server.delete(*keys)
    server.close()


@pytest.fixture
def worker(app: Flask, database_url: str, instance_path: Path, prefix: str) -> Iterator[Callable[..., Flask]]:
    """Return a factory of extra apps ("workers") on the session database; `app` cleans their rows."""
    made: list[Flask] = []

    def build(**overrides: Any) -> Flask:
        settings = {"RATELIMIT_KEY_PREFIX": prefix, **overrides}
        extra = make_app(database_url, instance_path, **settings)
        made.append(extra)
        return extra

    yield build
    for extra in made:
        with extra.app_context():
            get_engine().dispose()


def _redis_keys(prefix: str) -> list[str]:
    server = redis.Redis.from_url(REDIS)
    try:
        return [key.decode() for key in server.scan_iter(match=f"*{prefix}*")]
    finally:
        server.close()


def _retry_after(response: Any, most: int) -> int:
    value = int(response.headers["Retry-After"])
    assert 1 <= value <= most, value
    return value


def test_two_workers_on_one_redis_exhaust_one_login_limit_together(
    app: Flask, worker: Callable[..., Flask], prefix: str
) -> None:
    shop = make_merchant(app, "sharedlimit")
    # The production shape: REDIS_URL set and no storage of their own, so limits go to Redis.
    first = worker(RATELIMIT_STORAGE_URI=None, REDIS_URL=REDIS, JOB_QUEUE_NAME=prefix)
    second = worker(RATELIMIT_STORAGE_URI=None, REDIS_URL=REDIS, JOB_QUEUE_NAME=prefix)
    assert first.config["RATELIMIT_STORAGE_URI"] == REDIS
    one, two = first.test_client(), second.test_client()
    # Five failures allowed per account (RATELIMIT_LOGIN_ACCOUNT's default), three here and two there.
    for client in (one, two, one, two, one):
        assert log_in(client, shop.admin_email, "wrong password!").status_code == 401
    for client in (two, one):  # this address failed five times: both workers make it wait, even with the right password
        blocked = log_in(client, shop.admin_email, PASSWORD)
        assert blocked.status_code == 429
        assert "Too many failed attempts" in blocked.get_data(as_text=True)
        _retry_after(blocked, 15 * 60)
    keys = _redis_keys(prefix)
    assert keys, "the counts live in Redis"
    assert not any(shop.admin_email in key or "127.0.0.1" in key for key in keys), keys


def test_workers_without_redis_count_alone(app: Flask, worker: Callable[..., Flask]) -> None:
    """The control for the test above: per-process memory lets each worker allow five failures."""
    shop = make_merchant(app, "alonelimit")
    one, two = worker().test_client(), worker().test_client()
    for client in (one, two, one, two, one, two):
        assert log_in(client, shop.admin_email, "wrong password!").status_code == 401
    assert log_in(two, shop.admin_email, PASSWORD).status_code == 302


def test_consent_decisions_share_one_count_on_site_and_api_per_shop(app: Flask, worker: Callable[..., Flask]) -> None:
    make_merchant(app, "othershop")
    limited = worker(RATELIMIT_STORAGE_URI=REDIS, RATELIMIT_CONSENT="3 per minute")
    client = limited.test_client()
    grant(client)
    grant(client)
    decide(client, "accept_all")  # the site's form: the third decision from this address
    refused = client.post("/api/v1/m/demo/consents", json=CONSENT)
    assert refused.status_code == 429
    assert set(refused.json) == {"error", "fields"} and "try again in" in refused.json["error"]
    _retry_after(refused, 60)
    page = client.get("/?lang=es").get_data(as_text=True)  # the site's form, refused in the shopper's language
    version = re.search(r'name="explainer_version" type="hidden" value="([^"]+)"', page).group(1)
    form = {"csrf_token": csrf_token(page), "explainer_version": version, "accept_all": "1"}
    site = client.post("/m/demo/consent", data=form)
    assert site.status_code == 429 and "Inténtalo de nuevo dentro de un momento." in site.get_data(as_text=True)
    _retry_after(site, 60)
    assert grant(client, "othershop"), "another shop's quiz counts on its own"


def test_shoppers_behind_one_address_have_their_own_recommendation_counts(
    app: Flask, worker: Callable[..., Flask]
) -> None:
    limited = worker(
        RATELIMIT_STORAGE_URI=REDIS,
        RATELIMIT_RECOMMENDATIONS="3 per minute",
        RATELIMIT_RECOMMENDATIONS_ADDRESS="7/minute",
    )
    client = limited.test_client()
    body = {"answers": {"looking_for": "waterproof jacket"}, "limit": 3}
    ada, bea, cy = grant(client), grant(client), grant(client)
    for _ in range(3):
        assert client.post("/api/v1/m/demo/recommendations", json=body, headers=ada).status_code == 200
    refused = client.post("/api/v1/m/demo/recommendations", json=body, headers=ada)
    assert refused.status_code == 429 and set(refused.json) == {"error", "fields"}
    _retry_after(refused, 60)
    for _ in range(3):  # same address, another shopper: her own three
        assert client.post("/api/v1/m/demo/recommendations", json=body, headers=bea).status_code == 200
    # Seven from this address in all: the first of the third shopper's passes, the next does not.
    assert client.post("/api/v1/m/demo/recommendations", json=body, headers=cy).status_code == 200
    assert client.post("/api/v1/m/demo/recommendations", json=body, headers=cy).status_code == 429


def test_at_the_default_limits_a_busy_nat_completes_its_quizzes(app: Flask, worker: Callable[..., Flask]) -> None:
    """Twenty shoppers behind one address in the same minute: consent, two previews, results."""
    from quiz.platform.config import DEFAULTS

    own = ("RATELIMIT_STORAGE_URI", "RATELIMIT_KEY_PREFIX")
    defaults = {key: value for key, value in DEFAULTS.items() if key.startswith("RATELIMIT_") and key not in own}
    client = worker(RATELIMIT_STORAGE_URI=REDIS, **defaults).test_client()
    statuses = []
    for _ in range(20):
        auth = grant(client, profile=True)
        for answers in ({"looking_for": "tent"}, {"looking_for": "tent", "budget": [0, 300]}):
            statuses.append(client.post("/api/v1/m/demo/recommendations", json={"answers": answers}, headers=auth))
        statuses.append(client.post("/api/v1/m/demo/responses", json={"answers": full_answers()}, headers=auth))
    assert [r.status_code for r in statuses if r.status_code >= 400] == []


def test_the_results_page_is_limited_per_shopper(app: Flask, worker: Callable[..., Flask]) -> None:
    client = worker(RATELIMIT_STORAGE_URI=REDIS, RATELIMIT_RECOMMENDATIONS="2 per minute").test_client()
    decide(client, "accept_all")
    answer(client, "about", ABOUT)
    answer(client, "intent", INTENT)
    assert answer(client, "preferences", PREFERENCES).headers["Location"].endswith("/m/demo/results")
    assert client.get("/m/demo/results").status_code == 200
    assert client.get("/m/demo/results?different=1").status_code == 200
    refused = client.get("/m/demo/results")
    assert refused.status_code == 429 and "Please try again in a moment." in refused.get_data(as_text=True)
    assert refused.headers["Content-Security-Policy"], "a refusal keeps the security headers"
    _retry_after(refused, 60)


def test_with_redis_down_the_site_keeps_serving_and_says_so_once(
    app: Flask, worker: Callable[..., Flask], caplog: pytest.LogCaptureFixture
) -> None:
    shop = make_merchant(app, "redisdown")
    with TcpProxy(("127.0.0.1", 6379)) as proxy:
        url = f"redis://{proxy.host}:{proxy.port}/0"
        limited = worker(RATELIMIT_STORAGE_URI=url)
        client = limited.test_client()
        assert log_in(client, shop.admin_email, "wrong password!").status_code == 401
        proxy.cut()
        with caplog.at_level(logging.INFO):
            for _ in range(5):
                assert log_in(client, shop.admin_email, "wrong password!").status_code == 401
                assert client.post("/api/v1/m/demo/consents", json=CONSENT).status_code == 201
            # Counting went on in this process's memory meanwhile: the limit still bites.
            assert log_in(client, shop.admin_email, PASSWORD).status_code == 429
        warnings = [r for r in caplog.records if FALLBACK_WARNING in r.getMessage()]
        assert len(warnings) == 1, [r.getMessage() for r in caplog.records]
        assert not [r for r in caplog.records if r.levelno >= logging.ERROR], "no tracebacks for an outage"
        proxy.restore()
        with caplog.at_level(logging.INFO):
            deadline = time.monotonic() + 40  # Flask-Limiter probes again after 1, 2, 4 ... 32 s
            while not any(RECOVERED in r.getMessage() for r in caplog.records):
                assert time.monotonic() < deadline, "the limits never went back to Redis"
                assert client.post("/api/v1/m/demo/consents", json=CONSENT).status_code == 201
                time.sleep(0.25)


@pytest.mark.parametrize(
    "setting, value",
    [("RATELIMIT_LOGIN", "ten a minute"), ("RATELIMIT_CONSENT", ""), ("PROXY_HOPS", -1), ("PROXY_HOPS", "1")],
)
def test_a_bad_limit_or_proxy_setting_stops_start_up(
    database_url: str, instance_path: Path, setting: str, value: object
) -> None:
    with pytest.raises(ConfigError, match=setting):
        make_app(database_url, instance_path, **{setting: value})


def test_limits_can_be_switched_off(app: Flask, worker: Callable[..., Flask]) -> None:
    shop = make_merchant(app, "nolimits")
    unlimited = worker(RATELIMIT_ENABLED=False).test_client()
    for _ in range(7):
        assert log_in(unlimited, shop.admin_email, "wrong password!").status_code == 401
    assert log_in(unlimited, shop.admin_email, PASSWORD).status_code == 302


ATTACKER, OWNER = "198.51.100.7", "203.0.113.5"


def from_address(app: Flask, address: str) -> Any:
    """Return a test client whose requests come from ``address`` (REMOTE_ADDR)."""
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


def notices(app: Flask, slug: str) -> list[Any]:
    """Return the failed-login emails written for a merchant's admin (the outbox: no SMTP in tests)."""
    from quiz.platform.mailer import outbox

    with app.app_context():
        return [m for m in outbox(slug) if m.subject == "Failed logins to your Attune admin account"]


def test_an_attackers_failures_never_keep_the_owner_out_from_another_address(
    app: Flask, worker: Callable[..., Flask], prefix: str
) -> None:
    """Issue 14: five failures for an email used to lock its owner out from everywhere for 15 minutes."""
    shop = make_merchant(app, "lockout")
    limited = worker(RATELIMIT_STORAGE_URI=REDIS, LOGIN_DELAY_SECONDS=1, LOGIN_DELAY_MAX=600)
    attacker, owner = from_address(limited, ATTACKER), from_address(limited, OWNER)
    for _ in range(5):
        assert log_in(attacker, shop.admin_email, "zebra-crossing-1").status_code == 401
    refused = log_in(attacker, shop.admin_email, PASSWORD)
    assert refused.status_code == 429 and "Too many failed attempts" in refused.get_data(as_text=True)
    assert _retry_after(refused, 1) == 1, "the first wait is LOGIN_DELAY_SECONDS"
    assert log_in(owner, shop.admin_email, PASSWORD).status_code == 302, "the owner's own address is not held back"
    # The attacker's waits grow: 1, 2, 4 seconds after each further failure.
    for wait in (1, 2, 4):
        time.sleep(wait + 0.2)
        assert log_in(attacker, shop.admin_email, "zebra-crossing-2").status_code == 401
        held = log_in(attacker, shop.admin_email, "zebra-crossing-3")
        assert held.status_code == 429 and _retry_after(held, 2 * wait) == 2 * wait
    [notice] = notices(limited, "lockout")  # one email for the burst, not one per attempt
    assert notice.to == shop.admin_email
    assert "5 times between" in notice.body and "UTC" in notice.body and "not locked" in notice.body
    assert "zebra" not in notice.body, "never the password tried"
    keys = _redis_keys(prefix)
    assert any("login-throttle" in key for key in keys), "the waits live in Redis, for every worker"
    assert not any(shop.admin_email in key or ATTACKER in key for key in keys), keys


def test_a_correct_login_forgets_the_addresss_own_failures(app: Flask, worker: Callable[..., Flask]) -> None:
    shop = make_merchant(app, "typos")
    owner = from_address(worker(LOGIN_DELAY_SECONDS=600), OWNER)
    for _ in range(4):
        assert log_in(owner, shop.admin_email, "fat fingers!!").status_code == 401
    assert log_in(owner, shop.admin_email, PASSWORD).status_code == 302
    assert notices(app, "typos") == [], "four typos are not an attack"
    for _ in range(5):  # the account's count keeps them, so the fifth starts a wait for this address
        log_in(owner, shop.admin_email, "fat fingers!!")
    assert log_in(owner, shop.admin_email, PASSWORD).status_code == 429
    assert log_in(from_address(app, "192.0.2.9"), shop.admin_email, PASSWORD).status_code == 302


def test_unknown_emails_are_throttled_the_same_and_mail_nobody(app: Flask, worker: Callable[..., Flask]) -> None:
    attacker = from_address(worker(), ATTACKER)
    for _ in range(5):
        assert log_in(attacker, "nobody@example.org", "guess number one").status_code == 401
    assert log_in(attacker, "nobody@example.org", "guess number two").status_code == 429


@pytest.mark.parametrize("setting, value", [("LOGIN_DELAY_SECONDS", 0), ("LOGIN_DELAY_MAX", 30)])
def test_bad_login_delays_stop_start_up(database_url: str, instance_path: Path, setting: str, value: int) -> None:
    with pytest.raises(ConfigError, match="LOGIN_DELAY"):
        make_app(database_url, instance_path, **{setting: value})
