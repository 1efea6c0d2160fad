"""Response shape for paginated lists."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Generic, TypeVar

from pydantic import BaseModel

ItemT = TypeVar("ItemT")


class Page(BaseModel, Generic[ItemT]):
    """One page of a list: ``items`` plus where it sits in the whole."""

    items: Sequence[ItemT]
    page: int
    per_page: int
    total: int
    pages: int
