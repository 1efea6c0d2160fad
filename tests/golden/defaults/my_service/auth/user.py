"""The authenticated caller."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class User:
    """Who sent a request, as its token says."""

    id: str
    """The token's ``sub``: stable and unique per issuer."""
    username: str
    """``preferred_username`` when the token has one, else ``id``."""
    roles: frozenset[str] = frozenset()
    claims: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    def has_roles(self, required: frozenset[str]) -> bool:
        """True when the user holds every role in ``required``."""
        return required <= self.roles

    @classmethod
    def from_claims(cls, claims: Mapping[str, Any], client_id: str | None = None) -> User:
        """Build a user from verified claims; roles as Keycloak puts them.

        Realm roles come from ``realm_access.roles``; when ``client_id`` is given, that client's
        roles from ``resource_access[client_id].roles`` count too.
        """
        roles = set(_role_list(claims.get("realm_access")))
        if client_id:
            clients = claims.get("resource_access")
            if isinstance(clients, Mapping):
                roles.update(_role_list(clients.get(client_id)))
        subject = str(claims["sub"])
        username = claims.get("preferred_username")
        return cls(
            id=subject,
            username=username if isinstance(username, str) and username else subject,
            roles=frozenset(roles),
            claims=dict(claims),
        )


def _role_list(access: Any) -> list[str]:
    if not isinstance(access, Mapping):
        return []
    roles = access.get("roles")
    if not isinstance(roles, list):
        return []
    return [role for role in roles if isinstance(role, str)]
