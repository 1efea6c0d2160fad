"""``GET /dev-auth/jwks.json``: the built-in dev issuer's public keys (404 with a real issuer)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Request, status

from my_service.auth.startup import Authentication

router = APIRouter(tags=["dev-auth"], include_in_schema=False)


@router.get("/dev-auth/jwks.json")
async def dev_jwks(request: Request) -> dict[str, Any]:
    """The JWKS that verifies tokens minted by the ``token`` command."""
    authentication: Authentication = request.app.state.authentication
    if authentication.dev_issuer is None:
        raise HTTPException(status_code=status.HTTP_404_NOT_FOUND, detail="Not Found")
    return authentication.dev_issuer.jwks
