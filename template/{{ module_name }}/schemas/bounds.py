"""Input bounds: what the database can store, declared where the API declares its inputs.

Use these types on path and query parameters, request bodies and WebSocket payloads, so input the
database would refuse (or overflow on) gets a 422 or ``INVALID_DATA`` instead of reaching it, and
the limits show in the OpenAPI document::

    async def get_book(book_id: Annotated[RowId, Path()]) -> BookRead: ...

    class BookCreate(BaseModel):
        title: Annotated[str, text(200, min_length=1)]
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, Field, StringConstraints

MAX_ID = 2**31 - 1
"""The largest value of an ``INTEGER`` column (and so of an ``id`` primary key)."""

MAX_PAGE = MAX_ID
"""The largest page number: ``(page - 1) * per_page`` stays far inside a 64-bit ``OFFSET``."""

NO_NUL = r"^[^\x00]*$"
"""Text without NUL characters (PostgreSQL cannot store them). Checking a pattern also refuses
strings with lone surrogates (``"\\ud800"`` in JSON), which no database can store either."""

_DIGITS = re.compile(r"[0-9]+")


def whole_number(value: Any) -> Any:
    """Refuse what would otherwise pass as an integer: ``"1.0"``, ``1.0``, ``"1_0"``, ``true``."""
    if isinstance(value, (bool, float)):
        raise ValueError("must be a whole number")
    if isinstance(value, str) and not _DIGITS.fullmatch(value):
        raise ValueError("must be a whole number written in digits")
    return value


# The validator comes last so that it runs first, and so that FastAPI still shows the interval
# as `minimum`/`maximum` in the OpenAPI document.
RowId = Annotated[int, Field(ge=1, le=MAX_ID), BeforeValidator(whole_number)]
"""A row id: digits only, from 1 to :data:`MAX_ID`."""

PageNumber = Annotated[int, Field(ge=1, le=MAX_PAGE)]
"""A page number, from 1."""


def text(max_length: int, *, min_length: int = 0) -> StringConstraints:
    """Bounds for a text field stored in a ``VARCHAR(max_length)`` column: no NUL, valid Unicode.

    ``Annotated[str, text(255)]``; the length is counted in characters, like the column's.
    """
    return StringConstraints(min_length=min_length or None, max_length=max_length, pattern=NO_NUL)


ShortText = Annotated[str, text(255)]
"""Text that fits a ``VARCHAR(255)`` column (the common case: names, user ids, actions)."""


def in_utc(moment: datetime) -> datetime:
    """``moment`` in UTC (a time without a zone is taken as UTC); refuses times that leave the
    representable range on the way (``0001-01-01T00:00:00+01:00``)."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    try:
        return moment.astimezone(UTC)
    except OverflowError as error:
        raise ValueError("is out of range once converted to UTC") from error


UtcDateTime = Annotated[datetime, AfterValidator(in_utc)]
"""An ISO 8601 time, converted to UTC; a time without a zone is taken as UTC."""
