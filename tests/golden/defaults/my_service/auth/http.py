"""FastAPI dependencies for HTTP routes: who is calling, and do they hold the roles a route needs.

Declare checks per route (or per router)::

    @router.post("/books", dependencies=[Depends(require_roles("editor"))])
    async def create_book(...): ...

    @router.get("/me")
    async def me(user: CurrentUser) -> dict[str, str]: ...

A missing or invalid token answers 401 with ``WWW-Authenticate: Bearer``; a missing role, 403.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from my_service.auth.tokens import InvalidTokenError, TokenValidator
from my_service.auth.user import User

bearer_scheme = HTTPBearer(auto_error=False, description="A JWT from the configured issuer")


def token_validator(request: Request) -> TokenValidator:
    """The validator the app built at start-up."""
    validator: TokenValidator = request.app.state.token_validator
    return validator


async def current_user(
    request: Request,
    validator: Annotated[TokenValidator, Depends(token_validator)],
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)],
) -> User:
    """The user the request's bearer token authenticates, or 401.

    When the rate-limit middleware already checked the token, its result is reused.
    """
    if credentials is None:
        raise HTTPException(
            status_code=status.HTTP_401_UNAUTHORIZED,
            detail="not authenticated: send Authorization: Bearer <token>",
            headers={"WWW-Authenticate": "Bearer"},
        )
    try:
        checked: User | None = getattr(request.state, "user", None)
        if checked is not None:
            return checked
        earlier_error: InvalidTokenError | None = getattr(request.state, "auth_error", None)
        if earlier_error is not None:
            raise earlier_error
        return await validator.validate(credentials.credentials)
    except InvalidTokenError as error:
        raise HTTPException(
            status_code=status.HTTP_401_UNAUTHORIZED,
            detail=str(error),
            headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
        ) from error


CurrentUser = Annotated[User, Depends(current_user)]


def require_roles(*roles: str) -> Callable[[User], Awaitable[User]]:
    """A dependency that lets a request through only if its user holds every role in ``roles``."""
    required = frozenset(roles)

    async def check(user: CurrentUser) -> User:
        if not user.has_roles(required):
            missing = ", ".join(sorted(required - user.roles))
            raise HTTPException(
                status_code=status.HTTP_403_FORBIDDEN, detail=f"missing role(s): {missing}"
            )
        return user

    return check
