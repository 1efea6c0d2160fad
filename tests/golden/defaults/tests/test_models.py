"""CRUDModel against real databases: CRUD, refused filters and updates, rollback on error."""

from __future__ import annotations

import pytest
from sqlalchemy.exc import IntegrityError
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from my_service.models.base import (
    FieldNotUpdatableError,
    InvalidFilterError,
    ModelError,
)

from tests.gadget import Gadget


async def labels(session: AsyncSession) -> list[str]:
    """Labels of every committed gadget, read in a transaction of its own."""
    async with session.begin():
        return sorted((await session.exec(select(Gadget.label))).all())


async def add(session: AsyncSession, *names: str) -> list[Gadget]:
    async with session.begin():
        return [
            await Gadget.create(session, Gadget(label=name, price=i))
            for i, name in enumerate(names)
        ]


async def test_create_assigns_id_and_get_by_id_finds_it(session: AsyncSession) -> None:
    (created,) = await add(session, "spanner")
    assert created.id is not None
    async with session.begin():
        found = await Gadget.get_by_id(session, created.id)
        missing = await Gadget.get_by_id(session, created.id + 1000)
    assert found is not None
    assert (found.label, found.price) == ("spanner", 0)
    assert missing is None


async def test_get_list_filters_by_columns_in_id_order(session: AsyncSession) -> None:
    await add(session, "a", "b", "c")
    async with session.begin():
        everything = await Gadget.get_list(session)
        only_b = await Gadget.get_list(session, label="b")
        priced = await Gadget.get_list(session, price=2, label="c")
        nothing = await Gadget.get_list(session, label="zzz")
    assert [g.label for g in everything] == ["a", "b", "c"]
    assert [g.label for g in only_b] == ["b"]
    assert [g.label for g in priced] == ["c"]
    assert nothing == []


async def test_get_page_and_count(session: AsyncSession) -> None:
    await add(session, *[f"g{i}" for i in range(5)])
    async with session.begin():
        page = await Gadget.get_page(session, page=2, per_page=2)
        last = await Gadget.get_page(session, page=3, per_page=2)
        beyond = await Gadget.get_page(session, page=9, per_page=2)
        filtered = await Gadget.get_page(session, per_page=10, filters={"label": "g3"})
        total = await Gadget.count(session)
    assert [g.label for g in page.items] == ["g2", "g3"]
    assert (page.total, page.pages) == (5, 3)
    assert [g.label for g in last.items] == ["g4"]
    assert (list(beyond.items), beyond.total) == ([], 5)
    assert ([g.label for g in filtered.items], filtered.pages) == (["g3"], 1)
    assert total == 5
    with pytest.raises(ModelError):
        await Gadget.get_page(session, page=0)


@pytest.mark.parametrize("bad_filter", ["colour", "__class__", "metadata", "updatable_fields"])
async def test_unknown_filter_keys_are_refused(session: AsyncSession, bad_filter: str) -> None:
    await add(session, "a")
    with pytest.raises(InvalidFilterError, match=bad_filter):
        await Gadget.get_list(session, **{bad_filter: "x"})
    with pytest.raises(InvalidFilterError):
        await Gadget.count(session, **{bad_filter: "x"})
    with pytest.raises(InvalidFilterError):
        await Gadget.get_page(session, filters={bad_filter: "x"})


async def test_update_changes_declared_fields(session: AsyncSession) -> None:
    (gadget,) = await add(session, "old")
    assert gadget.id is not None
    async with session.begin():
        updated = await Gadget.update(session, gadget.id, {"label": "new", "price": 7})
        missing = await Gadget.update(session, gadget.id + 1000, {"label": "x"})
    assert updated is not None
    assert (updated.label, updated.price) == ("new", 7)
    assert missing is None
    assert await labels(session) == ["new"]


@pytest.mark.parametrize(
    "updates",
    [{"id": 99}, {"sku": "X-1"}, {"nonexistent": 1}, {"label": "ok", "sku": "X-1"}],
    ids=["primary-key-even-if-declared", "undeclared-column", "unknown", "mixed"],
)
async def test_update_refuses_fields_not_declared_updatable(
    session: AsyncSession, updates: dict[str, object]
) -> None:
    (gadget,) = await add(session, "keep")
    assert gadget.id is not None
    with pytest.raises(FieldNotUpdatableError):
        await Gadget.update(session, gadget.id, updates)
    async with session.begin():
        unchanged = await Gadget.get_by_id(session, gadget.id)
    assert unchanged is not None
    assert (unchanged.id, unchanged.label, unchanged.sku) == (gadget.id, "keep", "none")


async def test_delete(session: AsyncSession) -> None:
    first, _ = await add(session, "a", "b")
    assert first.id is not None
    async with session.begin():
        assert await Gadget.delete(session, first.id) is True
        assert await Gadget.delete(session, first.id) is False
    assert await labels(session) == ["b"]


async def test_failed_transaction_rolls_back_every_operation(session: AsyncSession) -> None:
    await add(session, "existing")

    async def three_creates_the_last_violating_unique() -> None:
        async with session.begin():
            await Gadget.create(session, Gadget(label="first"))
            await Gadget.create(session, Gadget(label="second"))
            await Gadget.create(session, Gadget(label="existing"))

    with pytest.raises(IntegrityError):
        await three_creates_the_last_violating_unique()
    assert await labels(session) == ["existing"]


async def test_refused_update_rolls_back_earlier_writes(session: AsyncSession) -> None:
    (gadget,) = await add(session, "kept")
    assert gadget.id is not None

    async def writes_then_a_refused_update(gadget_id: int) -> None:
        async with session.begin():
            await Gadget.create(session, Gadget(label="phantom"))
            await Gadget.update(session, gadget_id, {"label": "renamed"})
            await Gadget.update(session, gadget_id, {"sku": "forbidden"})

    with pytest.raises(FieldNotUpdatableError):
        await writes_then_a_refused_update(gadget.id)
    assert await labels(session) == ["kept"]


async def test_session_is_usable_after_a_database_error(session: AsyncSession) -> None:
    await add(session, "dup")
    with pytest.raises(IntegrityError):
        await Gadget.create(session, Gadget(label="dup"))
    await add(session, "after")
    assert await labels(session) == ["after", "dup"]
