"""Request and response bodies of the Author API.

The request bodies forbid unknown fields, so a client cannot set ``id`` or anything else the API
does not offer.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator


class AuthorCreate(BaseModel):
    """Body of ``POST /authors``."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=255)


class AuthorUpdate(BaseModel):
    """Body of ``PATCH /authors/{id}``: omitted fields keep their value."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=1, max_length=255)

    @field_validator("name")
    @classmethod
    def name_not_null(cls, value: str | None) -> str:
        """``name`` may be left out, but not set to null."""
        if value is None:
            raise ValueError("name may be omitted but not null")
        return value


class AuthorRead(BaseModel):
    """An author as the API returns it."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
