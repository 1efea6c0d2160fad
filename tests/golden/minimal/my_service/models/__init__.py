"""Table models. Every module in this package is imported by :func:`load_models`.

Add a model by adding a module to this package (``models/book.py``): Alembic's
autogenerate and the app see it without any other edit.
"""

from __future__ import annotations

import importlib
import pkgutil


def load_models() -> None:
    """Import every module of this package so each table registers with ``SQLModel.metadata``."""
    for module in pkgutil.iter_modules(__path__):
        importlib.import_module(f"{__name__}.{module.name}")
