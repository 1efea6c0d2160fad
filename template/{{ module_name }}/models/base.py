"""Session-as-parameter CRUD for table models.

Every method takes the caller's ``AsyncSession`` as its first argument and never commits: the caller
owns the transaction (``async with async_session() as session, session.begin(): ...``, or
``SessionDep`` and ``await session.commit()`` in a route), so several calls can share one. A
database error propagates as it is: the session's owner rolls back (leaving ``session.begin()`` or
closing the session does), and the transport's handler answers it (503 / ``UNAVAILABLE`` while the
database is unreachable).

Filters and updates are checked against the table's columns: an unknown filter key raises
:class:`InvalidFilterError`, and a field that the model does not list in ``updatable_fields`` (the
primary key never counts) raises :class:`FieldNotUpdatableError`, before any SQL is sent.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Generic, Self, TypeVar

from sqlalchemy import ColumnElement, func
from sqlmodel import SQLModel, select
from sqlmodel.ext.asyncio.session import AsyncSession

T = TypeVar("T")


class ModelError(ValueError):
    """A request a model refuses before it reaches the database."""


class InvalidFilterError(ModelError):
    """A filter names something that is not a column of the model."""


class FieldNotUpdatableError(ModelError):
    """An update names a field the model does not allow to change."""


@dataclass(frozen=True)
class PageResult(Generic[T]):
    """One page of rows plus the total number of rows matching the filters."""

    items: Sequence[T]
    page: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        """Number of pages at ``per_page`` rows each (0 when nothing matches)."""
        return math.ceil(self.total / self.per_page)


class CRUDModel(SQLModel):
    """Base class for table models: ``class Book(CRUDModel, table=True): ...``."""

    updatable_fields: ClassVar[frozenset[str]] = frozenset()
    """Fields :meth:`update` may change. Anything else, and the primary key, is refused."""

    @classmethod
    def _column_names(cls) -> list[str]:
        return [column.key for column in cls.__table__.columns]  # type: ignore[attr-defined]

    @classmethod
    def _primary_key_names(cls) -> set[str]:
        return {column.key for column in cls.__table__.primary_key.columns}  # type: ignore[attr-defined]

    @classmethod
    def max_length(cls, column: str) -> int:
        """The declared length of the text column ``column`` (``VARCHAR(n)``)."""
        length = getattr(cls.__table__.columns[column].type, "length", None)  # type: ignore[attr-defined]
        if not isinstance(length, int):
            raise TypeError(f"{cls.__name__}.{column} is not a text column with a length")
        return length

    @classmethod
    def _where(cls, filters: Mapping[str, Any]) -> list[ColumnElement[bool]]:
        columns = cls.__table__.columns  # type: ignore[attr-defined]
        unknown = sorted(set(filters) - set(cls._column_names()))
        if unknown:
            raise InvalidFilterError(
                f"{cls.__name__} cannot be filtered by {', '.join(unknown)}; "
                f"filterable columns: {', '.join(cls._column_names())}"
            )
        return [columns[key] == value for key, value in filters.items()]

    @classmethod
    def _order(cls) -> list[Any]:
        return list(cls.__table__.primary_key.columns)  # type: ignore[attr-defined]

    @classmethod
    def check_updates(cls, updates: Mapping[str, Any]) -> None:
        """Raise :class:`FieldNotUpdatableError` unless every key of ``updates`` may change."""
        allowed = cls.updatable_fields - cls._primary_key_names()
        refused = sorted(set(updates) - allowed)
        if refused:
            raise FieldNotUpdatableError(
                f"{cls.__name__} does not allow updating {', '.join(refused)}; "
                f"updatable fields: {', '.join(sorted(allowed)) or 'none'}"
            )

    @classmethod
    async def create(cls, session: AsyncSession, instance: Self) -> Self:
        """Insert ``instance`` and return it with its generated primary key."""
        session.add(instance)
        await session.flush()
        await session.refresh(instance)
        return instance

    @classmethod
    async def get_by_id(cls, session: AsyncSession, model_id: Any) -> Self | None:
        """The row whose primary key is ``model_id``, or ``None``."""
        return await session.get(cls, model_id)

    @classmethod
    async def get_list(cls, session: AsyncSession, **filters: Any) -> list[Self]:
        """Every row whose columns equal ``filters`` (``name="Ada"``), in primary-key order."""
        statement = select(cls).where(*cls._where(filters)).order_by(*cls._order())
        result = await session.exec(statement)
        return list(result.all())

    @classmethod
    async def count(cls, session: AsyncSession, **filters: Any) -> int:
        """Number of rows whose columns equal ``filters``."""
        statement = select(func.count()).select_from(cls).where(*cls._where(filters))
        result = await session.exec(statement)
        return int(result.one())

    @classmethod
    async def get_page(
        cls,
        session: AsyncSession,
        *,
        page: int = 1,
        per_page: int = 20,
        filters: Mapping[str, Any] | None = None,
    ) -> PageResult[Self]:
        """Page ``page`` (from 1) of the rows matching ``filters``, ``per_page`` rows per page."""
        if page < 1 or per_page < 1:
            raise ModelError("page and per_page must be at least 1")
        where = cls._where(filters or {})
        # One query: the page's rows, each with the count of every matching row (a window
        # function); only a page past the end, which has no row to carry it, asks again.
        total_column = func.count().over().label("total")
        statement = (
            select(cls, total_column)
            .where(*where)
            .order_by(*cls._order())
            .offset((page - 1) * per_page)
            .limit(per_page)
        )
        rows = (await session.exec(statement)).all()
        if rows:
            total = int(rows[0][1])
        else:
            counted = select(func.count()).select_from(cls).where(*where)
            total = int((await session.exec(counted)).one())
        items = [row[0] for row in rows]
        return PageResult(items=items, page=page, per_page=per_page, total=total)

    @classmethod
    async def update(
        cls, session: AsyncSession, model_id: Any, updates: Mapping[str, Any]
    ) -> Self | None:
        """Apply ``updates`` to the row ``model_id``; ``None`` when there is no such row."""
        cls.check_updates(updates)
        instance = await session.get(cls, model_id)
        if instance is None:
            return None
        for key, value in updates.items():
            setattr(instance, key, value)
        session.add(instance)
        await session.flush()
        await session.refresh(instance)
        return instance

    @classmethod
    async def delete(cls, session: AsyncSession, model_id: Any) -> bool:
        """Delete the row ``model_id``; ``False`` when there is no such row."""
        instance = await session.get(cls, model_id)
        if instance is None:
            return False
        await session.delete(instance)
        await session.flush()
        return True
