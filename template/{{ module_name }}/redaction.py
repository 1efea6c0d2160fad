"""Keep secrets out of what the service writes down: one set of rules for every record.

A value is masked when its key (a JSON key, a query parameter's name) names a secret, see
:class:`Redactor` for how keys match, and whatever its key, a bearer token or a JWT inside any
text is replaced (:func:`mask_tokens`). The log lines use the default words
(:data:`SECRET_WORDS`, :data:`SECRET_NAMES`); features that record requests start from them too.

A leaf module: it imports nothing of the package.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import unquote_plus

REDACTED = "[redacted]"
MAX_STRING = 512
MAX_ITEMS = 100
MAX_DEPTH = 8
WHOLE_WORD_LENGTH = 3
"""Sensitive words this short (``pin``, ``sid``) match whole words of a key only."""

SECRET_WORDS = (
    "password",
    "passwd",
    "passphrase",
    "pwd",
    "secret",
    "token",
    "jwt",
    "bearer",
    "authorization",
    "cookie",
    "session",
    "sid",
    "apikey",
    "accesskey",
    "key",
    "credential",
    "private",
    "signature",
    "sig",
    "otp",
    "pin",
    "cvv",
    "ssn",
)
"""Words that make a key sensitive (see :class:`Redactor`)."""

SECRET_NAMES = ("code", "state")
"""Keys sensitive only when named exactly so (an OAuth redirect's ``?code=...&state=...``)."""

_WORDS_OF_KEY = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|[0-9]+")
_TOKEN_IN_TEXT = re.compile(
    # A JWT (JWS: three base64url parts, JWE: five), its header always JSON, so "eyJ..."; or
    # whatever follows the word "Bearer".
    r"\beyJ[A-Za-z0-9_-]*(?:\.[A-Za-z0-9_-]*){2,4}|(?i:\bbearer\s+)[^\s\"',;]+"
)
_QUERY = re.compile(r"\?[^\s\"']*")


def mask_tokens(text: str) -> str:
    """``text`` with every JWT and every ``Bearer <credential>`` replaced by ``[redacted]``."""
    return _TOKEN_IN_TEXT.sub(REDACTED, text)


class Redactor:
    """Copies JSON-like values and query strings, masking every value whose key is sensitive.

    Keys match ignoring case and separators: with ``password`` in the words, ``Password``,
    ``new_password``, ``X-Password`` and ``newPassword`` are all masked, and ``apikey`` masks
    ``api_key`` and ``X-API-KEY``. A word of up to three letters (``pin``, ``key``, ``sid``) must
    be a whole word of the key, split at separators and at camel case, so ``pin`` masks ``pin``,
    ``card_pin`` and ``pinCode`` but not ``shipping``, and ``key`` masks ``api_key`` but not
    ``monkey``. ``names`` are keys masked only when they are exactly that. Values are masked
    whatever their type; token-like strings are masked under any key (:func:`mask_tokens`).
    """

    def __init__(
        self, sensitive_words: Iterable[str] = SECRET_WORDS, names: Iterable[str] = SECRET_NAMES
    ) -> None:
        words = {self._squash(word) for word in sensitive_words} - {""}
        self.short_words = frozenset(word for word in words if len(word) <= WHOLE_WORD_LENGTH)
        self.long_words = tuple(sorted(words - self.short_words))
        self.names = frozenset(self._squash(name) for name in names)

    @staticmethod
    def _squash(key: str) -> str:
        return "".join(character for character in key.lower() if character.isalnum())

    def is_sensitive(self, key: str) -> bool:
        """Whether values stored under ``key`` must not be recorded."""
        squashed = self._squash(key)
        if squashed in self.names or any(word in squashed for word in self.long_words):
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

    def redact_query(self, query: str) -> str:
        """``query`` (``?a=1&b=2``) with the values of sensitive parameters masked; names are
        percent-decoded first, so ``?%41uthorization=...`` is masked like ``?Authorization=``."""
        parts = []
        for part in query[1:].split("&"):
            name, equals, value = part.partition("=")
            if equals and value and self.is_sensitive(unquote_plus(name)):
                part = f"{name}={REDACTED}"
            parts.append(part)
        return "?" + "&".join(parts)

    def redact_text(self, text: str) -> str:
        """``text`` with tokens masked, and the sensitive query parameters of every URL in it."""
        if "?" in text:
            text = _QUERY.sub(lambda match: self.redact_query(match.group()), text)
        return mask_tokens(text)

    @staticmethod
    def _cut(text: str) -> str:
        return text[:MAX_STRING] + "..." if len(text) > MAX_STRING else text


default_redactor = Redactor()
"""The redactor of the log lines: :data:`SECRET_WORDS` and :data:`SECRET_NAMES`."""
