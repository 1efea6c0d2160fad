"""A table model that exists only in tests, to exercise CRUDModel whatever the options."""

from __future__ import annotations

from typing import ClassVar

from sqlmodel import Field

from my_service.models.base import CRUDModel


class Gadget(CRUDModel, table=True):
    """``id`` is listed as updatable on purpose: the primary key must stay refused anyway."""

    id: int | None = Field(default=None, primary_key=True)
    label: str = Field(unique=True)
    price: int = 0
    sku: str = "none"

    updatable_fields: ClassVar[frozenset[str]] = frozenset({"id", "label", "price"})
