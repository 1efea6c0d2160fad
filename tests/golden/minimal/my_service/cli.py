"""Command line: ``python -m my_service [command]``.

- ``serve`` (the default) checks the settings, then runs the app under uvicorn.
- ``token`` prints a token signed by the built-in dev issuer (dev and staging only).
- ``handlers`` lists the WebSocket package ids and the handler of each.
- ``new-handler`` writes a WebSocket handler module with its own package id.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

import uvicorn
from pydantic import ValidationError

from my_service import scaffold
from my_service.settings import ConfigurationError, Settings


def load_settings() -> Settings | None:
    """The settings, checked; ``None`` after printing why they cannot work."""
    try:
        settings = Settings()
        settings.check()
    except (ValidationError, ConfigurationError) as error:
        print(f"my_service: {error}", file=sys.stderr)
        return None
    return settings


def serve(args: argparse.Namespace) -> int:
    """Start the HTTP server; exit 2 with a message when the settings cannot work."""
    settings = load_settings()
    if settings is None:
        return 2
    uvicorn.run(
        "my_service:app",
        host=args.host or settings.HOST,
        port=args.port if args.port is not None else settings.PORT,
        log_level=settings.LOG_LEVEL.lower(),
        reload=args.reload,
        proxy_headers=False,  # X-Forwarded-For is judged by TRUSTED_PROXIES, in one place
    )
    return 0


def token(args: argparse.Namespace) -> int:
    """Print a dev-issuer token for ``--sub`` with the given ``--role``s."""
    from my_service.auth.dev_issuer import DevIssuer

    settings = load_settings()
    if settings is None:
        return 2
    if not settings.uses_dev_issuer:
        print(
            "token: only the built-in dev issuer mints tokens (no AUTH_ISSUER, ENV not "
            "production); get one from your issuer instead",
            file=sys.stderr,
        )
        return 2
    issuer = DevIssuer.load_or_create(settings.AUTH_DEV_KEYS_DIR, settings.AUTH_AUDIENCE)
    print(issuer.issue(args.sub, args.role, ttl=args.ttl, username=args.username))
    return 0


def handlers(_args: argparse.Namespace) -> int:
    """Print every package id with its handler and required roles."""
    print(scaffold.describe_handlers())
    return 0


def new_handler(args: argparse.Namespace) -> int:
    """Write a handler module answering a new package id."""
    try:
        created = scaffold.new_handler(args.name, args.pkg_id)
    except scaffold.ScaffoldError as error:
        print(f"my_service: {error}", file=sys.stderr)
        return 2
    print(f"wrote {created} answering pkg_id {args.pkg_id}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m my_service",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.set_defaults(handler=serve, host=None, port=None, reload=False)
    commands = parser.add_subparsers(title="commands")

    serve_parser = commands.add_parser("serve", help="run the service (default)")
    serve_parser.add_argument("--host", help="interface to bind (default: HOST)")
    serve_parser.add_argument("--port", type=int, help="port to bind (default: PORT)")
    serve_parser.add_argument("--reload", action="store_true", help="restart on code changes")
    serve_parser.set_defaults(handler=serve)

    token_parser = commands.add_parser("token", help="print a dev-issuer token")
    token_parser.add_argument("--sub", required=True, help="user id (the token's subject)")
    token_parser.add_argument("--role", action="append", default=[], help="a role; repeatable")
    token_parser.add_argument("--username", help="preferred_username (default: --sub)")
    token_parser.add_argument("--ttl", type=int, default=3600, help="lifetime in seconds")
    token_parser.set_defaults(handler=token)

    handlers_parser = commands.add_parser("handlers", help="list WebSocket handlers")
    handlers_parser.set_defaults(handler=handlers)

    new_parser = commands.add_parser("new-handler", help="scaffold a WebSocket handler")
    new_parser.add_argument("name", help="snake_case name, e.g. get_books")
    new_parser.add_argument("--pkg-id", type=int, required=True, help="its package id")
    new_parser.set_defaults(handler=new_handler)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``python -m my_service`` and the script."""
    args = build_parser().parse_args(argv)
    return int(args.handler(args))
