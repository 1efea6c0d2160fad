"""Migration lint: a question that changed since the last release needs a migration.

A question of the last release that is gone, renamed, of another type, or lost a choice would
break ``copier update`` for projects answered with it. Each such question must be named in the
``questions`` of a migration newer than that release.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from packaging.version import Version

from extensions.migrations.framework import Migration


def questions(config: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    """The questions of a parsed copier.yml (settings start with ``_``)."""
    found: dict[str, Mapping[str, Any]] = {}
    for name, spec in config.items():
        if name.startswith("_"):
            continue
        found[name] = spec if isinstance(spec, Mapping) else {"default": spec}
    return found


def _choices(spec: Mapping[str, Any]) -> set[str]:
    choices = spec.get("choices") or []
    values = choices.values() if isinstance(choices, Mapping) else choices
    return {str(value) for value in values}


def breaking_changes(released: Mapping[str, Any], current: Mapping[str, Any]) -> dict[str, str]:
    """Questions of ``released`` that ``current`` breaks, each with what changed."""
    old, new = questions(released), questions(current)
    changes = {}
    for name, spec in old.items():
        if name not in new:
            changes[name] = "removed or renamed"
            continue
        old_type, new_type = spec.get("type", "str"), new[name].get("type", "str")
        if old_type != new_type:
            changes[name] = f"type changed from {old_type} to {new_type}"
        elif lost := _choices(spec) - _choices(new[name]):
            changes[name] = f"choices removed: {', '.join(sorted(lost))}"
    return changes


def unmigrated(
    released: Mapping[str, Any],
    current: Mapping[str, Any],
    released_version: str,
    migrations: Iterable[Migration],
) -> dict[str, str]:
    """Breaking changes that no migration newer than ``released_version`` takes care of."""
    covered = {
        name
        for migration in migrations
        if Version(migration.version) > Version(released_version)
        for name in migration.questions
    }
    return {
        name: change
        for name, change in breaking_changes(released, current).items()
        if name not in covered
    }
