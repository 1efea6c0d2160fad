"""Keep secrets out of the audit trail: values under sensitive keys are replaced, long ones cut."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

REDACTED = "[redacted]"
MAX_STRING = 512
MAX_DEPTH = 8


class Redactor:
    """Copies JSON-like values, masking every value whose key contains a sensitive word.

    Matching ignores case, ``-`` and ``_``: with ``password`` in the list, ``Password``,
    ``new_password`` and ``X-Password`` are all masked, whatever their value's type.
    """

    def __init__(self, sensitive_words: Iterable[str]) -> None:
        self.words = tuple(self._normal(word) for word in sensitive_words if word.strip())

    @staticmethod
    def _normal(key: str) -> str:
        return key.lower().replace("-", "").replace("_", "")

    def is_sensitive(self, key: str) -> bool:
        """Whether values stored under ``key`` must not be recorded."""
        normal = self._normal(key)
        return any(word in normal for word in self.words)

    def redact(self, value: Any, depth: int = 0) -> Any:
        """A copy of ``value`` safe to store: masked, with strings cut to ``MAX_STRING`` chars."""
        if depth >= MAX_DEPTH:
            return REDACTED
        if isinstance(value, dict):
            return {
                str(key): REDACTED if self.is_sensitive(str(key)) else self.redact(item, depth + 1)
                for key, item in value.items()
            }
        if isinstance(value, list | tuple):
            return [self.redact(item, depth + 1) for item in value]
        if isinstance(value, str) and len(value) > MAX_STRING:
            return value[:MAX_STRING] + "..."
        if value is None or isinstance(value, bool | int | float | str):
            return value
        return self.redact(str(value), depth + 1)
