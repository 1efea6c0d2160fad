"""A small framework for template migrations.

A :class:`Migration` belongs to the template version that introduces the change and runs in one
stage of ``copier update``:

- ``before``: before the new version is rendered. Only here may a migration rewrite answers
  (rename a question, change a value to a new choice), because the new render reads them.
- ``after``: after the update is applied, to move or fix files in the project.

Every migration must be idempotent: running it twice, or on a project that never needed it,
changes nothing the second time. Copier runs ``run.py`` for both stages on every update (but one
from a release to itself, for which :func:`pending` is always empty); :func:`pending` picks the
migrations between the two versions.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml
from packaging.version import InvalidVersion, Version

Stage = Literal["before", "after"]
ANSWERS_FILE = ".copier-answers.yml"


class MigrationError(RuntimeError):
    """A migration could not run, or broke the framework's rules."""


class Project:
    """The project being updated: its folder and, in the ``before`` stage, writable answers."""

    def __init__(self, root: Path, stage: Stage) -> None:
        self.root = root
        self.stage = stage
        self._answers_path = root / ANSWERS_FILE
        self._answers: dict[str, Any] = (
            yaml.safe_load(self._answers_path.read_text(encoding="utf-8")) or {}
            if self._answers_path.exists()
            else {}
        )
        self._answers_changed = False

    @property
    def answers(self) -> Mapping[str, Any]:
        """The recorded answers (read-only; change them with :meth:`set_answer`)."""
        return dict(self._answers)

    def set_answer(self, name: str, value: Any) -> None:
        """Set one answer; only allowed in the ``before`` stage."""
        self._require_before("set an answer")
        if self._answers.get(name, object()) != value:
            self._answers[name] = value
            self._answers_changed = True

    def rename_answer(self, old: str, new: str) -> None:
        """Move the answer ``old`` to ``new`` (nothing when ``old`` is absent)."""
        self._require_before("rename an answer")
        if old in self._answers:
            self._answers.setdefault(new, self._answers[old])
            del self._answers[old]
            self._answers_changed = True

    def _require_before(self, action: str) -> None:
        if self.stage != "before":
            raise MigrationError(f"cannot {action} in the {self.stage!r} stage: answers are final")

    def save(self) -> None:
        """Write the answers back when a migration changed them."""
        if self._answers_changed:
            header = "# Changes here will be overwritten by Copier; do not edit manually\n"
            body = yaml.safe_dump(self._answers, sort_keys=True, allow_unicode=True)
            self._answers_path.write_text(header + body, encoding="utf-8")
            self._answers_changed = False


@dataclass(frozen=True)
class Migration:
    """One change between template versions, applied by ``apply(project)``."""

    version: str
    """The template version that introduces the change, e.g. ``"0.4.0"``."""
    stage: Stage
    description: str
    apply: Callable[[Project], None]
    questions: frozenset[str] = field(default_factory=frozenset)
    """Questions of the previous release this migration takes care of (renamed, removed,
    changed type or choices); the migration lint checks that every such change has one."""

    def __post_init__(self) -> None:
        Version(self.version)  # a version that does not parse is a bug in the registry
        if self.stage not in ("before", "after"):
            raise ValueError(f"stage must be 'before' or 'after', not {self.stage!r}")


def is_release(version: Version) -> bool:
    """True for a plain release (``0.4.0``), false for what ``git describe`` gives a HEAD."""
    return not (version.is_devrelease or version.is_postrelease or version.local is not None)


def pending(
    migrations: Iterable[Migration], stage: Stage, version_from: str, version_to: str
) -> list[Migration]:
    """Migrations of ``stage`` newer than ``version_from`` and up to ``version_to``, in order.

    Updating to an untagged commit (``0.3.0.post2.dev0+g1a2b3c``) runs every migration newer than
    ``version_from``: the commit already carries their changes though no release names them yet.
    """
    try:
        start, end = Version(version_from), Version(version_to)
    except InvalidVersion as error:
        raise MigrationError(f"cannot compare template versions: {error}") from error
    chosen = [
        migration
        for migration in migrations
        if migration.stage == stage
        and Version(migration.version) > start
        and (Version(migration.version) <= end or not is_release(end))
    ]
    return sorted(chosen, key=lambda migration: Version(migration.version))


def run(
    migrations: Iterable[Migration],
    root: Path,
    stage: Stage,
    version_from: str,
    version_to: str,
    log: Callable[[str], None] = print,
) -> list[Migration]:
    """Apply the pending migrations to the project in ``root``; returns those applied."""
    chosen = pending(migrations, stage, version_from, version_to)
    project = Project(root, stage)
    for migration in chosen:
        log(f"migration {migration.version} ({stage}): {migration.description}")
        migration.apply(project)
    project.save()
    return chosen
