"""Security headers on every response, the proxy headers to trust, and a URL guard for catalog links.

docs/security.md lists the baseline: headers, cookies, rate limits (quiz/limits.py), hashing.
"""

from __future__ import annotations

from flask import Flask, Response, g, request
from werkzeug.middleware.proxy_fix import ProxyFix

# Scripts and styles only from this site; product images may come from the merchant's CDN.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' https: data:; "
    "connect-src 'self'; form-action 'self'; base-uri 'none'; object-src 'none'"
)
WIDGET = "widget"  # the blueprint of pages partner sites may frame
HSTS = "max-age=31536000; includeSubDomains"  # one year, as OWASP recommends


def safe_url(url: str | None) -> str:
    """Return ``url`` if it is http(s) or site-relative; otherwise an inert "#"."""
    if url and (url.startswith(("https://", "http://")) or (url.startswith("/") and not url.startswith("//"))):
        return url
    return "#"


def frame_ancestors() -> str:
    """Return who may frame this response: the merchant's partner sites on widget pages, else nobody."""
    origins = g.get("frame_ancestors") if request.blueprint == WIDGET else None
    return " ".join(origins) if origins else "'none'"


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
    """Add the headers and the ``safe_url`` template filter; trust the configured proxies."""
    app.add_template_filter(safe_url, "safe_url")
    trust_proxies(app)

    @app.after_request
    def add_headers(response: Response) -> Response:
        headers = response.headers
        ancestors = frame_ancestors()
        headers.setdefault("Content-Security-Policy", f"{CSP}; frame-ancestors {ancestors}")
        if request.blueprint == WIDGET:
            headers.setdefault("Cache-Control", "no-store")  # the page carries the shopper's signed state
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
