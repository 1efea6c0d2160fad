"""The example ``Author`` resource: a table model with session-as-parameter CRUD."""

from __future__ import annotations

from typing import ClassVar

from sqlmodel import Field

from my_service.models.base import CRUDModel


class Author(CRUDModel, table=True):
    """An author, identified by ``id``; only ``name`` may change after creation."""

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=255, index=True)

    updatable_fields: ClassVar[frozenset[str]] = frozenset({"name"})
