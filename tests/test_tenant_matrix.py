"""Cross-tenant access matrix: merchant A, with B's ids and slug, gets 403/404 from every merchant endpoint.

The routes come from ``app.url_map`` (everything under /admin and /api/v1), not from a list kept by
hand: a new route is requested as soon as it exists. Its path parameters are filled with merchant
B's ids; a parameter the matrix does not know fails the test until a fill (or an explicit, reasoned
exemption) is added. Routes without parameters act on the caller's own merchant: they must answer
without a server error. No answer to A, whatever the route, may contain one of B's marker strings.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from .conftest import csrf_token
from .helpers import bearer, full_answers, grant, make_merchant, upload, wait_for_import
from .test_admin import PASSWORD, log_in

PREFIXES = ("/admin", "/api/v1")
PARAMETER = re.compile(r"<(?:[^:<>]+:)?([^<>]+)>")
# In every text B owns and in no text A could see legitimately; long enough never to turn up in a random token.
MARK = "zqsevenb"
CATALOG = f"id,title,price,description\n{MARK}-1,{MARK} kettle,30,{MARK} steel\n{MARK}-2,{MARK} kite,12,{MARK} nylon\n"

# Routes the matrix does not call as A, each with why (checked against url_map: no stale entries).
EXEMPT: dict[tuple[str, str], str] = {
    ("/admin/login", "GET"): "the login form itself, before any merchant is known",
    ("/admin/login", "POST"): "logging in with A's own credentials; no merchant id to put in",
    ("/admin/logout", "POST"): "ends A's session and holds no data; calling it would end the matrix too",
    ("/admin/account/logout-everywhere", "POST"): (
        "ends A's own logins, no id to put in; would end the matrix too: "
        "test_log_out_everywhere_ends_only_the_callers_logins checks B's session survives it"
    ),
    ("/api/v1/openapi.json", "GET"): "the public API description",
    ("/admin/docs/<name>", "GET"): "the project's docs (docs/NAME.md), the same for every merchant; holds no data",
    ("/api/v1/m/<slug>/quiz", "GET"): "public by design: any shopper may read any merchant's quiz",
    ("/api/v1/m/<slug>/explainer", "GET"): "public by design: the consent text every shopper reads first",
    ("/api/v1/m/<slug>/consents", "POST"): "public by design: a shopper's decision for B is recorded at B",
    ("/api/v1/me", "GET"): "subject-scoped: the token names subject and merchant; nothing of B can be put in",
    ("/api/v1/me", "DELETE"): "subject-scoped, as above",
    ("/api/v1/me/consents", "PATCH"): "subject-scoped, as above",
    ("/api/v1/journeys/<kind>", "PUT"): "a journey kind names no merchant's data: A's key edits A's own journey",
    ("/api/v1/journeys/<kind>/log", "GET"): "a journey kind names no merchant's data: A's key reads A's own log",
}
# Query strings that carry B's ids into routes without path parameters, and what A must get.
QUERIES: dict[tuple[str, str], tuple[str, tuple[int, ...]]] = {
    ("/api/v1/campaigns/export", "GET"): ("channel=email&segment={segment_id}", (404,)),
    ("/admin/profiles", "GET"): ("segment={segment_id}", (200,)),  # another's segment is ignored
    ("/api/v1/analytics/outcomes", "GET"): ("from={today}&to={today}", (200,)),  # A's report, with B's order today
}


@dataclass
class Bravo:
    """Merchant B's ids, secrets and marker strings."""

    slug: str
    key: str
    fills: dict[str, Any]
    markers: list[str]


def make_bravo(app: Flask, client: FlaskClient) -> Bravo:
    """Give merchant B one of everything: import, products, profile, segment, webhook, quiz versions, key."""
    from quiz import merchants, quizzes
    from quiz.catalog import previews as import_previews
    from quiz.marketing import segments
    from quiz.merchants import api_keys, webhooks
    from quiz.models import ShopperEvent, utcnow
    from quiz.outcomes import experiments, orders
    from quiz.platform.db import get_session, transaction

    made = make_merchant(app, "tmbravo", name=f"Bravo {MARK}")
    key = made.api_key
    job = upload(client, key, f"{MARK}-catalog.csv", CATALOG.encode())
    assert wait_for_import(client, key, job.json["id"])["status"] == "done"
    auth = grant(client, "tmbravo", profile=True, email=True)
    answers = full_answers(first_name=f"Ada{MARK}", looking_for=f"a {MARK} kettle for camping")
    response = client.post(
        "/api/v1/m/tmbravo/responses", json={"answers": answers, "email": f"{MARK}@bravo.example"}, headers=auth
    )
    assert response.status_code == 201 and response.json["profile_id"], response.json
    with app.app_context(), transaction():
        merchant = merchants.get_by_slug("tmbravo")
        segment = segments.save(
            merchant, {"name": f"{MARK} segment", "rules": [{"kind": "consent", "purpose": "email"}]}
        )
        hook = webhooks.register(merchant, f"https://{MARK}-hook.example/events")
        for n in range(3):  # B's versions go past A's, so a version number of B's names nothing of A's
            definition = quizzes.default_definition()
            definition["title"] = f"{MARK} quiz {n}"
            quizzes.publish(merchant, definition)
        version = quizzes.live_definition(merchant).version
        # Outcomes: an order linked to B's profile (its id is a marker) and an event on that profile.
        incoming = orders.IncomingOrder(
            order_id=f"{MARK}-order",
            placed_at=utcnow(),
            currency="USD",
            total=Decimal("30.00"),
            items=[orders.Line(f"{MARK}-1", 1, Decimal("30.00"))],
            profile_id=response.json["profile_id"],
        )
        orders.record(merchant, incoming)
        event = ShopperEvent(merchant_id=merchant.id, profile_id=response.json["profile_id"], type="product_view")
        event.product_id = f"{MARK}-2"
        get_session().add(event)
        experiment = experiments.create(
            merchant,
            {
                "name": f"{MARK} test",
                "metric": "conversion",
                "variants": [{"name": f"{MARK} A", "weight": 1}, {"name": f"{MARK} B", "weight": 1}],
            },
        )
        [key_row] = api_keys.list_keys(merchant)
        held, _ = import_previews.hold(merchant, CATALOG.encode(), f"{MARK}-held.csv", None, "upsert")
        merchant.column_mapping = {"title": f"{MARK} name"}
        fills = {
            "slug": "tmbravo",
            "import_id": job.json["id"],
            "profile_id": response.json["profile_id"],
            "segment_id": segment.id,
            "webhook_id": hook.id,
            "key_id": key_row.id,
            "version": version,
            "experiment_id": experiment.id,
            "action": "stop",  # an admin A/B test button (start, stop, winner) on B's test
            "kind": "win_back",  # a journey kind (exempt below: the same four kinds for every merchant)
            "index": 0,  # A has no taste clusters: cluster 0 can only be someone else's
            "today": utcnow().date().isoformat(),  # not a path parameter: the outcome report's range
            "token": held.token,  # B's upload waiting for its confirm (admin upload preview)
            "name": "segments",  # a doc's name (/admin/docs/<name>, exempt: docs belong to no merchant)
        }
        secrets = [hook.secret, key, made.admin_email]
    ids = [str(fills[name]) for name in ("import_id", "profile_id", "segment_id", "webhook_id", "experiment_id")]
    return Bravo("tmbravo", key, fills, [MARK, *secrets, *ids])


def merchant_routes(app: Flask) -> list[tuple[str, str]]:
    """Return (rule, method) of every route under /admin and /api/v1."""
    return sorted(
        (rule.rule, method)
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith(PREFIXES)
        for method in rule.methods - {"HEAD", "OPTIONS"}
    )


def body_for(rule: str, method: str, token: str) -> dict[str, Any]:
    """Return request arguments a real caller would send: a CSRF token on forms, a plausible JSON body."""
    if method in ("GET", "DELETE"):
        return {}
    if rule.startswith("/admin"):
        # A form that would succeed on A's own object: only the owner check can stop it.
        return {
            "data": {"csrf_token": token, "name": "hijacked", "rules": "[]", "save": "Save", "url": "https://x.example"}
        }
    if "/m/<slug>/" in rule:
        return {"json": {"answers": full_answers()}}
    return {"json": {"name": "hijacked", "rules": [], "url": "https://x.example", "definition": {}, "origins": []}}


@dataclass
class Alpha:
    """How merchant A calls: its admin session (logged in on the client), API key and a subject token."""

    key: dict[str, str]
    subject: dict[str, str]
    csrf: str


def sign_in_alpha(app: Flask, client: FlaskClient) -> Alpha:
    alpha = make_merchant(app, "tmalpha")
    subject = grant(client, "tmalpha")
    assert log_in(client, alpha.admin_email).status_code == 302
    return Alpha(bearer(alpha.api_key), subject, csrf_token(client.get("/admin/keys").get_data(as_text=True)))


def run_matrix(client: FlaskClient, routes: list[tuple[str, str]], alpha: Alpha, bravo: Bravo) -> list[str]:
    """Request every route as A with B's ids in place; return what leaked (status or marker), one line each."""
    leaks: list[str] = []
    counts = {"with B's ids": 0, "own merchant": 0, "exempt": 0}
    statuses: Counter[int] = Counter()
    for rule, method in routes:
        if (rule, method) in EXEMPT:
            counts["exempt"] += 1
            continue
        path = PARAMETER.sub(lambda m: str(bravo.fills[m.group(1)]), rule)
        expected: tuple[int, ...] = (403, 404)
        if (rule, method) in QUERIES:
            query, expected = QUERIES[rule, method]
            path += "?" + query.format(**bravo.fills)
        elif not PARAMETER.search(rule):
            expected = ()  # the caller's own merchant: any answer but a server error
        headers = {} if rule.startswith("/admin") else alpha.subject if "/m/<slug>/" in rule else alpha.key
        response = client.open(path, method=method, headers=headers, **body_for(rule, method, alpha.csrf))
        counts["with B's ids" if PARAMETER.search(rule) else "own merchant"] += 1
        statuses[response.status_code] += 1
        if response.status_code >= 500 or (expected and response.status_code not in expected):
            leaks.append(f"{method} {path}: {response.status_code} (expected {expected or 'not 5xx'})")
        text = response.get_data(as_text=True)
        # An id A itself put in the URL may come back (links to the page in another language): not a leak.
        if found := [m for m in bravo.markers if m in text and m not in path]:
            leaks.append(f"{method} {path}: {response.status_code} shows B's {found[0]!r}")
    print(f"tenant matrix: {len(routes)} routes x methods: {counts}, statuses {dict(sorted(statuses.items()))}")
    return leaks


def test_merchant_a_gets_nothing_of_merchant_bs(app: Flask, client: FlaskClient) -> None:
    bravo = make_bravo(app, client)
    alpha = sign_in_alpha(app, client)
    routes = merchant_routes(app)
    assert set(EXEMPT) <= set(routes), f"stale exemptions: {set(EXEMPT) - set(routes)}"
    assert set(QUERIES) <= set(routes), f"stale queries: {set(QUERIES) - set(routes)}"
    unknown = sorted({p for rule, _ in routes for p in PARAMETER.findall(rule)} - set(bravo.fills))
    assert not unknown, f"new path parameters {unknown}: add B's value to make_bravo's fills, or an exemption"

    leaks = run_matrix(client, routes, alpha, bravo)
    assert not leaks, "\n".join(leaks)

    # Nothing of B's changed: key, segment, webhook, quiz, profile, import and catalog as they were.
    b = bearer(bravo.key)
    assert client.get("/api/v1/products", headers=b).json["total"] == 2, "B's key works and its catalog is whole"
    assert client.get(f"/api/v1/segments/{bravo.fills['segment_id']}", headers=b).json["name"] == f"{MARK} segment"
    hooks = client.get("/api/v1/webhooks", headers=b).json["items"]
    assert [h["id"] for h in hooks] == [bravo.fills["webhook_id"]]
    quiz = client.get("/api/v1/quiz", headers=b).json
    assert (quiz["version"], quiz["definition"]["title"]) == (bravo.fills["version"], f"{MARK} quiz 2")
    assert client.get(f"/api/v1/profiles/{bravo.fills['profile_id']}", headers=b).status_code == 200
    assert client.get(f"/api/v1/catalog/imports/{bravo.fills['import_id']}", headers=b).status_code == 200
    assert client.get("/api/v1/catalog/mapping", headers=b).json["mapping"] == {"title": f"{MARK} name"}
    with app.app_context():
        from quiz import merchants
        from quiz.catalog import previews as import_previews

        assert import_previews.find(merchants.get_by_slug("tmbravo"), bravo.fills["token"]) is not None


def test_the_matrix_reports_a_route_that_leaks(app: Flask, client: FlaskClient) -> None:
    """The matrix checks itself: a route added without an owner check is found by url_map and reported."""
    from quiz.models import CatalogImport
    from quiz.platform.db import get_session

    def leaky(import_id: str) -> str:  # no owner check: exactly the bug the matrix is for
        job = get_session().get(CatalogImport, import_id)
        return job.filename if job else "none"

    app.add_url_rule("/api/v1/leaky/<import_id>", "leaky", leaky)  # before the first request, as Flask requires
    bravo = make_bravo(app, client)
    alpha = sign_in_alpha(app, client)
    routes = [r for r in merchant_routes(app) if r[0].startswith("/api/v1/leaky")]
    assert routes == [("/api/v1/leaky/<import_id>", "GET")]
    leaks = run_matrix(client, routes, alpha, bravo)
    assert any(": 200 (expected" in leak for leak in leaks) and any("shows B's" in leak for leak in leaks), leaks


def test_log_out_everywhere_ends_only_the_callers_logins(app: Flask, client: FlaskClient) -> None:
    """A's "log out everywhere" and password change name no one else: B's session keeps working."""
    bravo = make_merchant(app, "tmbravo")
    bravo_client = app.test_client()
    assert log_in(bravo_client, bravo.admin_email).status_code == 302
    sign_in_alpha(app, client)
    page = client.get("/admin/account").get_data(as_text=True)
    assert bravo.admin_email not in page, "A's account page lists A's sessions only"
    token = csrf_token(page)
    new = "alpha's new passphrase"
    changed = client.post(
        "/admin/account/password",
        data={"csrf_token": token, "current_password": PASSWORD, "new_password": new, "new_password_again": new},
    )
    assert changed.status_code == 302
    token = csrf_token(client.get("/admin/account").get_data(as_text=True))  # a new session since the change
    assert client.post("/admin/account/logout-everywhere", data={"csrf_token": token}).status_code == 302
    assert client.get("/admin/products").status_code == 302
    assert bravo_client.get("/admin/products").status_code == 200
    assert log_in(app.test_client(), bravo.admin_email).status_code == 302, "B's password is unchanged"
