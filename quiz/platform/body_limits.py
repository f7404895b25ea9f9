"""How large a request body may be, set per endpoint before anything reads the body.

Three sizes: catalog uploads (``@body_limit(UPLOAD)``) may be ``MAX_CONTENT_LENGTH`` (50 MB,
multipart, files spooled to disk); a quiz definition (``@body_limit(QUIZ_DEFINITION)``) 2 MiB,
room for the largest definition ``quiz.quizzes.schema`` stores; every other body, JSON or form,
``MAX_BODY_LENGTH`` (256 KiB: the largest legitimate one, recommendations with 500 excluded ids
and the answers, is about 110 kB). A larger Content-Length is a 413 before a byte is read; a
chunked body is read up to the limit, then answered 413. Routes that do not exist (404, 405)
never read the body.

Forms are also held to ``MAX_FORM_PARTS`` fields, urlencoded ones included (Werkzeug counts
multipart parts only), and a 413 says which limit it was: :class:`TooManyParts`,
:class:`FieldTooLarge` or the body's size.
"""

from __future__ import annotations

from collections.abc import Callable
from io import BytesIO
from typing import IO, TYPE_CHECKING, Any, TypeVar

from flask import Flask, Request, current_app, request
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.formparser import FormDataParser

if TYPE_CHECKING:
    from werkzeug.formparser import t_parse_result

F = TypeVar("F", bound=Callable[..., Any])

BODY = "body"
UPLOAD = "upload"
QUIZ_DEFINITION = "quiz definition"
MAX_DEFINITION_JSON = 1_000_000  # characters: the largest quiz definition, as JSON, the quiz schema accepts
# Room for a definition of MAX_DEFINITION_JSON characters sent pretty-printed, or form-encoded.
QUIZ_DEFINITION_LENGTH = max(2 * 1024 * 1024, 2 * MAX_DEFINITION_JSON)
# The quiz builder posts the whole quiz as form fields (about a dozen per answer option).
QUIZ_FORM_PARTS = 20_000


class TooManyParts(RequestEntityTooLarge):
    """A form with more fields (or multipart parts) than ``MAX_FORM_PARTS``."""


class FieldTooLarge(RequestEntityTooLarge):
    """A multipart form field (not a file) larger than ``MAX_FORM_MEMORY_SIZE``."""


def body_limit(kind: str) -> Callable[[F], F]:
    """Mark a view as taking a larger body than ``MAX_BODY_LENGTH``: ``UPLOAD`` or ``QUIZ_DEFINITION``."""
    if kind not in (UPLOAD, QUIZ_DEFINITION):
        raise ValueError(f"unknown body limit {kind!r}")

    def mark(view: F) -> F:
        view.body_limit = kind  # type: ignore[attr-defined]
        return view

    return mark


def body_kind() -> str:
    """Return which limit holds for the current request: ``BODY``, ``UPLOAD`` or ``QUIZ_DEFINITION``."""
    view = current_app.view_functions.get(request.endpoint or "")
    return getattr(view, "body_limit", BODY)


def limit_of(kind: str) -> int:
    """Return the largest body in bytes a request of ``kind`` may send."""
    config = current_app.config
    if kind == UPLOAD:
        return int(config["MAX_CONTENT_LENGTH"])
    if kind == QUIZ_DEFINITION:
        return max(QUIZ_DEFINITION_LENGTH, int(config["MAX_BODY_LENGTH"]))
    return int(config["MAX_BODY_LENGTH"])


def apply_limit() -> None:
    """Give the request its endpoint's limit; refuse a larger declared body before reading it."""
    if request.routing_exception is not None:
        # No view will run: dispatch answers 404/405 and nothing reads the body. The default
        # limit still holds, should anything try.
        request.max_content_length = limit_of(BODY)
        return
    kind = body_kind()
    limit = limit_of(kind)
    request.max_content_length = limit
    if kind == QUIZ_DEFINITION:
        request.max_form_parts = max(QUIZ_FORM_PARTS, int(current_app.config["MAX_FORM_PARTS"]))
    if request.content_length is not None and request.content_length > limit:
        raise RequestEntityTooLarge()


def init_app(app: Flask) -> None:
    """Set each request's body limit; register before any hook that reads a body (CSRF, the NUL guard)."""
    app.before_request(apply_limit)


class LimitedFormParser(FormDataParser):
    """Werkzeug's form parser, which also caps urlencoded fields and names the limit a 413 hit."""

    def parse(
        self, stream: IO[bytes], mimetype: str, content_length: int | None, options: dict[str, str] | None = None
    ) -> t_parse_result:
        """Parse the form; raise :class:`TooManyParts` or :class:`FieldTooLarge` for those limits."""
        if mimetype == "application/x-www-form-urlencoded":
            return super().parse(self._few_fields(stream, content_length), mimetype, content_length, options)
        if mimetype != "multipart/form-data":
            return super().parse(stream, mimetype, content_length, options)
        counted = _PartCounter(stream, (options or {}).get("boundary", "").encode("ascii", "replace"))
        try:
            return super().parse(counted, mimetype, content_length, options)  # type: ignore[arg-type]
        except RequestEntityTooLarge:
            if counted.overflowed:  # the body itself passed the limit
                raise
            if self.max_form_parts is not None and counted.delimiters > self.max_form_parts:
                raise TooManyParts() from None
            raise FieldTooLarge() from None

    def _few_fields(self, stream: IO[bytes], content_length: int | None) -> IO[bytes]:
        """Read the (size-limited) body and refuse it before decoding if it has too many fields."""
        data = stream.read()
        limit = self.max_content_length
        if content_length is None and limit is not None and len(data) >= limit:
            stream.read(1)  # a chunked body that filled the limit: the limited stream raises 413
        if self.max_form_parts is not None and data.count(b"&") + 1 > self.max_form_parts:
            raise TooManyParts()
        return BytesIO(data)


class _PartCounter:
    """A read-only stream that counts multipart delimiters as they pass, in constant memory."""

    def __init__(self, stream: IO[bytes], boundary: bytes) -> None:
        self._stream = stream
        self._needle = b"--" + boundary
        self._tail = b""
        self.delimiters = 0
        self.overflowed = False

    def read(self, size: int = -1) -> bytes:
        """Read from the underlying stream, noting delimiters and whether its limit was hit."""
        try:
            data = self._stream.read(size)
        except RequestEntityTooLarge:
            self.overflowed = True
            raise
        window = self._tail + data
        self.delimiters += window.count(self._needle)
        # Keep less than one needle, so a delimiter split across reads is counted exactly once.
        self._tail = window[-(len(self._needle) - 1) :] if len(self._needle) > 1 else b""
        return data


class LimitedRequest(Request):
    """Flask's request, held to the limits above: forms by :class:`LimitedFormParser`, and a
    chunked body that reaches the limit is a 413 rather than a body silently cut short."""

    form_data_parser_class = LimitedFormParser

    def get_data(  # type: ignore[override]
        self, cache: bool = True, as_text: bool = False, parse_form_data: bool = False
    ) -> bytes | str:
        """Return the body; raise 413 if a body without Content-Length filled the whole limit."""
        data = super().get_data(cache=cache, as_text=as_text, parse_form_data=parse_form_data)
        limit = self.max_content_length
        if self.content_length is None and limit is not None and len(data) >= limit:
            # Werkzeug stops reading a chunked body at the limit and returns what it read; one
            # more read of its limited stream raises 413 (a body of exactly the limit too).
            self.stream.read(1)
        return data
