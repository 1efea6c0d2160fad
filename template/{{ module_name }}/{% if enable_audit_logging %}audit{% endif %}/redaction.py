"""Keep secrets out of the audit trail: sensitive keys and token-like values are masked.

A value is masked when its key names a secret (see :class:`Redactor` for how keys match), and
whatever its key, a bearer token or a JWT inside any string is replaced. Long strings are cut and
big containers trimmed, so one request cannot fill the trail.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

REDACTED = "[redacted]"
MAX_STRING = 512
MAX_ITEMS = 100
MAX_DEPTH = 8
WHOLE_WORD_LENGTH = 3
"""Sensitive words this short (``pin``, ``sid``) match whole words of a key only."""

_WORDS_OF_KEY = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|[0-9]+")
_TOKEN_IN_TEXT = re.compile(
    # A JWT (JWS: three base64url parts, JWE: five), its header always JSON, so "eyJ..."; or
    # whatever follows the word "Bearer".
    r"\beyJ[A-Za-z0-9_-]*(?:\.[A-Za-z0-9_-]*){2,4}|(?i:\bbearer\s+)[^\s\"',;]+"
)


def mask_tokens(text: str) -> str:
    """``text`` with every JWT and every ``Bearer <credential>`` replaced by ``[redacted]``."""
    return _TOKEN_IN_TEXT.sub(REDACTED, text)


class Redactor:
    """Copies JSON-like values, masking every value whose key names a sensitive word.

    Keys match ignoring case and separators: with ``password`` in the list, ``Password``,
    ``new_password``, ``X-Password`` and ``newPassword`` are all masked, and ``api_key`` in the
    list masks ``apiKey`` and ``X-API-KEY``. A word of up to three letters (``pin``, ``sid``,
    ``otp``) must be a whole word of the key, split at separators and at camel case, so ``pin``
    masks ``pin``, ``card_pin`` and ``pinCode`` but not ``shipping``. Values are masked whatever
    their type; token-like strings are masked under any key (:func:`mask_tokens`).
    """

    def __init__(self, sensitive_words: Iterable[str]) -> None:
        words = {self._squash(word) for word in sensitive_words} - {""}
        self.short_words = frozenset(word for word in words if len(word) <= WHOLE_WORD_LENGTH)
        self.long_words = tuple(sorted(words - self.short_words))

    @staticmethod
    def _squash(key: str) -> str:
        return "".join(character for character in key.lower() if character.isalnum())

    def is_sensitive(self, key: str) -> bool:
        """Whether values stored under ``key`` must not be recorded."""
        squashed = self._squash(key)
        if any(word in squashed for word in self.long_words):
            return True
        if self.short_words:
            return any(word.lower() in self.short_words for word in _WORDS_OF_KEY.findall(key))
        return False

    def redact(self, value: Any, depth: int = 0) -> Any:
        """A copy of ``value`` safe to store: masked, strings cut, at most ``MAX_ITEMS`` items."""
        if depth >= MAX_DEPTH:
            return REDACTED
        if isinstance(value, dict):
            return {
                self._cut(str(key)): (
                    REDACTED if self.is_sensitive(str(key)) else self.redact(item, depth + 1)
                )
                for key, item in list(value.items())[:MAX_ITEMS]
            }
        if isinstance(value, list | tuple):
            return [self.redact(item, depth + 1) for item in value[:MAX_ITEMS]]
        if isinstance(value, str):
            return self._cut(mask_tokens(value))
        if value is None or isinstance(value, bool | int | float):
            return value
        return self.redact(str(value), depth + 1)

    @staticmethod
    def _cut(text: str) -> str:
        return text[:MAX_STRING] + "..." if len(text) > MAX_STRING else text
