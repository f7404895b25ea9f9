"""``@documented(...)``: a view's OpenAPI description, kept beside the view it describes.

quiz/api/openapi.py walks the app's routes and reads what each view carries here, so the document
and the routes cannot drift: an API route without it fails tests/test_openapi.py.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from marshmallow import Schema

from .openapi_schemas import Component, Items

Body = dict[str, Any] | type[Schema] | Items | Component
View = TypeVar("View", bound=Callable[..., Any])
ATTRIBUTE = "openapi_operation"


@dataclass(frozen=True)
class Operation:
    """What the document says about one view (its method and path come from the route)."""

    summary: str
    auth: str | None = None  # "subject" (token from /consents) or "merchant" (API key)
    body: Body | None = None
    status: int = 200
    response: Body | None = None
    multipart: bool = False
    query: type[Schema] | None = None
    media: tuple[str, ...] = ("application/json",)  # of the success response
    defaulted: tuple[str, ...] = ()  # body fields the schema requires but the view fills in when missing
    limited: bool = False  # wears a rate limit (quiz/platform/limits.py): may answer 429 with Retry-After
    larger_body: bool = False  # takes a quiz definition: a larger body limit (quiz/platform/body_limits.py)
    # Another success answer of the same operation: (status, body, when it is given).
    also: tuple[int, Body, str] | None = None


def documented(summary: str, **details: Any) -> Callable[[View], View]:
    """Attach an :class:`Operation` to a view; put it right under the route decorator."""
    operation = Operation(summary, **details)

    def attach(view: View) -> View:
        setattr(view, ATTRIBUTE, operation)
        return view

    return attach


def operation_of(view: Callable[..., Any]) -> Operation | None:
    """Return the operation a view was documented with, or None."""
    return getattr(view, ATTRIBUTE, None)
