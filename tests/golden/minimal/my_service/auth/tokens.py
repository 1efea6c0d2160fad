"""Validation of bearer tokens: signature, ``exp``/``nbf``, ``iss`` and ``aud``."""

from __future__ import annotations

from collections.abc import Sequence

import jwt

from my_service.auth.jwks import JWKSCache, KeyNotFoundError
from my_service.auth.user import User


class InvalidTokenError(Exception):
    """The token cannot authenticate anyone; the message says why (safe to show the client)."""


class TokenValidator:
    """Checks tokens from one issuer and turns their claims into a :class:`User`."""

    def __init__(
        self,
        *,
        issuer: str,
        audience: str,
        keys: JWKSCache,
        algorithms: Sequence[str] = ("RS256",),
        client_id: str | None = None,
        leeway: int = 10,
    ) -> None:
        self.issuer = issuer
        self.audience = audience
        self.keys = keys
        self.algorithms = list(algorithms)
        self.client_id = client_id
        self.leeway = leeway

    async def validate(self, token: str) -> User:
        """The user ``token`` authenticates; :class:`InvalidTokenError` when it does not."""
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as error:
            raise InvalidTokenError("malformed token") from error
        algorithm = header.get("alg")
        if algorithm not in self.algorithms:
            raise InvalidTokenError(f"signature algorithm {algorithm!r} is not accepted")
        kid = header.get("kid")
        if not isinstance(kid, str):
            raise InvalidTokenError("token names no signing key (kid)")
        try:
            key = await self.keys.get(kid)
        except KeyNotFoundError as error:
            raise InvalidTokenError("unknown signing key") from error
        try:
            claims = jwt.decode(
                token,
                key.key,
                algorithms=[algorithm],
                audience=self.audience,
                issuer=self.issuer,
                leeway=self.leeway,
                options={"require": ["exp", "iss", "aud", "sub"]},
            )
        except jwt.ExpiredSignatureError as error:
            raise InvalidTokenError("token expired") from error
        except jwt.ImmatureSignatureError as error:
            raise InvalidTokenError("token not valid yet") from error
        except jwt.InvalidAudienceError as error:
            raise InvalidTokenError("token is for another audience") from error
        except jwt.InvalidIssuerError as error:
            raise InvalidTokenError("token is from another issuer") from error
        except jwt.InvalidSignatureError as error:
            raise InvalidTokenError("bad signature") from error
        except jwt.PyJWTError as error:
            raise InvalidTokenError(f"invalid token: {error}") from error
        return User.from_claims(claims, self.client_id)
