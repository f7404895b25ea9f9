"""Reading request bodies and ids."""

from __future__ import annotations

import re
from typing import IO, Any

from flask import request

from ..platform.body_limits import LimitedRequest
from ..platform.errors import ApiError

# Ids Attune hands out (imports, profiles, segments, webhooks) are 32 hex digits; anything else names nothing.
_PUBLIC_ID = re.compile(r"[0-9a-f]{32}")


def json_body() -> dict[str, Any]:
    """Return the request's JSON object, or answer 400 saying what to send."""
    try:
        body = request.get_json(silent=True)
    except RecursionError:  # absurdly deep nesting: refuse like any other bad body
        body = None
    if not isinstance(body, dict):
        raise ApiError(400, "Send a JSON object with Content-Type: application/json.")
    return body


def is_public_id(value: str | None) -> bool:
    """Return whether ``value`` has the form of an id Attune issues (so it is worth looking up)."""
    return value is not None and _PUBLIC_ID.fullmatch(value) is not None


class UploadClosingRequest(LimitedRequest):
    """Flask's request, which also closes the files of a multipart body whose reading stopped half way.

    Werkzeug spools each uploaded file to a temporary file as it reads; when the body turns out
    too large (413) mid-file, the parse stops before the files are handed to ``request.files``,
    and those temporary files stayed open until garbage collection. Flask closes the request at
    the end of every request: this closes them there too. Bodies are held to their endpoint's
    limit by :class:`quiz.platform.body_limits.LimitedRequest`.
    """

    def _get_file_stream(
        self,
        total_content_length: int | None,
        content_type: str | None,
        filename: str | None = None,
        content_length: int | None = None,
    ) -> IO[bytes]:
        stream = super()._get_file_stream(total_content_length, content_type, filename, content_length)
        self.__dict__.setdefault("_upload_streams", []).append(stream)
        return stream

    def close(self) -> None:
        """Close the request's files, those of an unfinished parse included."""
        super().close()
        for stream in self.__dict__.pop("_upload_streams", []):
            stream.close()
