"""File downloads: a body sent as an attachment."""

from __future__ import annotations

from flask import Response


def attachment(body: str, mimetype: str, filename: str) -> Response:
    """Return ``body`` as a file the browser saves as ``filename``."""
    return Response(body, mimetype=mimetype, headers={"Content-Disposition": f'attachment; filename="{filename}"'})
