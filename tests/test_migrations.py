"""The migration framework, the registry's migrations, and the migration lint."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml
from packaging.version import Version

from extensions.migrations.framework import Migration, MigrationError, Project, pending, run
from extensions.migrations.lint import breaking_changes, unmigrated
from extensions.migrations.registry import MIGRATIONS
from tests.conftest import TEMPLATE_ROOT, render
from tests.releases import build_history, recorded_releases


def noop(project: Project) -> None:
    return None


def migration(version: str, stage: str = "before", **extra: object) -> Migration:
    return Migration(version, stage, f"migration {version}", noop, **extra)  # type: ignore[arg-type]


SAMPLE = [migration("0.5.0"), migration("0.3.0"), migration("0.4.0"), migration("0.4.0", "after")]


@pytest.mark.parametrize(
    ("version_from", "version_to", "expected"),
    [
        ("0.2.0", "0.4.0", ["0.3.0", "0.4.0"]),
        ("0.3.0", "0.3.0", []),
        ("0.4.0", "0.5.0", ["0.5.0"]),
        ("0.2.0", "0.3.0.post2.dev0+g1a2b3c", ["0.3.0", "0.4.0", "0.5.0"]),  # untagged HEAD
    ],
)
def test_pending_picks_the_migrations_between_the_versions_in_order(
    version_from: str, version_to: str, expected: list[str]
) -> None:
    chosen = pending(SAMPLE, "before", version_from, version_to)
    assert [m.version for m in chosen] == expected


def test_unparsable_versions_are_an_error() -> None:
    with pytest.raises(MigrationError, match="cannot compare"):
        pending(SAMPLE, "before", "main", "0.4.0")


def write_answers(root: Path, answers: dict[str, object]) -> None:
    (root / ".copier-answers.yml").write_text(yaml.safe_dump(answers))


def read_answers(root: Path) -> dict[str, object]:
    loaded: dict[str, object] = yaml.safe_load((root / ".copier-answers.yml").read_text())
    return loaded


def test_answers_change_only_in_the_before_stage(tmp_path: Path) -> None:
    write_answers(tmp_path, {"author_name": "Ada"})
    with pytest.raises(MigrationError, match="'after' stage"):
        Project(tmp_path, "after").set_answer("author_name", "Eve")
    with pytest.raises(MigrationError, match="'after' stage"):
        Project(tmp_path, "after").rename_answer("author_name", "maintainer")
    assert read_answers(tmp_path) == {"author_name": "Ada"}


def test_run_applies_renames_once(tmp_path: Path) -> None:
    write_answers(tmp_path, {"author_name": "Ada", "_commit": "v0.3.0"})

    def rename(project: Project) -> None:
        project.rename_answer("author_name", "maintainer_name")

    migrations = [Migration("0.4.0", "before", "rename author_name", rename)]
    applied = run(migrations, tmp_path, "before", "0.3.0", "0.4.0", log=lambda _: None)
    assert [m.version for m in applied] == ["0.4.0"]
    after_first = read_answers(tmp_path)
    assert after_first == {"maintainer_name": "Ada", "_commit": "v0.3.0"}
    run(migrations, tmp_path, "before", "0.3.0", "0.4.0", log=lambda _: None)
    assert read_answers(tmp_path) == after_first  # idempotent


@pytest.mark.parametrize("registered", MIGRATIONS, ids=lambda m: f"{m.version}-{m.stage}")
def test_every_registered_migration_is_idempotent(registered: Migration, tmp_path: Path) -> None:
    """Applied twice to a project of the release before it, the second run changes nothing."""
    older = [r for r in recorded_releases() if Version(r.version) < Version(registered.version)]
    clone, _, _ = build_history(tmp_path / "template")
    project = tmp_path / "project"
    render(project, template=clone, ref=older[-1].tag)

    def files() -> dict[Path, bytes]:
        return {
            p: p.read_bytes() for p in project.rglob("*") if p.is_file() and ".git" not in p.parts
        }

    first = Project(project, registered.stage)
    registered.apply(first)
    first.save()
    once = files()
    second = Project(project, registered.stage)
    registered.apply(second)
    second.save()
    assert files() == once


RELEASED = {
    "_subdirectory": "template",
    "name": {"type": "str"},
    "level": {"type": "str", "choices": ["a", "b"]},
}


@pytest.mark.parametrize(
    ("current", "problem"),
    [
        ({"title": {"type": "str"}, "level": RELEASED["level"]}, "removed or renamed"),
        ({"name": {"type": "int"}, "level": RELEASED["level"]}, "type changed"),
        (
            {"name": {"type": "str"}, "level": {"type": "str", "choices": ["a"]}},
            "choices removed: b",
        ),
    ],
)
def test_lint_finds_breaking_question_changes(current: dict[str, object], problem: str) -> None:
    changes = breaking_changes(RELEASED, current)
    assert len(changes) == 1
    assert problem in next(iter(changes.values()))
    (name,) = changes
    assert unmigrated(RELEASED, current, "0.3.0", []) == changes
    covering = Migration("0.4.0", "before", "fix it", noop, questions=frozenset({name}))
    assert unmigrated(RELEASED, current, "0.3.0", [covering]) == {}
    stale = Migration("0.3.0", "before", "too old", noop, questions=frozenset({name}))
    assert unmigrated(RELEASED, current, "0.3.0", [stale]) == changes


def test_adding_questions_and_choices_needs_no_migration() -> None:
    current = {
        "name": {"type": "str"},
        "level": {"type": "str", "choices": ["a", "b", "c"]},
        "new_option": {"type": "bool", "default": False},
    }
    assert breaking_changes(RELEASED, current) == {}


def test_questions_changed_since_the_last_release_have_migrations() -> None:
    """The lint itself: copier.yml at the last release against copier.yml now."""
    last = recorded_releases()[-1]
    released_text = subprocess.run(
        ["git", "show", f"{last.commit}:copier.yml"],
        cwd=TEMPLATE_ROOT, capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    released = yaml.safe_load(released_text)
    current = yaml.safe_load((TEMPLATE_ROOT / "copier.yml").read_text())
    problems = unmigrated(released, current, last.version, MIGRATIONS)
    assert problems == {}, (
        f"questions changed since {last.version} without a migration in "
        f"extensions/migrations/registry.py: {problems}"
    )
