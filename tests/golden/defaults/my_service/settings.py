"""Service configuration, read from the environment and ``.env``.

``app_settings`` is the object the rest of the code (and your own) imports. Importing it reads
nothing: the first attribute access loads :class:`Settings` from the environment, and the app's
start-up installs the settings it was created with, so tests can run an app against another
database by passing ``create_app(Settings(DATABASE_URL=...))`` without reloading any module.
"""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Any, Literal, cast

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///./my_service.db"

# Signature algorithms a token may use. Symmetric (HS*) and "none" are never accepted: the
# service only holds public keys, and accepting HS* would let a public key act as a shared secret.
ASYMMETRIC_ALGORITHMS = frozenset(
    {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}
)


class ConfigurationError(RuntimeError):
    """The settings cannot run the service in the chosen ``ENV``."""


class Settings(BaseSettings):
    """Every setting the service reads. Names are the environment variable names."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    ENV: Literal["dev", "staging", "production"] = "dev"
    DATABASE_URL: str = DEFAULT_DATABASE_URL
    DB_AUTO_MIGRATE: bool | None = Field(
        default=None,
        description="Apply migrations at start-up; None means: only for ENV=dev with SQLite.",
    )
    HEALTH_CHECK_TIMEOUT: float = Field(default=3.0, gt=0)
    HOST: str = "127.0.0.1"
    PORT: int = Field(default=8000, ge=0, le=65535)
    LOG_LEVEL: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = "INFO"
    SECRET_KEY: SecretStr = SecretStr("")

    # Authentication: bearer JWTs from an OIDC issuer (Keycloak or any other).
    AUTH_ISSUER: str | None = Field(default=None, description="`iss` every token must carry")
    AUTH_AUDIENCE: str | None = Field(default=None, description="`aud` every token must carry")
    AUTH_JWKS_URL: str | None = Field(
        default=None, description="JWKS endpoint; default: discovered from the issuer"
    )
    AUTH_CLIENT_ID: str | None = Field(
        default=None, description="Client whose roles (resource_access) count besides realm roles"
    )
    AUTH_ALGORITHMS: list[str] = Field(default_factory=lambda: ["RS256"])
    AUTH_LEEWAY_SECONDS: int = Field(default=10, ge=0, le=300)
    AUTH_DEV_KEYS_DIR: Path = Path(".dev-auth")

    # WebSocket endpoint /web.
    ALLOWED_WS_ORIGINS: list[str] = Field(default_factory=list)
    WS_AUTH_TIMEOUT: float = Field(default=5.0, gt=0)
    WS_QUERY_TOKEN_ENABLED: bool = False
    WS_MAX_MESSAGE_BYTES: int = Field(default=65536, ge=256)

    # Rate limiting: Redis when REDIS_URL is set, else an in-process backend (one process only).
    REDIS_URL: str | None = None
    REDIS_TIMEOUT: float = Field(default=0.5, gt=0, description="seconds per Redis command")
    REDIS_MAX_CONNECTIONS: int = Field(default=50, ge=1)
    RATE_LIMIT_ENABLED: bool = True
    RATE_LIMIT_PER_MINUTE: int = Field(default=60, ge=1)
    RATE_LIMIT_BURST: int = Field(
        default=10, ge=0, description="token-bucket size; 0: a strict sliding window instead"
    )
    RATE_LIMIT_FAIL_MODE: Literal["open", "closed"] = "open"
    RATE_LIMIT_EXCLUDED_PATHS: list[str] = Field(default_factory=lambda: ["/health"])
    TRUSTED_PROXIES: list[str] = Field(
        default_factory=list, description="proxy IPs/CIDRs whose X-Forwarded-For is believed"
    )
    WS_MAX_CONNECTIONS_PER_USER: int = Field(default=5, ge=1)
    WS_MESSAGE_RATE_LIMIT: int = Field(default=100, ge=1, description="messages per minute")
    WS_CONNECTION_TTL: float = Field(
        default=60.0, ge=1, description="seconds a connection counts without a heartbeat"
    )

    @field_validator(
        "AUTH_ISSUER",
        "AUTH_AUDIENCE",
        "AUTH_JWKS_URL",
        "AUTH_CLIENT_ID",
        "REDIS_URL",
        mode="before",
    )
    @classmethod
    def empty_means_unset(cls, value: Any) -> Any:
        """``AUTH_ISSUER=`` in ``.env`` means "not set", not "an issuer named ''" (same for all)."""
        if isinstance(value, str) and not value.strip():
            return None
        return value

    @field_validator("TRUSTED_PROXIES")
    @classmethod
    def proxies_are_networks(cls, proxies: list[str]) -> list[str]:
        for proxy in proxies:
            try:
                ipaddress.ip_network(proxy, strict=False)
            except ValueError as error:
                message = f"TRUSTED_PROXIES: {proxy!r} is not an IP address or CIDR"
                raise ValueError(message) from error
        return proxies

    @field_validator("AUTH_ALGORITHMS")
    @classmethod
    def only_asymmetric_algorithms(cls, algorithms: list[str]) -> list[str]:
        refused = sorted(set(algorithms) - ASYMMETRIC_ALGORITHMS)
        if refused or not algorithms:
            raise ValueError(
                f"AUTH_ALGORITHMS must name asymmetric algorithms only, refused: {refused}"
            )
        return algorithms

    @property
    def uses_dev_issuer(self) -> bool:
        """True when the service issues its own tokens (no AUTH_ISSUER, not production)."""
        return self.AUTH_ISSUER is None and self.ENV != "production"

    @property
    def uses_sqlite(self) -> bool:
        """True when ``DATABASE_URL`` points at SQLite (the embedded default)."""
        return self.DATABASE_URL.startswith("sqlite")

    @property
    def auto_migrate(self) -> bool:
        """Whether start-up applies pending migrations itself."""
        if self.DB_AUTO_MIGRATE is not None:
            return self.DB_AUTO_MIGRATE
        return self.ENV == "dev" and self.uses_sqlite

    def problems(self) -> list[str]:
        """What keeps these settings from running in their ``ENV`` (empty when they can)."""
        found = []
        if self.AUTH_ISSUER and not self.AUTH_AUDIENCE:
            found.append("AUTH_AUDIENCE must be set when AUTH_ISSUER is")
        if self.ENV != "production":
            return found
        if "DATABASE_URL" not in self.model_fields_set:
            found.append("DATABASE_URL must be set explicitly in production")
        elif self.uses_sqlite:
            found.append("DATABASE_URL must point at a database server in production, not SQLite")
        if len(self.SECRET_KEY.get_secret_value()) < 32:
            found.append("SECRET_KEY must be set to at least 32 characters in production")
        if self.auto_migrate:
            found.append("DB_AUTO_MIGRATE must be off in production: run `alembic upgrade head`")
        if not self.AUTH_ISSUER:
            found.append("AUTH_ISSUER must be set in production (the OIDC issuer URL)")
        return found

    def check(self) -> None:
        """Raise :class:`ConfigurationError` listing every problem, if there is any."""
        found = self.problems()
        if found:
            raise ConfigurationError(f"cannot start with ENV={self.ENV}: " + "; ".join(found))


_active: Settings | None = None


def get_settings() -> Settings:
    """The active settings, loaded from the environment on first use.

    Also usable as a FastAPI dependency: ``settings: Settings = Depends(get_settings)``.
    """
    global _active
    if _active is None:
        _active = Settings()
    return _active


def configure_settings(settings: Settings | None = None) -> Settings:
    """Make ``settings`` (or a fresh load of the environment) the active settings."""
    global _active
    _active = settings if settings is not None else Settings()
    return _active


class _ActiveSettings:
    """Reads every attribute from the active :class:`Settings`."""

    def __getattr__(self, name: str) -> Any:
        return getattr(get_settings(), name)

    def __repr__(self) -> str:
        return f"app_settings -> {get_settings()!r}"


# Typed as Settings for callers and type checkers; at run time a thin proxy to the active settings.
app_settings = cast(Settings, _ActiveSettings())
