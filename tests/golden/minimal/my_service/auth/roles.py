"""Role names the service checks. Grant them in your issuer (Keycloak: realm or client roles)."""

EDITOR = "editor"
"""May create and change resources."""

ADMIN = "admin"
"""May delete resources."""
