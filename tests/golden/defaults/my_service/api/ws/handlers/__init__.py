"""WebSocket handlers. Every module in this package is imported at start-up by
:func:`load_handlers`, so a handler registered with ``@pkg_router.register`` in a new module here
is live without any other edit (``python -m <module> new-handler`` writes one for you).
"""

from __future__ import annotations

import importlib
import pkgutil


def load_handlers() -> None:
    """Import every handler module so its ``@pkg_router.register`` decorators run."""
    for module in pkgutil.iter_modules(__path__):
        importlib.import_module(f"{__name__}.{module.name}")
