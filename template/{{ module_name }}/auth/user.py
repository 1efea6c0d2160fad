"""The authenticated caller."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
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
    def from_claims(
        cls,
        claims: Mapping[str, Any],
        client_id: str | None = None,
        role_implies: Mapping[str, Iterable[str]] | None = None,
    ) -> User:
        """Build a user from verified claims; roles as Keycloak puts them.

        Realm roles come from ``realm_access.roles``; when ``client_id`` is given, that client's
        roles from ``resource_access[client_id].roles`` count too. ``role_implies`` adds the roles
        each held role grants (``{"admin": ["editor"]}``), transitively.
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
            roles=implied_roles(roles, role_implies or {}),
            claims=dict(claims),
        )


def _role_list(access: Any) -> list[str]:
    if not isinstance(access, Mapping):
        return []
    roles = access.get("roles")
    if not isinstance(roles, list):
        return []
    return [role for role in roles if isinstance(role, str)]


def implied_roles(roles: Iterable[str], implies: Mapping[str, Iterable[str]]) -> frozenset[str]:
    """``roles`` plus every role they grant through ``implies``, transitively (cycles are fine)."""
    held = set(roles)
    pending = list(held)
    while pending:
        for granted in implies.get(pending.pop(), ()):
            if granted not in held:
                held.add(granted)
                pending.append(granted)
    return frozenset(held)
