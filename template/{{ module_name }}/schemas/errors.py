"""Error bodies of the HTTP API, and ``error_responses()`` to list them in the OpenAPI document.

Every error answers ``{"detail": "<message>"}``. A 422 adds ``errors``, one item per wrong field
in the shape the WebSocket protocol uses in ``data.errors``; 429 and 503 add ``retry_after``
(seconds, also in the ``Retry-After`` header). See ``docs/errors.md``.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class ErrorItem(BaseModel):
    """One wrong field: where it is, what is wrong, and the error's type."""

    loc: list[str | int] = Field(description='Path to the field, e.g. `["body", "name"]`')
    msg: str
    type: str


class ErrorBody(BaseModel):
    """The body of every error response."""

    detail: str


class ValidationErrorBody(ErrorBody):
    """A 422: the request breaks the API's declared bounds."""

    errors: list[ErrorItem] = Field(default_factory=list)


class RetryLaterBody(ErrorBody):
    """A 429 or 503: try again after ``retry_after`` seconds."""

    retry_after: int


_RESPONSES: dict[int, tuple[type[BaseModel], str]] = {
    401: (ErrorBody, "No valid bearer token"),
    403: (ErrorBody, "The token lacks a role this operation requires"),
    404: (ErrorBody, "No such resource"),
    413: (ErrorBody, "The request body is larger than `HTTP_MAX_BODY_BYTES`"),
    422: (ValidationErrorBody, "The request breaks the declared bounds"),
    429: (RetryLaterBody, "Rate limit exceeded"),
    503: (RetryLaterBody, "The database or the rate limiter is unavailable"),
}


def error_responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """The ``responses=`` entries of the given error status codes, for a router or a route."""
    return {
        code: {"model": _RESPONSES[code][0], "description": _RESPONSES[code][1]} for code in codes
    }
