"""Which topics exist for subscribers, and which roles may subscribe to them.

Declare a topic next to the code that publishes to it, in any module that is imported at start-up
(a handler module, for instance)::

    topic_registry.register("news")                          # any authenticated user
    topic_registry.register("orders:*", roles=["support"])   # every topic starting "orders:"

A ``*`` matches any run of characters. A topic nobody declared cannot be subscribed to (the
server may still publish to it); when several patterns match, the subscriber needs the roles of
each of them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from enum import Enum

from ..auth.user import User

TOPIC_NAME = re.compile(r"[A-Za-z0-9_.:@-]{1,128}")
"""What a topic name may hold: letters, digits and ``_ . : @ -``, at most 128 characters."""


def valid_topic(topic: str) -> bool:
    """True when ``topic`` is a well-formed topic name."""
    return TOPIC_NAME.fullmatch(topic) is not None


class Access(Enum):
    """May a user subscribe to a topic?"""

    ALLOWED = "allowed"
    UNKNOWN = "unknown"
    """No declared pattern matches the topic (or its name is malformed)."""
    FORBIDDEN = "forbidden"
    """A pattern matches, but the user lacks one of its roles."""


@dataclass(frozen=True)
class TopicRule:
    """One declared pattern and the roles a subscriber must hold (all of them)."""

    pattern: str
    roles: frozenset[str]
    matcher: re.Pattern[str]


class TopicRegistry:
    """Declared topic patterns; ``check`` answers whether a user may subscribe."""

    def __init__(self) -> None:
        self._rules: dict[str, TopicRule] = {}

    @property
    def rules(self) -> tuple[TopicRule, ...]:
        """The declared rules, in declaration order."""
        return tuple(self._rules.values())

    def register(self, pattern: str, *, roles: Iterable[str] = ()) -> None:
        """Let users holding every role in ``roles`` subscribe to topics matching ``pattern``."""
        if not valid_topic(pattern.replace("*", "x")):
            raise ValueError(f"not a topic pattern: {pattern!r}")
        if pattern in self._rules:
            raise ValueError(f"topic pattern {pattern!r} is declared already")
        matcher = re.compile(".*".join(re.escape(part) for part in pattern.split("*")))
        self._rules[pattern] = TopicRule(pattern, frozenset(roles), matcher)

    def rules_for(self, topic: str) -> list[TopicRule]:
        """The rules matching ``topic`` (none for a malformed name)."""
        if not valid_topic(topic):
            return []
        return [rule for rule in self._rules.values() if rule.matcher.fullmatch(topic)]

    def check(self, topic: str, user: User) -> Access:
        """May ``user`` subscribe to ``topic``? Only with the roles of every matching rule."""
        rules = self.rules_for(topic)
        if not rules:
            return Access.UNKNOWN
        allowed = all(user.has_roles(rule.roles) for rule in rules)
        return Access.ALLOWED if allowed else Access.FORBIDDEN


topic_registry = TopicRegistry()
"""The registry every module declares its topics with."""
