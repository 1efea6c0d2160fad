"""WebSocket handlers of the example Author resource.

They use the same session-as-parameter model methods as the HTTP routes, and own their transaction
the same way. Reads need an authenticated user; writes need the ``editor`` role, deletes ``admin``.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.exc import SQLAlchemyError

from my_service.api.ws.constants import PkgID, RSPCode
from my_service.auth import roles
from my_service.logging import logger
from my_service.models.author import Author
from my_service.routing import pkg_router
from my_service.schemas.author import AuthorCreate, AuthorRead
from my_service.schemas.request import RequestModel
from my_service.schemas.response import ResponseModel
from my_service.storage.db import async_session


class AuthorFilters(BaseModel):
    """Columns an author list may be filtered by (exact match)."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = None

    def as_filters(self) -> dict[str, Any]:
        return self.model_dump(exclude_none=True)


class GetAuthors(BaseModel):
    model_config = ConfigDict(extra="forbid")

    filters: AuthorFilters = Field(default_factory=AuthorFilters)


class GetPaginatedAuthors(GetAuthors):
    page: int = Field(default=1, ge=1)
    per_page: int = Field(default=20, ge=1, le=100)


class UpdateAuthor(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: int
    name: str = Field(min_length=1, max_length=255)


class DeleteAuthor(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: int


def database_error(request: RequestModel, error: SQLAlchemyError) -> ResponseModel:
    logger.error("database error in pkg_id %s: %s", request.pkg_id, error)
    return ResponseModel.err_msg(request.pkg_id, request.req_id, "database error")


def not_found(request: RequestModel, author_id: int) -> ResponseModel:
    return ResponseModel.err_msg(
        request.pkg_id,
        request.req_id,
        f"Author {author_id} not found",
        status_code=RSPCode.NOT_FOUND,
    )


@pkg_router.register(PkgID.GET_AUTHORS, json_schema=GetAuthors)
async def get_authors(request: RequestModel) -> ResponseModel:
    """Every author matching ``filters``, in id order."""
    body = GetAuthors.model_validate(request.data)
    try:
        async with async_session() as session:
            authors = await Author.get_list(session, **body.filters.as_filters())
    except SQLAlchemyError as error:
        return database_error(request, error)
    data = [AuthorRead.model_validate(author) for author in authors]
    return ResponseModel.ok_msg(request.pkg_id, request.req_id, data=data)


@pkg_router.register(PkgID.GET_PAGINATED_AUTHORS, json_schema=GetPaginatedAuthors)
async def get_paginated_authors(request: RequestModel) -> ResponseModel:
    """One page of authors; ``meta`` says where it sits: page, per_page, total, pages."""
    body = GetPaginatedAuthors.model_validate(request.data)
    try:
        async with async_session() as session:
            result = await Author.get_page(
                session,
                page=body.page,
                per_page=body.per_page,
                filters=body.filters.as_filters(),
            )
    except SQLAlchemyError as error:
        return database_error(request, error)
    return ResponseModel.ok_msg(
        request.pkg_id,
        request.req_id,
        data=[AuthorRead.model_validate(author) for author in result.items],
        meta={
            "page": result.page,
            "per_page": result.per_page,
            "total": result.total,
            "pages": result.pages,
        },
    )


@pkg_router.register(PkgID.CREATE_AUTHOR, json_schema=AuthorCreate, roles=[roles.EDITOR])
async def create_author(request: RequestModel) -> ResponseModel:
    """Create an author from ``{"name": ...}``."""
    body = AuthorCreate.model_validate(request.data)
    try:
        async with async_session() as session, session.begin():
            author = await Author.create(session, Author.model_validate(body))
    except SQLAlchemyError as error:
        return database_error(request, error)
    data = AuthorRead.model_validate(author)
    return ResponseModel.ok_msg(request.pkg_id, request.req_id, data=data)


@pkg_router.register(PkgID.UPDATE_AUTHOR, json_schema=UpdateAuthor, roles=[roles.EDITOR])
async def update_author(request: RequestModel) -> ResponseModel:
    """Rename the author ``id``."""
    body = UpdateAuthor.model_validate(request.data)
    try:
        async with async_session() as session, session.begin():
            author = await Author.update(session, body.id, {"name": body.name})
    except SQLAlchemyError as error:
        return database_error(request, error)
    if author is None:
        return not_found(request, body.id)
    data = AuthorRead.model_validate(author)
    return ResponseModel.ok_msg(request.pkg_id, request.req_id, data=data)


@pkg_router.register(PkgID.DELETE_AUTHOR, json_schema=DeleteAuthor, roles=[roles.ADMIN])
async def delete_author(request: RequestModel) -> ResponseModel:
    """Delete the author ``id``."""
    body = DeleteAuthor.model_validate(request.data)
    try:
        async with async_session() as session, session.begin():
            deleted = await Author.delete(session, body.id)
    except SQLAlchemyError as error:
        return database_error(request, error)
    if not deleted:
        return not_found(request, body.id)
    return ResponseModel.ok_msg(request.pkg_id, request.req_id, data={"id": body.id})
