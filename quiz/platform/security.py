"""Security headers on every response, the proxy headers to trust, and a URL guard for catalog links.

docs/security.md lists the baseline: headers, cookies, rate limits (quiz/platform/limits.py), hashing.
"""

from __future__ import annotations

from flask import Flask, Response, g, request
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.serving import WSGIRequestHandler

# Scripts and styles only from this site; product images may come from the merchant's CDN.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' https: data:; "
    "connect-src 'self'; form-action 'self'; base-uri 'none'; object-src 'none'"
)
WIDGET = "widget"  # the blueprint of pages partner sites may frame
HSTS = "max-age=31536000; includeSubDomains"  # one year, as OWASP recommends
SERVER = "Attune"  # in place of "Werkzeug/3.x Python/3.x" from the development server
# Responses that hold personal data or secrets (tokens, profiles, signing secrets, API keys,
# exports): no browser or shared cache may keep them. An entry ending in "." is a whole blueprint.
NO_STORE_ENDPOINTS = frozenset(
    {
        "admin.",  # every admin page shows shoppers' data, keys or signing secrets
        "api.post_consents",  # the shopper's subject token
        "api.get_me",
        "api.delete_me",
        "api.patch_consents",
        "api.list_profiles",
        "api.get_profile",
        "api.list_webhooks",
        "api.create_webhook",  # the signing secret, shown once
        "api.delete_webhook",
        "api.list_deliveries",
        "api.export_campaign",
        "shopper.privacy",
        "shopper.privacy_export",
        "shopper.consent_receipt",
        "shopper.consent_receipt_json",
        "shopper.privacy_consents",
        "shopper.privacy_delete",
        "shopper.take_again",
        "shopper.resume",  # its confirm step may name the saved run's owner
        "widget.",  # the page carries the shopper's signed state
    }
)


def safe_url(url: str | None) -> str:
    """Return ``url`` if it is http(s) or site-relative; otherwise an inert "#"."""
    if url and (url.startswith(("https://", "http://")) or (url.startswith("/") and not url.startswith("//"))):
        return url
    return "#"


def frame_ancestors() -> str:
    """Return who may frame this response: the merchant's partner sites on widget pages, else nobody."""
    origins = g.get("frame_ancestors") if request.blueprint == WIDGET else None
    return " ".join(origins) if origins else "'none'"


def holds_private_data(endpoint: str | None) -> bool:
    """Return whether responses of ``endpoint`` hold personal data or secrets (``NO_STORE_ENDPOINTS``)."""
    if not endpoint:
        return False
    blueprint, _, _ = endpoint.rpartition(".")
    return endpoint in NO_STORE_ENDPOINTS or f"{blueprint}." in NO_STORE_ENDPOINTS


def hide_server_version() -> None:
    """Have Werkzeug's development server (``make run``, ``flask run``) send ``Server: Attune``.

    It sends ``Werkzeug/3.x Python/3.x`` on every response whatever the app says (Python's
    ``BaseHTTPRequestHandler.send_response``), so the name is set on its request handler, for
    every such server in this process. gunicorn (``make serve``) sends a versionless
    ``Server: gunicorn`` by itself; an app header would only add a second one.
    """
    WSGIRequestHandler.version_string = _server_name  # type: ignore[method-assign]


def _server_name(handler: object) -> str:
    return SERVER


def trust_proxies(app: Flask) -> None:
    """Take the client address and scheme from X-Forwarded-For/-Proto, set by ``PROXY_HOPS`` proxies.

    Only with PROXY_HOPS set: without a proxy anyone could send these headers, to pass as another
    address (rate limits) or as HTTPS (HSTS). The host stays the request's own (PUBLIC_URL names
    the public one), so a forged X-Forwarded-Host cannot reach the links Attune writes.
    """
    hops = int(app.config["PROXY_HOPS"])
    if hops:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)  # type: ignore[method-assign]


def init_app(app: Flask) -> None:
    """Add the headers and the ``safe_url`` template filter; trust the configured proxies; hide versions."""
    app.add_template_filter(safe_url, "safe_url")
    trust_proxies(app)
    hide_server_version()

    @app.after_request
    def add_headers(response: Response) -> Response:
        headers = response.headers
        ancestors = frame_ancestors()
        headers.setdefault("Content-Security-Policy", f"{CSP}; frame-ancestors {ancestors}")
        if holds_private_data(request.endpoint):
            headers["Cache-Control"] = "no-store"
        # On widget pages framing is the point: the CSP names who may do it, and X-Frame-Options
        # (which cannot name several sites) must stay off there or it would block them all.
        if request.blueprint != WIDGET or ancestors == "'none'":
            headers.setdefault("X-Frame-Options", "DENY")
        headers.setdefault("X-Content-Type-Options", "nosniff")
        # Privacy links carry a token in their path: never send it to another site.
        headers.setdefault("Referrer-Policy", "no-referrer")
        headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=(), interest-cohort=()")
        if request.is_secure:  # sent over plain HTTP it would be ignored, and a local demo has no TLS
            headers.setdefault("Strict-Transport-Security", HSTS)
        return response
