"""Keep secrets out of the audit trail: the rules every record of the service follows.

They live in the package's :mod:`..redaction`; this module keeps the names the trail has
always imported. ``AUDIT_REDACTED_KEYS`` starts from the same words as the log lines.
"""

from __future__ import annotations

from ..redaction import (
    MAX_DEPTH,
    MAX_ITEMS,
    MAX_STRING,
    REDACTED,
    WHOLE_WORD_LENGTH,
    Redactor,
    mask_tokens,
)

__all__ = [
    "MAX_DEPTH",
    "MAX_ITEMS",
    "MAX_STRING",
    "REDACTED",
    "WHOLE_WORD_LENGTH",
    "Redactor",
    "mask_tokens",
]
