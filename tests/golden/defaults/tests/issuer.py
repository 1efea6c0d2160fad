"""A real OIDC-style token issuer for tests: RSA keys, a JWKS and discovery served over HTTP."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from tests import live

AUDIENCE = "test-api"
CLIENT_ID = "test-client"


def new_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def public_jwk(key: rsa.RSAPrivateKey, kid: str) -> dict[str, Any]:
    jwk: dict[str, Any] = json.loads(RSAAlgorithm.to_jwk(key.public_key()))
    return {**jwk, "kid": kid, "use": "sig", "alg": "RS256"}


class TestIssuer:
    """Publishes the public halves of ``published`` keys; signs with any key it is given."""

    __test__ = False  # not a test class, despite its name

    def __init__(self) -> None:
        self.url = ""
        self.key = new_key()
        self.published: dict[str, rsa.RSAPrivateKey] = {"key-1": self.key}
        self.jwks_requests = 0

    def settings(self) -> dict[str, Any]:
        """Settings that make a service trust this issuer (JWKS found through discovery)."""
        return {"AUTH_ISSUER": self.url, "AUTH_AUDIENCE": AUDIENCE, "AUTH_CLIENT_ID": CLIENT_ID}

    def token(
        self,
        sub: str | None = "alice",
        roles: Iterable[str] = (),
        client_roles: Iterable[str] = (),
        *,
        key: rsa.RSAPrivateKey | None = None,
        kid: str = "key-1",
        algorithm: str = "RS256",
        **claims: Any,
    ) -> str:
        """A token for ``sub``; ``claims`` override or (when ``None``) remove standard claims."""
        now = int(time.time())
        payload: dict[str, Any] = {
            "iss": self.url,
            "aud": AUDIENCE,
            "sub": sub,
            "preferred_username": sub,
            "iat": now,
            "nbf": now,
            "exp": now + 300,
            "realm_access": {"roles": list(roles)},
            "resource_access": {CLIENT_ID: {"roles": list(client_roles)}},
        }
        payload.update(claims)
        payload = {name: value for name, value in payload.items() if value is not None}
        signing_key = key or self.key
        return jwt.encode(payload, signing_key, algorithm=algorithm, headers={"kid": kid})

    def app(self) -> Starlette:
        async def discovery(_request: Request) -> JSONResponse:
            return JSONResponse({"issuer": self.url, "jwks_uri": f"{self.url}/jwks"})

        async def jwks(_request: Request) -> JSONResponse:
            self.jwks_requests += 1
            keys = [public_jwk(key, kid) for kid, key in self.published.items()]
            return JSONResponse({"keys": keys})

        return Starlette(
            routes=[
                Route("/.well-known/openid-configuration", discovery),
                Route("/jwks", jwks),
            ]
        )

    @asynccontextmanager
    async def running(self) -> AsyncIterator[TestIssuer]:
        """Serve discovery and JWKS over HTTP while the block runs."""
        async with live.serve(self.app(), lifespan="off") as url:
            self.url = url
            yield self
