"""The service's logger: ``from my_service.logging import logger``."""

from __future__ import annotations

import logging
import re

logger = logging.getLogger("my_service")

_FORMAT = "%(asctime)s %(levelname)-8s %(name)s: %(message)s"
_TOKEN_IN_URL = re.compile(r"(?i)(authorization|access_token|token)=[^&\s\"']+")


class RedactTokens(logging.Filter):
    """Masks tokens passed in query strings (``?Authorization=...``) before a record is written."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = _TOKEN_IN_URL.sub(r"\1=[redacted]", message)
        if redacted != message:
            record.msg, record.args = redacted, None
        return True


def configure_logging(level: str) -> None:
    """Send the service's log records to stderr at ``level``; safe to call more than once.

    Also keeps tokens out of uvicorn's connection and access logs.
    """
    logger.setLevel(level)
    if not logger.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter(_FORMAT))
        logger.addHandler(handler)
        logger.propagate = False
    for name in ("uvicorn.error", "uvicorn.access"):
        uvicorn_logger = logging.getLogger(name)
        if not any(isinstance(f, RedactTokens) for f in uvicorn_logger.filters):
            uvicorn_logger.addFilter(RedactTokens())
