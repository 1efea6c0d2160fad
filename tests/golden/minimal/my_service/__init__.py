"""My Service.

The ASGI application is ``my_service:app``, created on first access so
that importing the package stays cheap. Build your own instance with
``my_service.factory.create_app(settings)``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from fastapi import FastAPI

    app: FastAPI


def __getattr__(name: str) -> Any:
    if name == "app":
        from my_service.main import app

        return app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
