"""The built-in development issuer: the service signs its own tokens when no AUTH_ISSUER is set.

On first use an RSA key pair is generated into ``AUTH_DEV_KEYS_DIR`` (gitignored, readable only by
its owner); the public half is served as a JWKS at ``/dev-auth/jwks.json`` and the
``token`` command (``python -m <package> token``) signs tokens with the private half. Never used
in production.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

DEV_ISSUER = "urn:my-service:dev-issuer"
DEV_AUDIENCE = "my-service"
PRIVATE_KEY_FILE = "private_key.pem"


class DevIssuer:
    """Signs tokens with a local RSA key and publishes the matching JWKS."""

    def __init__(self, private_key: rsa.RSAPrivateKey, audience: str = DEV_AUDIENCE) -> None:
        self.private_key = private_key
        self.issuer = DEV_ISSUER
        self.audience = audience
        public_jwk: dict[str, Any] = json.loads(RSAAlgorithm.to_jwk(private_key.public_key()))
        self.kid = _thumbprint(public_jwk)
        self.jwks: dict[str, Any] = {
            "keys": [{**public_jwk, "kid": self.kid, "use": "sig", "alg": "RS256"}]
        }

    @classmethod
    def load_or_create(cls, folder: Path, audience: str | None = None) -> DevIssuer:
        """The issuer whose key lives in ``folder``, generating the key on first use."""
        path = folder / PRIVATE_KEY_FILE
        if not path.exists():
            _write_new_key(path)
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
        if not isinstance(key, rsa.RSAPrivateKey):
            raise ValueError(f"{path} does not hold an RSA private key")
        return cls(key, audience or DEV_AUDIENCE)

    def issue(
        self,
        subject: str,
        roles: Iterable[str] = (),
        *,
        ttl: int = 3600,
        username: str | None = None,
        extra_claims: Mapping[str, Any] | None = None,
    ) -> str:
        """A signed token for ``subject`` holding realm ``roles``, valid for ``ttl`` seconds."""
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": self.issuer,
            "aud": self.audience,
            "sub": subject,
            "preferred_username": username or subject,
            "iat": now,
            "nbf": now,
            "exp": now + ttl,
            "realm_access": {"roles": sorted(set(roles))},
            **(extra_claims or {}),
        }
        return jwt.encode(claims, self.private_key, algorithm="RS256", headers={"kid": self.kid})


def _write_new_key(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    (path.parent / ".gitignore").write_text("*\n")
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return  # another process created it first; use theirs
    with os.fdopen(fd, "wb") as key_file:
        key_file.write(pem)


def _thumbprint(jwk: Mapping[str, Any]) -> str:
    """RFC 7638 thumbprint of an RSA public key, used as its ``kid``."""
    canonical = json.dumps({k: jwk[k] for k in ("e", "kty", "n")}, separators=(",", ":"))
    digest = hashlib.sha256(canonical.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
