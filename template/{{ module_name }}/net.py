"""What a connection's transport says about its client: address, origin and credentials.

A leaf module (it imports nothing of the package), so that every layer above reads clients the
same way: the settings, the middlewares, the WebSocket endpoint and the features.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from starlette.types import Scope

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

Origin = tuple[str, str, int]
"""``(scheme, host, port)`` of a serialized origin, lowercased, the port made explicit."""

# A serialized origin as browsers send it: scheme://host[:port], nothing else (no path, no
# userinfo, no trailing slash); the host a name or a bracketed IPv6 address.
_ORIGIN = re.compile(
    r"(https?)://([^/?#@\s:\[\]]+|\[[0-9a-f:.]+\])(?::([0-9]{1,5}))?", re.IGNORECASE
)
DEFAULT_PORTS = {"http": 80, "https": 443}


def is_trusted(address: str, proxies: Iterable[IPNetwork]) -> bool:
    """True when ``address`` is an IP address inside one of ``proxies``."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in proxies)


def peer_address(scope: Scope) -> str:
    """The address of the connection's peer (``unknown`` when the server does not say)."""
    client = scope.get("client")
    return str(client[0]) if client else "unknown"


def client_ip(scope: Scope, trusted_proxies: Iterable[IPNetwork]) -> str:
    """The client's address: the peer, or, behind trusted proxies, the nearest untrusted hop."""
    peer = peer_address(scope)
    proxies = list(trusted_proxies)
    if not proxies or not is_trusted(peer, proxies):
        return peer
    forwarded = b",".join(
        value for name, value in scope["headers"] if name == b"x-forwarded-for"
    ).decode("latin-1")
    for hop in reversed([part.strip() for part in forwarded.split(",") if part.strip()]):
        if not is_trusted(hop, proxies):
            return hop
    return peer


def bearer_token(credentials: str) -> str | None:
    """The token of ``Bearer <token>`` (the scheme in any case), else ``None``."""
    scheme, _, token = credentials.partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return None


def header_bearer_token(scope: Scope) -> str | None:
    """The token of the request's first ``Authorization: Bearer`` header, if it has one."""
    headers: list[tuple[bytes, bytes]] = scope["headers"]
    for name, value in headers:
        if name == b"authorization":
            token = bearer_token(value.decode("latin-1"))
            if token is not None:
                return token
    return None


def parse_origin(value: str) -> Origin | None:
    """``(scheme, host, port)`` of ``scheme://host[:port]``; ``None`` for anything else."""
    match = _ORIGIN.fullmatch(value)
    if match is None:
        return None
    scheme, host, port = match.group(1).lower(), match.group(2).lower(), match.group(3)
    return scheme, host, int(port) if port else DEFAULT_PORTS[scheme]


def serialized_origin(origin: Origin) -> str:
    """``origin`` as a browser writes it in ``Origin``: lowercase, without its scheme's default
    port (``https://app.example.com``)."""
    scheme, host, port = origin
    return f"{scheme}://{host}" if port == DEFAULT_PORTS[scheme] else f"{scheme}://{host}:{port}"


@dataclass(frozen=True)
class AllowedOrigins:
    """A parsed ``ALLOWED_WS_ORIGINS``: ``*`` (any origin) or a set of origins."""

    any: bool
    origins: frozenset[Origin]

    def allow(self, origin: Origin) -> bool:
        """Whether ``origin`` is listed (or the list allows any)."""
        return self.any or origin in self.origins


@lru_cache(maxsize=16)
def allowed_origins(entries: tuple[str, ...]) -> AllowedOrigins:
    """``entries`` (``ALLOWED_WS_ORIGINS``) parsed once per distinct list, not per handshake.

    Entries that are not origins are skipped (the settings refuse them at start-up).
    """
    parsed = (parse_origin(entry) for entry in entries)
    return AllowedOrigins("*" in entries, frozenset(o for o in parsed if o is not None))
