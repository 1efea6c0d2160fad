"""Token validation against a real issuer over HTTP, and the HTTP auth dependencies."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from fastapi import APIRouter, Depends, FastAPI

from my_service.auth.http import CurrentUser, require_roles
from my_service.auth.jwks import JWKSCache, http_jwks_fetcher
from my_service.auth.tokens import InvalidTokenError, TokenValidator
from my_service.factory import create_app

from tests.conftest import settings_for
from tests.issuer import AUDIENCE, CLIENT_ID, TestIssuer, new_key


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def handmade_token(header: dict[str, Any], claims: dict[str, Any], secret: bytes | None) -> str:
    """A token PyJWT would refuse to create: ``alg: none`` or HS256 keyed with a public key."""
    signing_input = f"{b64(json.dumps(header).encode())}.{b64(json.dumps(claims).encode())}"
    if secret is None:
        return signing_input + "."
    signature = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64(signature)}"


def bad_tokens(issuer: TestIssuer) -> dict[str, tuple[str, str]]:
    """Tokens that must not authenticate, each with the reason the validator gives."""
    now = int(time.time())
    claims = {"sub": "mallory", "iss": issuer.url, "aud": AUDIENCE, "exp": now + 300}
    public_pem = issuer.key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return {
        "expired": (issuer.token(exp=now - 60, iat=now - 400, nbf=now - 400), "expired"),
        "not-yet-valid": (issuer.token(nbf=now + 600), "not valid yet"),
        "wrong-issuer": (issuer.token(iss="https://evil.example.com"), "another issuer"),
        "wrong-audience": (issuer.token(aud="another-api"), "another audience"),
        "bad-signature": (issuer.token(key=new_key()), "bad signature"),
        "unknown-kid": (issuer.token(kid="nobody-knows"), "unknown signing key"),
        "alg-none": (handmade_token({"alg": "none", "kid": "key-1"}, claims, None), "'none'"),
        "hs256-keyed-with-public-key": (
            handmade_token({"alg": "HS256", "kid": "key-1"}, claims, public_pem),
            "'HS256'",
        ),
        "no-exp": (issuer.token(exp=None), "exp"),
        "no-sub": (issuer.token(sub=None), "sub"),
        "garbage": ("not.a.token", "malformed"),
        "empty": ("", "malformed"),
    }


BAD_TOKEN_CASES = [
    "expired",
    "not-yet-valid",
    "wrong-issuer",
    "wrong-audience",
    "bad-signature",
    "unknown-kid",
    "alg-none",
    "hs256-keyed-with-public-key",
    "no-exp",
    "no-sub",
    "garbage",
    "empty",
]


@pytest.fixture
async def validator(issuer: TestIssuer) -> AsyncIterator[TokenValidator]:
    """A validator that finds the issuer's JWKS through its discovery document."""
    async with httpx.AsyncClient() as http:
        keys = JWKSCache(http_jwks_fetcher(http, issuer.url), min_refresh=0)
        yield TokenValidator(
            issuer=issuer.url, audience=AUDIENCE, keys=keys, client_id=CLIENT_ID, leeway=0
        )


async def test_valid_token_gives_the_user_with_realm_and_client_roles(
    validator: TokenValidator, issuer: TestIssuer
) -> None:
    user = await validator.validate(issuer.token("alice", ["editor"], ["admin"]))
    assert user.id == "alice"
    assert user.username == "alice"
    assert user.roles == {"editor", "admin"}


@pytest.mark.parametrize("case", BAD_TOKEN_CASES)
async def test_bad_tokens_are_refused(
    validator: TokenValidator, issuer: TestIssuer, case: str
) -> None:
    token, reason = bad_tokens(issuer)[case]
    with pytest.raises(InvalidTokenError, match=reason):
        await validator.validate(token)


async def test_rotated_key_is_fetched_on_first_use(issuer: TestIssuer) -> None:
    async with httpx.AsyncClient() as http:
        keys = JWKSCache(http_jwks_fetcher(http, issuer.url, f"{issuer.url}/jwks"), min_refresh=0)
        validator = TokenValidator(issuer=issuer.url, audience=AUDIENCE, keys=keys)
        await validator.validate(issuer.token())
        rotated = new_key()
        issuer.published["key-2"] = rotated
        try:
            user = await validator.validate(issuer.token("bob", key=rotated, kid="key-2"))
        finally:
            del issuer.published["key-2"]
    assert user.id == "bob"


async def test_unknown_kids_do_not_flood_the_issuer(issuer: TestIssuer) -> None:
    async with httpx.AsyncClient() as http:
        keys = JWKSCache(http_jwks_fetcher(http, issuer.url), min_refresh=60)
        validator = TokenValidator(issuer=issuer.url, audience=AUDIENCE, keys=keys)
        before = issuer.jwks_requests
        for attempt in range(20):
            with pytest.raises(InvalidTokenError):
                await validator.validate(issuer.token(kid=f"made-up-{attempt}"))
    assert issuer.jwks_requests - before == 1


async def test_unreachable_issuer_refuses_tokens_without_crashing(issuer: TestIssuer) -> None:
    async with httpx.AsyncClient() as http:
        keys = JWKSCache(http_jwks_fetcher(http, "http://127.0.0.1:1"))
        validator = TokenValidator(issuer=issuer.url, audience=AUDIENCE, keys=keys)
        with pytest.raises(InvalidTokenError, match="unknown signing key"):
            await validator.validate(issuer.token())


probe = APIRouter(prefix="/probe")


@probe.get("/me")
async def me(user: CurrentUser) -> dict[str, Any]:
    return {"id": user.id, "roles": sorted(user.roles)}


@probe.get("/admin", dependencies=[Depends(require_roles("admin", "auditor"))])
async def admin_only() -> dict[str, bool]:
    return {"ok": True}


@pytest.fixture
async def http(sqlite_url: str, issuer: TestIssuer) -> AsyncIterator[httpx.AsyncClient]:
    app: FastAPI = create_app(settings_for(sqlite_url, **issuer.settings()))
    app.include_router(probe)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client,
    ):
        yield client


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_http_valid_token(http: httpx.AsyncClient, issuer: TestIssuer) -> None:
    response = await http.get("/probe/me", headers=bearer(issuer.token("carol", ["x"])))
    assert response.status_code == 200
    assert response.json() == {"id": "carol", "roles": ["x"]}


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Basic dXNlcjpwYXNz"}])
async def test_http_missing_token_is_401(http: httpx.AsyncClient, headers: dict[str, str]) -> None:
    response = await http.get("/probe/me", headers=headers)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"


@pytest.mark.parametrize("case", BAD_TOKEN_CASES)
async def test_http_bad_token_is_401_never_500(
    http: httpx.AsyncClient, issuer: TestIssuer, case: str
) -> None:
    token, reason = bad_tokens(issuer)[case]
    response = await http.get("/probe/me", headers=bearer(token))
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    if token:
        assert reason in response.json()["detail"]


async def test_http_every_listed_role_is_required(
    http: httpx.AsyncClient, issuer: TestIssuer
) -> None:
    only_admin = await http.get("/probe/admin", headers=bearer(issuer.token("d", ["admin"])))
    assert only_admin.status_code == 403
    assert only_admin.json() == {"detail": "missing role(s): auditor"}
    both = await http.get("/probe/admin", headers=bearer(issuer.token("d", ["admin", "auditor"])))
    assert both.status_code == 200


@pytest.mark.parametrize("path", ["/health", "/docs", "/openapi.json"])
async def test_public_endpoints_need_no_token(http: httpx.AsyncClient, path: str) -> None:
    assert (await http.get(path)).status_code == 200
