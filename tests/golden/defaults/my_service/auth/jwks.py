"""Signing keys of the token issuer, fetched from its JWKS endpoint and cached by ``kid``."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import httpx
import jwt

from my_service.logging import logger

JWKSFetcher = Callable[[], Awaitable[Mapping[str, Any]]]


class KeyNotFoundError(LookupError):
    """No key with the token's ``kid``, even after refreshing the key set."""


class JWKSCache:
    """Keys by ``kid``; an unknown ``kid`` triggers one refresh, at most every ``min_refresh``.

    The throttle matters: tokens with made-up key ids must not turn into a flood of requests to
    the issuer. A failed refresh keeps the keys already known.
    """

    def __init__(self, fetch: JWKSFetcher, min_refresh: float = 30.0) -> None:
        self._fetch = fetch
        self._min_refresh = min_refresh
        self._keys: dict[str, jwt.PyJWK] = {}
        self._fetched_at: float | None = None
        self._lock = asyncio.Lock()

    async def get(self, kid: str) -> jwt.PyJWK:
        """The key ``kid``; refreshes the set first when it is not known yet."""
        key = self._keys.get(kid)
        if key is not None:
            return key
        async with self._lock:
            if kid not in self._keys and self._may_refresh():
                await self._refresh()
        key = self._keys.get(kid)
        if key is None:
            raise KeyNotFoundError(f"no signing key with kid {kid!r}")
        return key

    def _may_refresh(self) -> bool:
        return self._fetched_at is None or time.monotonic() - self._fetched_at >= self._min_refresh

    async def _refresh(self) -> None:
        self._fetched_at = time.monotonic()
        try:
            document = await self._fetch()
            key_set = jwt.PyJWKSet.from_dict(dict(document))
        except (httpx.HTTPError, jwt.PyJWKSetError, ValueError) as error:
            logger.warning("could not refresh the issuer's signing keys: %s", error)
            return
        self._keys = {key.key_id: key for key in key_set.keys if key.key_id}


def http_jwks_fetcher(
    client: httpx.AsyncClient, issuer: str, jwks_url: str | None = None
) -> JWKSFetcher:
    """Fetch the JWKS from ``jwks_url``, or from the ``jwks_uri`` the issuer's discovery names."""
    resolved: list[str] = [jwks_url] if jwks_url else []

    async def fetch() -> Mapping[str, Any]:
        if not resolved:
            discovery = f"{issuer.rstrip('/')}/.well-known/openid-configuration"
            response = await client.get(discovery)
            response.raise_for_status()
            jwks_uri = response.json().get("jwks_uri")
            if not isinstance(jwks_uri, str):
                raise ValueError(f"{discovery} names no jwks_uri")
            resolved.append(jwks_uri)
        response = await client.get(resolved[0])
        response.raise_for_status()
        document: Mapping[str, Any] = response.json()
        return document

    return fetch
