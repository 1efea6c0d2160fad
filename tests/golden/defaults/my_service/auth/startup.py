"""Build the token validator the app uses, from the settings."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from my_service.auth.dev_issuer import DevIssuer
from my_service.auth.jwks import JWKSCache, http_jwks_fetcher
from my_service.auth.tokens import TokenValidator
from my_service.settings import Settings


@dataclass
class Authentication:
    """What the app holds for authentication while it runs."""

    validator: TokenValidator
    dev_issuer: DevIssuer | None
    http_client: httpx.AsyncClient | None

    async def close(self) -> None:
        if self.http_client is not None:
            await self.http_client.aclose()


def build_authentication(settings: Settings) -> Authentication:
    """The built-in dev issuer when ``settings.uses_dev_issuer``, else the configured issuer."""
    if settings.uses_dev_issuer:
        issuer = DevIssuer.load_or_create(settings.AUTH_DEV_KEYS_DIR, settings.AUTH_AUDIENCE)

        async def local_jwks() -> Mapping[str, Any]:
            return issuer.jwks

        validator = TokenValidator(
            issuer=issuer.issuer,
            audience=issuer.audience,
            keys=JWKSCache(local_jwks),
            algorithms=["RS256"],
            leeway=settings.AUTH_LEEWAY_SECONDS,
        )
        return Authentication(validator=validator, dev_issuer=issuer, http_client=None)

    if not settings.AUTH_ISSUER or not settings.AUTH_AUDIENCE:
        raise ValueError("AUTH_ISSUER and AUTH_AUDIENCE must both be set")
    client = httpx.AsyncClient(timeout=5.0, follow_redirects=True)
    validator = TokenValidator(
        issuer=settings.AUTH_ISSUER,
        audience=settings.AUTH_AUDIENCE,
        keys=JWKSCache(http_jwks_fetcher(client, settings.AUTH_ISSUER, settings.AUTH_JWKS_URL)),
        algorithms=settings.AUTH_ALGORITHMS,
        client_id=settings.AUTH_CLIENT_ID,
        leeway=settings.AUTH_LEEWAY_SECONDS,
    )
    return Authentication(validator=validator, dev_issuer=None, http_client=client)
