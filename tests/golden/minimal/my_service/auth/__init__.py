"""Authentication (bearer JWTs checked against an issuer's JWKS) and role checks."""
