"""Error bodies of the HTTP API, and ``error_responses()`` to list them in the OpenAPI document.

Every error answers ``{"detail": "<message>", "request_id": "<id>"}`` (:func:`error_content`):
the id is the one the response's ``X-Request-ID`` header and the log lines of the request carry.
A 422 adds ``errors``, one item per wrong field in the shape the WebSocket protocol uses in
``data.errors``; 429 and 503 add ``retry_after`` (seconds, also in the ``Retry-After`` header).
See ``docs/errors.md``. :func:`error_items` bounds
the items of both protocols: no client input is echoed, whatever its size.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from itertools import islice
from typing import Any

from pydantic import BaseModel, Field

from ..correlation import current_request_id

MAX_ERRORS = 20
"""Error items one answer lists at most (an HTTP 422 or a WebSocket error)."""
MAX_TEXT = 120
"""Characters of one ``loc`` part, ``msg`` or ``type`` at most (a ``loc`` part can be a key the
client chose)."""
MAX_LOC_PARTS = 8


def printable(text: str) -> str:
    """``text`` cut to :data:`MAX_TEXT` characters and made encodable (lone surrogates -> ``?``)."""
    cut = text if len(text) <= MAX_TEXT else text[: MAX_TEXT - 3] + "..."
    return cut.encode("utf-8", "replace").decode("utf-8")


def error_items(errors: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Validation errors as ``{"loc", "msg", "type"}`` items: no ``input``, no ``ctx``, bounded."""
    return [
        {
            "loc": [
                part if isinstance(part, int) else printable(str(part))
                for part in list(error.get("loc", ()))[:MAX_LOC_PARTS]
            ],
            "msg": printable(str(error.get("msg", ""))),
            "type": printable(str(error.get("type", ""))),
        }
        for error in islice(errors, MAX_ERRORS)
    ]


class ErrorItem(BaseModel):
    """One wrong field: where it is, what is wrong, and the error's type."""

    loc: list[str | int] = Field(description='Path to the field, e.g. `["body", "name"]`')
    msg: str
    type: str


def error_content(detail: str, request_id: str | None = None, **extra: Any) -> dict[str, Any]:
    """An error body: ``detail``, what ``extra`` adds, and the id of the request being handled
    (``request_id`` when given, for code that runs outside the request's context)."""
    return {"detail": detail, **extra, "request_id": request_id or current_request_id()}


class ErrorBody(BaseModel):
    """The body of every error response."""

    detail: str
    request_id: str | None = Field(
        default=None, description="The request's id, as in its `X-Request-ID` header and logs"
    )


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
