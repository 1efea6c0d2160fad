"""HTTP routes. Every module here that defines ``router`` (an ``APIRouter``) is mounted by the app.

Add endpoints by adding a module (``api/http/books.py`` with
``router = APIRouter(prefix="/books")``): no other file needs to change.
"""

from __future__ import annotations

import importlib
import pkgutil

from fastapi import APIRouter


def discover_routers() -> list[APIRouter]:
    """The ``router`` of every module in this package, in module-name order."""
    found = []
    for module_info in sorted(pkgutil.iter_modules(__path__), key=lambda info: info.name):
        module = importlib.import_module(f"{__name__}.{module_info.name}")
        router = getattr(module, "router", None)
        if isinstance(router, APIRouter):
            found.append(router)
    return found
