"""Request bodies are held to what their endpoint needs, before anything reads or parses them (issue 14).

The NUL guard runs before routing, authentication and rate limits; it used to parse any JSON
body of up to 50 MB and build a (path, item) pair per element: 16 MB of ``[0,0,...]`` cost
1.1 GB. Now a body over its endpoint's limit is a 413 unread, an unknown route reads nothing,
and the guard parses only a body whose bytes can hold a NUL. bench/hostile_bodies.py measures
the server process; these tests measure the request in-process (tracemalloc).
"""

from __future__ import annotations

import json
import tracemalloc
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from quiz.platform import nul_guard
from quiz.platform.config import ConfigError

from .conftest import csrf_token
from .helpers import bearer, grant, make_merchant
from .test_hostile_uploads import VirtualBody

LIMIT = 256 * 1024
MESSAGE = "Text must not contain the NUL character (U+0000)."
CONSENT = {"purposes": {"recommendations": True, "profile": False, "email": False, "sms": False}}


def heap_peak(action: Callable[[], Any]) -> tuple[Any, int]:
    """Run ``action`` under tracemalloc; return its result and the Python heap peak in bytes."""
    tracemalloc.start()
    try:
        result = action()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return result, peak


def zeros(size: int) -> bytes:
    """Return a JSON array ``[0,0,...]`` of ``size`` bytes: the cheapest body per element."""
    count = (size - 1) // 2
    return b"[" + b"0," * (count - 1) + b"0]"


def test_a_json_body_just_over_the_limit_is_413_unread(app: Flask, client: FlaskClient) -> None:
    assert app.config["MAX_BODY_LENGTH"] == LIMIT
    body = VirtualBody(b'{"purposes": "', LIMIT + 1, b'"}')
    response = client.post("/api/v1/m/demo/consents", input_stream=body, content_type="application/json")
    assert response.status_code == 413
    message = "The request body is larger than the 256 KB limit of this endpoint."
    assert response.json == {"error": message, "fields": {}}
    assert body.furthest == 0, "refused on Content-Length: not a byte read"


def test_a_chunked_json_body_is_cut_off_at_the_limit(app: Flask, client: FlaskClient) -> None:
    body = VirtualBody(b'{"purposes": "', 8 * 1024 * 1024, b'"}')
    response = client.post(
        "/api/v1/m/demo/consents",
        input_stream=body,
        content_type="application/json",
        headers={"Transfer-Encoding": "chunked"},
        environ_overrides={"wsgi.input_terminated": True},
    )
    assert response.status_code == 413 and "256 KB limit" in response.json["error"]
    assert body.furthest <= LIMIT + 64 * 1024, f"read {body.furthest} bytes of 8 MB"


def test_a_body_at_the_limit_is_read_and_answered_by_the_view(app: Flask, client: FlaskClient) -> None:
    """The largest legitimate shopper body (500 excluded ids of 200 characters) fits well inside."""
    auth = grant(client)
    exclude = [f"{index:03d}".ljust(200, "x") for index in range(500)]
    body = json.dumps({"answers": {}, "exclude": exclude}).encode()
    assert 100_000 < len(body) < LIMIT
    response = client.post("/api/v1/m/demo/recommendations", data=body, content_type="application/json", headers=auth)
    assert response.status_code == 200, response.json
    padded = zeros(LIMIT)
    response = client.post("/api/v1/m/demo/consents", data=padded, content_type="application/json")
    assert response.status_code == 400 and "JSON object" in response.json["error"]


def test_a_quiz_definition_may_be_larger_than_other_bodies(app: Flask, client: FlaskClient) -> None:
    """PUT /api/v1/quiz takes definitions up to quiz_schema's 1,000,000 characters, pretty-printed."""
    shop = make_merchant(app, "big-quiz")
    live = client.get("/api/v1/quiz", headers=bearer(shop.api_key)).json["definition"]
    live["sections"][0]["questions"][0]["label"] = "x" * 900_000
    body = json.dumps({"definition": live}, indent=4).encode()
    assert LIMIT < len(body) < 2 * 1024 * 1024
    response = client.put("/api/v1/quiz", data=body, content_type="application/json", headers=bearer(shop.api_key))
    assert response.status_code == 422, "refused by the schema (label too long), not by size"
    over = VirtualBody(b'{"definition": "', 2 * 1024 * 1024 + 1, b'"}')
    response = client.put("/api/v1/quiz", input_stream=over, content_type="application/json")
    assert response.status_code == 413 and "2 MB limit" in response.json["error"] and over.furthest == 0


@pytest.mark.parametrize(("method", "path"), [("post", "/api/v1/nowhere"), ("put", "/api/v1/m/demo/consents")])
def test_an_unknown_route_or_method_never_reads_the_body(client: FlaskClient, method: str, path: str) -> None:
    body = VirtualBody(b'{"a": "', 8 * 1024 * 1024, b'\\u0000"}')  # under MAX_CONTENT_LENGTH, over any JSON limit

    def send() -> Any:
        return getattr(client, method)(path, input_stream=body, content_type="application/json")

    response, peak = heap_peak(send)
    assert response.status_code in (404, 405) and response.json["error"]
    assert body.furthest == 0, f"{path}: {body.furthest} bytes read"
    assert peak < 1024 * 1024, f"{path}: heap peak {peak / 2**20:.1f} MB"


def test_the_nul_guard_costs_no_parse_of_a_body_without_nul(app: Flask, client: FlaskClient) -> None:
    """A body of 127,000 zeros to the public consent endpoint: the guard only scans its bytes."""
    body = zeros(LIMIT - 1024)
    parses = []
    real_get_json = app.request_class.get_json

    def counting_get_json(self: Any, *args: Any, **kwargs: Any) -> Any:
        parses.append(1)
        return real_get_json(self, *args, **kwargs)

    app.request_class.get_json = counting_get_json  # type: ignore[method-assign]
    try:
        response = client.post("/api/v1/m/demo/consents", data=body, content_type="application/json")
    finally:
        app.request_class.get_json = real_get_json  # type: ignore[method-assign]
    assert response.status_code == 400
    assert len(parses) == 1, "parsed once, by the view (quiz.api.parsing), not again by the guard"


def test_the_walk_that_names_nul_fields_keeps_no_entry_per_element() -> None:
    document = {"answers": {"sizes": [0] * 200_000 + ["x\x00"]}, "deep": [[["ok", "n\x00"]]]}
    found, peak = heap_peak(lambda: sorted(nul_guard._json_paths_with_nul(document)))
    assert found == ["answers.sizes.200000", "deep.0.0.1"]
    assert peak < 64 * 1024, f"the walk peaked at {peak / 1024:.0f} KiB for 200,000 elements"


def test_nul_fields_in_a_large_body_are_still_named(app: Flask, client: FlaskClient) -> None:
    shop = make_merchant(app, "nul-big")
    body = {"name": "VIP", "rules": [{"kind": "consent", "purpose": "email"}], "pad": [0] * 80_000 + ["a\x00"]}
    response = client.post("/api/v1/segments", json=body, headers=bearer(shop.api_key))
    assert response.status_code == 400 and response.json["fields"] == {"pad.80000": [MESSAGE]}


def test_a_form_with_too_many_fields_says_so(app: Flask, client: FlaskClient) -> None:
    """Multipart and urlencoded alike: over MAX_FORM_PARTS (1000) is a 413 naming that limit."""
    shop = make_merchant(app, "many-parts")
    boundary = "parts-boundary"
    parts = "".join(f'--{boundary}\r\nContent-Disposition: form-data; name="f{i}"\r\n\r\nv\r\n' for i in range(1001))
    response = client.post(
        "/api/v1/catalog/imports",
        data=(parts + f"--{boundary}--\r\n").encode(),
        content_type=f"multipart/form-data; boundary={boundary}",
        headers=bearer(shop.api_key),
    )
    assert response.status_code == 413
    assert response.json == {"error": "The form has more than 1000 fields or files; send fewer.", "fields": {}}
    page = client.get("/admin/login").get_data(as_text=True)
    form = "&".join([f"csrf_token={csrf_token(page)}", *(f"f{i}=v" for i in range(1001))])
    response = client.post("/admin/login", data=form, content_type="application/x-www-form-urlencoded")
    assert response.status_code == 413 and "more than 1000 fields or files" in response.get_data(as_text=True)
    assert "MB limit" not in response.get_data(as_text=True)


def test_a_form_field_over_the_memory_limit_says_so(app: Flask, client: FlaskClient) -> None:
    shop = make_merchant(app, "big-field")
    boundary = "field-boundary"
    field = "x" * (app.config["MAX_FORM_MEMORY_SIZE"] + 1)
    body = f'--{boundary}\r\nContent-Disposition: form-data; name="format"\r\n\r\n{field}\r\n--{boundary}--\r\n'
    response = client.post(
        "/api/v1/catalog/imports",
        data=body.encode(),
        content_type=f"multipart/form-data; boundary={boundary}",
        headers=bearer(shop.api_key),
    )
    assert response.status_code == 413
    assert response.json["error"] == "A form field is larger than the 500,000 bytes limit."


@pytest.mark.parametrize("value", [0, -1, "lots"])
def test_max_body_length_must_be_a_positive_whole_number(new_app: Callable[..., Flask], value: object) -> None:
    with pytest.raises(ConfigError, match="MAX_BODY_LENGTH"):
        new_app(MAX_BODY_LENGTH=value)


def test_a_smaller_configured_limit_holds(app: Flask, new_app: Callable[..., Flask]) -> None:
    small = new_app(MAX_BODY_LENGTH=1024)
    response = small.test_client().post("/api/v1/m/demo/consents", json={**CONSENT, "pad": "x" * 1024})
    assert response.status_code == 413 and "1 KB limit" in response.json["error"]
    assert small.test_client().post("/api/v1/m/demo/consents", json=CONSENT).status_code == 201


def test_a_chunked_form_is_cut_off_at_the_limit_too(app: Flask, client: FlaskClient) -> None:
    body = VirtualBody(b"email=", 8 * 1024 * 1024, b"&password=x")
    response = client.post(
        "/admin/login",
        input_stream=body,
        content_type="application/x-www-form-urlencoded",
        headers={"Transfer-Encoding": "chunked"},
        environ_overrides={"wsgi.input_terminated": True},
    )
    assert response.status_code == 413 and "256 KB limit" in response.get_data(as_text=True)
    assert body.furthest <= LIMIT + 64 * 1024, f"read {body.furthest} bytes of 8 MB"
