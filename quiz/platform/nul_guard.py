"""Refuse requests whose text holds a NUL character (U+0000), before any view reads them.

No field of Attune accepts one, and PostgreSQL cannot store one in a text column: without this
guard the same request would be stored on SQLite and end in a 500 on PostgreSQL. A NUL in the
URL path names nothing (404); one in a query parameter, a form field or a JSON body is a 400
that names the fields.

It runs before authentication, so it must stay cheap for any body: bodies are already held to
their endpoint's size (quiz.platform.body_limits), a route that does not exist is not read at all, and a
JSON body is parsed here only when a scan of its bytes finds a NUL it could hold; the walk that
names the fields then keeps one iterator per nesting level, not an entry per element.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from flask import Flask, abort, request

from .errors import ApiError, is_api_request

NUL = "\x00"
MESSAGE = "Text must not contain the NUL character (U+0000)."
_FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def init_app(app: Flask) -> None:
    """Check every request before its view runs."""
    app.before_request(refuse_nul)


def refuse_nul() -> None:
    """Abort the request if its path, query, form or JSON body holds a NUL character."""
    if NUL in request.path:
        abort(404)
    # No such route or method: dispatch answers 404/405 next, so the body is never read.
    fields = sorted(set(_fields_with_nul(read_body=request.routing_exception is None)))
    if not fields:
        return
    if is_api_request():
        raise ApiError(400, "Some fields hold a NUL character.", {name: [MESSAGE] for name in fields})
    abort(400)


def _fields_with_nul(read_body: bool) -> Iterator[str]:
    sources = [request.args]
    if read_body and request.mimetype in _FORM_TYPES:
        sources.append(request.form)  # held to the body and field-count limits (quiz.platform.body_limits)
    for source in sources:
        for key, value in source.items(multi=True):
            # Werkzeug leaves the name of a multipart part it cannot parse as None.
            if NUL in (key or "") or NUL in (value or ""):
                yield _printable(key or "")
    if read_body and request.is_json and _may_hold_nul(request.get_data(cache=True)):
        try:
            body = request.get_json(silent=True)
        except RecursionError:  # absurdly deep: the view refuses it (quiz.api.parsing)
            return
        yield from _json_paths_with_nul(body)


def _may_hold_nul(raw: bytes) -> bool:
    """Return whether a JSON body can hold a NUL: escaped (``\\u0000``) or raw (also: UTF-16/32 text).

    A scan of the bytes at C speed; only a body that passes it is parsed here.
    """
    return b"\\u0000" in raw or b"\x00" in raw


def _json_paths_with_nul(body: Any) -> Iterator[str]:
    """Yield the dotted path of every string (key or value) in ``body`` that holds a NUL.

    One iterator per open container, not one entry per element: memory grows with the depth
    of the document, never with its length.
    """
    if isinstance(body, str):
        if NUL in body:
            yield "_body"
        return
    names: list[str] = []
    open_containers: list[Iterator[tuple[str, Any]]] = [_members(body)]
    while open_containers:
        for name, value in open_containers[-1]:
            if NUL in name or (isinstance(value, str) and NUL in value):
                yield ".".join(_printable(part) for part in (*names, name))
            if isinstance(value, dict | list):
                names.append(name)
                open_containers.append(_members(value))
                break
        else:
            open_containers.pop()
            if names:
                names.pop()


def _members(value: Any) -> Iterator[tuple[str, Any]]:
    """Yield (name, item) of an object's members or an array's elements; nothing for a scalar."""
    if isinstance(value, dict):
        yield from value.items()
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield str(index), item


def _printable(name: str) -> str:
    return name.replace(NUL, "\\u0000")
