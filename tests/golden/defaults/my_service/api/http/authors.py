"""HTTP CRUD for the example Author resource under ``/authors``.

Each endpoint owns its session and, when it writes, its transaction: ``session.begin()`` commits
when the block ends and rolls everything back if anything in it raises.

Every route needs a valid bearer token; creating and changing need the ``editor`` role, deleting
the ``admin`` role.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, status

from my_service.auth import roles
from my_service.auth.http import current_user, require_roles
from my_service.models.author import Author
from my_service.schemas.author import (
    AuthorCreate,
    AuthorRead,
    AuthorUpdate,
)
from my_service.schemas.pagination import Page
from my_service.storage.db import async_session

router = APIRouter(prefix="/authors", tags=["authors"], dependencies=[Depends(current_user)])


def not_found(author_id: int) -> HTTPException:
    return HTTPException(
        status_code=status.HTTP_404_NOT_FOUND, detail=f"Author {author_id} not found"
    )


@router.get("", summary="List authors")
async def list_authors(
    name: Annotated[str | None, Query(description="Only authors with exactly this name")] = None,
    page: Annotated[int, Query(ge=1)] = 1,
    per_page: Annotated[int, Query(ge=1, le=100)] = 20,
) -> Page[AuthorRead]:
    """Authors in id order, ``per_page`` at a time, optionally filtered by name."""
    filters = {"name": name} if name is not None else {}
    async with async_session() as session:
        result = await Author.get_page(session, page=page, per_page=per_page, filters=filters)
    return Page[AuthorRead](
        items=[AuthorRead.model_validate(author) for author in result.items],
        page=result.page,
        per_page=result.per_page,
        total=result.total,
        pages=result.pages,
    )


@router.get("/{author_id}", summary="Get an author")
async def get_author(author_id: int) -> AuthorRead:
    """The author ``author_id``; 404 if there is none."""
    async with async_session() as session:
        author = await Author.get_by_id(session, author_id)
    if author is None:
        raise not_found(author_id)
    return AuthorRead.model_validate(author)


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Create an author",
    dependencies=[Depends(require_roles(roles.EDITOR))],
)
async def create_author(body: AuthorCreate) -> AuthorRead:
    """Create an author from the fields ``AuthorCreate`` allows."""
    async with async_session() as session, session.begin():
        author = await Author.create(session, Author.model_validate(body))
    return AuthorRead.model_validate(author)


@router.patch(
    "/{author_id}",
    summary="Update an author",
    dependencies=[Depends(require_roles(roles.EDITOR))],
)
async def update_author(author_id: int, body: AuthorUpdate) -> AuthorRead:
    """Change the fields present in the body; 404 if there is no such author."""
    async with async_session() as session, session.begin():
        author = await Author.update(session, author_id, body.model_dump(exclude_unset=True))
        if author is None:
            raise not_found(author_id)
    return AuthorRead.model_validate(author)


@router.delete(
    "/{author_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete an author",
    dependencies=[Depends(require_roles(roles.ADMIN))],
)
async def delete_author(author_id: int) -> None:
    """Delete the author; 404 if there is none."""
    async with async_session() as session, session.begin():
        if not await Author.delete(session, author_id):
            raise not_found(author_id)
