"""Refuse requests whose text holds a NUL character (U+0000), before any view reads them.

No field of Attune accepts one, and PostgreSQL cannot store one in a text column: without this
guard the same request would be stored on SQLite and end in a 500 on PostgreSQL. A NUL in the
URL path names nothing (404); one in a query parameter, a form field or a JSON body is a 400
that names the fields.
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
    fields = sorted(set(_fields_with_nul()))
    if not fields:
        return
    if is_api_request():
        raise ApiError(400, "Some fields hold a NUL character.", {name: [MESSAGE] for name in fields})
    abort(400)


def _fields_with_nul() -> Iterator[str]:
    sources = [request.args]
    if request.mimetype in _FORM_TYPES:
        sources.append(request.form)
    for source in sources:
        for key, value in source.items(multi=True):
            # Werkzeug leaves the name of a multipart part it cannot parse as None.
            if NUL in (key or "") or NUL in (value or ""):
                yield _printable(key or "")
    if request.is_json:
        try:
            body = request.get_json(silent=True)
        except RecursionError:  # absurdly deep: the view refuses it (quiz.api.parsing)
            return
        yield from _json_paths_with_nul(body)


def _json_paths_with_nul(body: Any) -> Iterator[str]:
    """Yield the dotted path of every string (key or value) in ``body`` that holds a NUL."""
    stack: list[tuple[str, Any]] = [("", body)]  # a loop, not recursion: bodies may nest deeply
    while stack:
        path, value = stack.pop()
        if isinstance(value, str):
            if NUL in value:
                yield path or "_body"
        elif isinstance(value, dict):
            for key, item in value.items():
                child = f"{path}.{_printable(key)}" if path else _printable(key)
                if NUL in key:
                    yield child
                stack.append((child, item))
        elif isinstance(value, list):
            stack.extend((f"{path}.{index}" if path else str(index), item) for index, item in enumerate(value))


def _printable(name: str) -> str:
    return name.replace(NUL, "\\u0000")
