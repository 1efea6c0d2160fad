"""`copier update` from every recorded release to the working tree keeps the user's work.

The working tree is committed in a clone of the template and tagged as the next version, so the
update is a real one between two PEP 440 versions and migrations run as they will for users.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import TEMPLATE_ROOT, Lint, render, run, run_project_tests, update
from tests.releases import GIT_IDENTITY, Release, build_history, git, recorded_releases

# Answers the project is generated with and, for questions an older release did not ask yet,
# given again to the update (as a user turning an option on would).
PROFILES: dict[str, dict[str, Any]] = {
    "defaults": {},
    "all-on": {
        "include_example": True,
        "python_version": "3.13",
        "ci_provider": "gitlab",
        "enable_audit_logging": True,
        "include_monitoring": True,
        "include_docker": True,
    },
}
USER_OWNED = {"README.md", "my_service/about.py"}
RELEASES = recorded_releases()


def changed_since(release: Release) -> bool:
    """Whether the working tree's template (files, questions, extensions) differs from
    ``release``'s: right after a release is cut, the newest release is the working tree."""
    paths = ["template", "extensions", "copier.yml"]
    command = ["git", "diff", "--quiet", release.commit, "--", *paths]
    return subprocess.run(command, cwd=TEMPLATE_ROOT, check=False).returncode != 0


# The release the working tree changes most projects from: the newest one it differs from.
PREVIOUS = next((r for r in reversed(RELEASES) if changed_since(r)), RELEASES[-1])
MERGE_CHECKS = (
    "tests/test_books.py",
    "tests/test_health.py",
    "tests/test_migrations.py",
    "tests/test_settings.py",
)
EDIT_CHECKS = (
    *MERGE_CHECKS,
    "tests/test_cli.py",
    "tests/test_openapi.py",
    "tests/test_structure.py",
    "tests/test_ws.py",
)
"""The merge checks and the generated tests that read everything the user's edits add: every
route (the OpenAPI document), every package id and handler (the CLI, the WebSocket router) and
every import (the layers)."""
CONFLICT = ("<<<<<<< ", ">>>>>>> ")


@pytest.fixture(scope="session")
def history(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """The template clone with every release tagged, and the tag of the working tree."""
    clone, _, upcoming = build_history(tmp_path_factory.mktemp("history") / "template")
    return clone, f"v{upcoming}"


@pytest.fixture(autouse=True)
def git_identity(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in GIT_IDENTITY.items():
        monkeypatch.setenv(name, value)


def copy(template: Path, destination: Path, ref: str, answers: dict[str, Any]) -> Path:
    render(destination, template=template, ref=ref, **answers)
    commit(destination, f"generate at {ref}")
    return destination


def commit(project: Path, message: str) -> None:
    git(project, "add", "--all")
    git(project, "commit", "--quiet", "--allow-empty", "-m", message)


def snapshot(project: Path) -> dict[str, str]:
    """Tracked and untracked files (not ignored ones), minus what updates leave to the user."""
    files = {}
    for name in git(project, "ls-files", "--cached", "--others", "--exclude-standard", "-z").split(
        "\0"
    ):
        if not name or name in USER_OWNED or not (project / name).is_file():
            continue
        text = (project / name).read_text(encoding="utf-8")
        if name == ".copier-answers.yml":
            text = "\n".join(line for line in text.splitlines() if not line.startswith("_commit"))
        files[name] = text
    return files


def leftovers(project: Path) -> list[str]:
    """Files holding conflict markers, and *.rej files."""
    found = []
    for path in project.rglob("*"):
        if ".git" in path.parts or not path.is_file():
            continue
        if path.suffix == ".rej" or any(
            line.startswith(CONFLICT) for line in path.read_text(errors="ignore").splitlines()
        ):
            found.append(str(path.relative_to(project)))
    return found


@pytest.fixture(scope="session")
def fresh_copy(
    history: tuple[Path, str], tmp_path_factory: pytest.TempPathFactory
) -> Callable[[str], dict[str, str]]:
    """``fresh_copy(profile)``: the snapshot of a new project at the working tree, made once."""
    template, head = history
    made: dict[str, dict[str, str]] = {}

    def get(profile: str) -> dict[str, str]:
        if profile not in made:
            folder = tmp_path_factory.mktemp(f"fresh-{profile}") / "project"
            made[profile] = snapshot(copy(template, folder, head, PROFILES[profile]))
        return made[profile]

    return get


def suite_after_update(release: Release, profile: str = "all-on") -> tuple[str, ...] | None:
    """What of the generated suite runs after an update with user work from ``release``.

    Every update ends in the same template code; what differs is the three-way merge that got
    there. An untouched project updates to exactly a fresh copy, whose whole suite the matrix
    runs, so after an update with user work only the tests that the edits can reach add
    information. The previous release's update (the one most projects make) runs those with every
    option on (``EDIT_CHECKS``, and the project is linted and type-checked), and the merge checks
    otherwise; the oldest release's update, the longest merge, runs the merge checks: the user's
    test and the tests that import every module, start the app and walk the migrations
    (``MERGE_CHECKS``). Updates from the releases in between keep the cheap checks: the update
    succeeds, every edit survives, nothing is left in conflict, and an untouched project equals a
    fresh copy (``None``).
    """
    if release == PREVIOUS:
        return EDIT_CHECKS if profile == "all-on" else MERGE_CHECKS
    if release == RELEASES[0]:
        return MERGE_CHECKS
    return None


@pytest.mark.parametrize("profile", PROFILES)
@pytest.mark.parametrize("release", RELEASES, ids=lambda r: r.tag)
def test_untouched_project_updates_to_what_a_fresh_copy_gives(
    history: tuple[Path, str],
    fresh_copy: Callable[[str], dict[str, str]],
    tmp_path: Path,
    release: Release,
    profile: str,
) -> None:
    template, head = history
    project = copy(template, tmp_path / "project", release.tag, PROFILES[profile])
    update(project, head, data=PROFILES[profile])
    assert snapshot(project) == fresh_copy(profile)
    assert leftovers(project) == []
    if suite_after_update(release) is not None:
        commit(project, "update")
        update(project, head)  # a second update changes nothing
        assert git(project, "status", "--porcelain") == ""


def add_user_code(project: Path, example: bool) -> dict[str, str]:
    """Edits a user makes in the extension points, a user-owned file and a template-owned line.
    Returns each edited file with a line the update must keep."""
    package = project / "my_service"
    (package / "models" / "book.py").write_text(BOOK_MODEL)
    (package / "api" / "http" / "books.py").write_text(BOOK_ROUTES)
    revision = BOOK_REVISION.replace("{down}", "0002" if example else "0001")
    (package / "migrations" / "versions" / "0003_books.py").write_text(revision)
    (project / "tests" / "test_books.py").write_text(BOOK_TEST)
    kept = {
        "my_service/models/book.py": "class Book(CRUDModel, table=True):",
        "my_service/api/http/books.py": 'router = APIRouter(prefix="/books"',
        "my_service/migrations/versions/0003_books.py": 'revision: str = "0003"',
        "tests/test_books.py": "async def test_books_start_empty",
    }
    if (package / "api" / "ws" / "handlers").is_dir():
        (package / "api" / "ws" / "handlers" / "books.py").write_text(BOOK_HANDLER)
        kept["my_service/api/ws/handlers/books.py"] = "COUNT_BOOKS = 300"
    readme = project / "README.md"
    readme.write_text(
        readme.read_text() + "\nTeam notes: deploys go through the staging cluster.\n"
    )
    kept["README.md"] = "Team notes: deploys go through the staging cluster."
    settings = project / "my_service" / "settings.py"
    original = "HEALTH_CHECK_TIMEOUT: float = Field(default=3.0, gt=0)"
    assert original in settings.read_text()
    settings.write_text(settings.read_text().replace(original, original.replace("3.0", "4.0")))
    kept["my_service/settings.py"] = "HEALTH_CHECK_TIMEOUT: float = Field(default=4.0, gt=0)"
    return kept


def cost_of_update(release: Release, profile: str) -> pytest.MarkDecorator:
    """The ``cost`` of an update with user work: the edit checks, the merge checks, or neither."""
    selection = suite_after_update(release, profile)
    return pytest.mark.cost(1 if selection is None else 3 if selection == EDIT_CHECKS else 2)


@pytest.mark.parametrize(
    ("release", "profile"),
    [
        pytest.param(
            release, profile, id=f"{release.tag}-{profile}", marks=cost_of_update(release, profile)
        )
        for release in RELEASES
        for profile in PROFILES
    ],
)
def test_update_keeps_user_work_and_the_project_passes_its_tests(
    history: tuple[Path, str],
    tmp_path: Path,
    project_env: dict[str, str],
    lint: Lint,
    release: Release,
    profile: str,
) -> None:
    template, head = history
    answers = PROFILES[profile]
    project = copy(template, tmp_path / "project", release.tag, answers)
    kept = add_user_code(project, example=answers.get("include_example", True))
    commit(project, "user work")
    update(project, head, data=answers)
    for name, line in kept.items():
        assert line in (project / name).read_text(), f"{name} lost the user's edit"
    assert leftovers(project) == []
    merge_migration_heads(project, project_env)
    selection = suite_after_update(release, profile)
    if selection == EDIT_CHECKS:
        lint(project, project_env)
    if selection is not None:
        run_project_tests(project, project_env, tmp_path / "pytest", "-x", *selection)


def merge_migration_heads(project: Path, env: dict[str, str]) -> None:
    """What docs/updating.md asks after an update: join the user's and the template's branches.

    The user's own revision and a revision an option brings (``audit_0001``) may both follow the
    template's last revision; Alembic then has two heads until a merge revision joins them.
    """
    alembic = [sys.executable, "-m", "alembic"]
    heads = run([*alembic, "heads"], cwd=project, env=env).stdout.split()
    if len([word for word in heads if word == "(head)"]) > 1:
        run([*alembic, "merge", "heads", "-m", "merge template revisions"], cwd=project, env=env)


def test_edit_on_the_same_lines_as_the_template_shows_conflict_markers(
    history: tuple[Path, str], tmp_path: Path
) -> None:
    template, head = history
    project = copy(template, tmp_path / "project", RELEASES[0].tag, {})
    pyproject = project / "pyproject.toml"
    pinned = pyproject.read_text().replace('"fastapi>=0.115",', '"fastapi>=0.115,<1",')
    pyproject.write_text(pinned)
    commit(project, "pin fastapi")
    update(project, head)
    text = pyproject.read_text()
    assert leftovers(project) == ["pyproject.toml"]
    assert '"fastapi>=0.115,<1",' in text  # the user's line is kept inside the markers
    assert '"httpx>=0.27",' in text  # and so is the template's


def test_bad_answer_during_update_changes_nothing(
    history: tuple[Path, str], tmp_path: Path
) -> None:
    template, head = history
    project = copy(template, tmp_path / "project", RELEASES[0].tag, {})
    before = git(project, "rev-parse", "HEAD")
    with pytest.raises(ValueError, match="would shadow the standard library"):
        update(project, head, data={"module_name": "json"})
    assert git(project, "status", "--porcelain") == ""
    assert git(project, "rev-parse", "HEAD") == before


BOOK_MODEL = '''"""A model of the user's own, in the models extension point."""

from __future__ import annotations

from typing import ClassVar

from sqlmodel import Field

from my_service.models.base import CRUDModel


class Book(CRUDModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    title: str = Field(max_length=200)

    updatable_fields: ClassVar[frozenset[str]] = frozenset({"title"})
'''

BOOK_REVISION = '''"""Create the book table.

Revision ID: 0003
Revises: {down}
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "{down}"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "book",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("title", sa.String(length=200), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("book")
'''

BOOK_ROUTES = '''"""Routes of the user's own, in the HTTP extension point."""

from __future__ import annotations

from fastapi import APIRouter

from my_service.models.book import Book
from my_service.storage.db import async_session

router = APIRouter(prefix="/books", tags=["books"])


@router.get("")
async def list_books() -> list[dict[str, object]]:
    async with async_session() as session:
        books = await Book.get_list(session)
    return [{"id": book.id, "title": book.title} for book in books]
'''

BOOK_HANDLER = '''"""A WebSocket handler of the user's own, with its own package id."""

from __future__ import annotations

from my_service.models.book import Book
from my_service.routing import pkg_router
from my_service.schemas.request import RequestModel
from my_service.schemas.response import ResponseModel
from my_service.storage.db import async_session

COUNT_BOOKS = 300


@pkg_router.register(COUNT_BOOKS)
async def count_books(request: RequestModel) -> ResponseModel:
    async with async_session() as session:
        total = await Book.count(session)
    return ResponseModel.ok_msg(request.pkg_id, request.req_id, data={"total": total})
'''

BOOK_TEST = '''"""The user's own test."""

import httpx


async def test_books_start_empty(client: httpx.AsyncClient) -> None:
    response = await client.get("/books")
    assert response.status_code == 200
    assert response.json() == []
'''


RENAME_MIGRATION = """
from extensions.migrations.framework import Migration, Project


def rename(project: Project) -> None:
    project.rename_answer("author_name", "maintainer_name")


MIGRATIONS = [
    Migration(
        "{version}", "before", "author_name is now maintainer_name", rename,
        questions=frozenset({{"author_name"}}),
    )
]
"""


def later_release_version(upcoming: str) -> str:
    """The minor release after ``upcoming``."""
    major, minor, _ = (int(part) for part in upcoming.split("."))
    return f"{major}.{minor + 1}.0"


def later_release(template: Path, upcoming: str, tag: bool = True) -> str:
    """Commit the clone's pending edits as the release after ``upcoming``; returns its ref."""
    later = f"v{later_release_version(upcoming)}"
    git(template, "add", "--all")
    git(template, "commit", "--quiet", "-m", f"changes for {later}")
    if tag:
        git(template, "tag", later)
        return later
    return "HEAD"


@pytest.mark.parametrize("target", ["tagged", "untagged"])
def test_migration_rewrites_answers_before_the_new_render(tmp_path: Path, target: str) -> None:
    """A later release renames a question; its migration carries the old answer over."""
    template, _, upcoming = build_history(tmp_path / "template")
    project = copy(template, tmp_path / "project", f"v{upcoming}", {"author_name": "Grace Hopper"})
    config = (template / "copier.yml").read_text().replace("\nauthor_name:", "\nmaintainer_name:")
    config = config.replace("not author_name.strip()", "not maintainer_name.strip()")
    config = config.replace("author_name must not be empty", "maintainer_name must not be empty")
    (template / "copier.yml").write_text(config)
    pyproject = template / "template" / "pyproject.toml.jinja"
    pyproject.write_text(
        pyproject.read_text().replace("author_name | quoted", "maintainer_name | quoted")
    )
    registry = template / "extensions" / "migrations" / "registry.py"
    registry.write_text(RENAME_MIGRATION.format(version=later_release_version(upcoming)))
    update(project, later_release(template, upcoming, tag=target == "tagged"))
    answers = (project / ".copier-answers.yml").read_text()
    assert "maintainer_name: Grace Hopper" in answers
    assert "author_name" not in answers
    assert 'name = "Grace Hopper"' in (project / "pyproject.toml").read_text()


def test_alembic_revisions_are_never_rewritten_on_update(tmp_path: Path) -> None:
    """A release that changes a template revision file leaves the project's copy alone."""
    template, _, upcoming = build_history(tmp_path / "template")
    project = copy(template, tmp_path / "project", f"v{upcoming}", {})
    revision = Path("my_service", "migrations", "versions", "0001_initial.py")
    before = (project / revision).read_text()
    template_dir = template / "template" / "{{ module_name }}"
    initial = template_dir / "migrations" / "versions" / "0001_initial.py"
    initial.write_text(initial.read_text().replace('"""Initial revision', '"""Changed revision'))
    redis_module = template_dir / "storage" / "redis.py"
    redis_module.write_text(
        redis_module.read_text().replace('"""The Redis client', '"""The changed Redis client')
    )
    update(project, later_release(template, upcoming))
    assert (project / revision).read_text() == before
    changed = (project / "my_service" / "storage" / "redis.py").read_text()
    assert changed.startswith('"""The changed Redis client')


def test_an_option_turned_on_by_an_update_brings_its_revision(tmp_path: Path) -> None:
    """The project's revisions stay as they are; the audit option's own revision is added."""
    template, _, upcoming = build_history(tmp_path / "template")
    project = copy(template, tmp_path / "project", f"v{upcoming}", {})
    versions = project / "my_service" / "migrations" / "versions"
    initial = versions / "0001_initial.py"
    initial.write_text(initial.read_text() + "# squashed by us\n")
    commit(project, "edit a revision")
    update(project, f"v{upcoming}", data={"enable_audit_logging": True})
    assert initial.read_text().endswith("# squashed by us\n")
    assert (versions / "audit_0001_user_actions.py").is_file()
    assert (project / "my_service" / "audit" / "writer.py").is_file()


def readme_command(marker: str) -> str:
    """The fenced command after ``<!-- marker -->`` in the template's README.md."""
    lines = (TEMPLATE_ROOT / "README.md").read_text(encoding="utf-8").splitlines()
    start = lines.index(f"<!-- {marker} -->")
    assert lines[start + 1].startswith("```")
    return lines[start + 2]


def test_a_project_made_the_readme_way_updates_from_inside(tmp_path: Path) -> None:
    """README's own copy command, run as written from a clone, then ``copier update`` in the
    project: the recorded template source still resolves from there."""
    template, _, upcoming = build_history(tmp_path / "clone")
    clauses = readme_command("start-command").split(" && ")
    copy_clause = next(clause for clause in clauses if clause.startswith("copier copy "))
    assert "../my-service" in copy_clause
    tools = {"PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    run(["bash", "-c", copy_clause], cwd=template, env={**os.environ, **tools})
    project = tmp_path / "my-service"
    commit(project, "generate the README way")
    page = template / "template" / "docs" / "configuration.md.jinja"
    page.write_text(page.read_text() + "\nA line of a later release.\n")
    later = later_release(template, upcoming)

    elsewhere = tmp_path / "elsewhere"  # the user's shell is anywhere but the template clone
    elsewhere.mkdir()
    command = [sys.executable, "-m", "copier", "update", "--trust", "--defaults", str(project)]
    run(command, cwd=elsewhere, env={**os.environ, **tools})
    assert (
        (project / "docs" / "configuration.md").read_text().endswith("A line of a later release.\n")
    )
    answers = (project / ".copier-answers.yml").read_text()
    assert f"_commit: {later}" in answers


def test_an_edit_to_code_this_release_moved_shows_as_a_conflict(
    history: tuple[Path, str], tmp_path: Path
) -> None:
    """A user who added a package id to ``PkgID`` (older docs said to) gets conflict markers in
    ``api/ws/constants.py``, which now re-exports ``protocol.py``: the edit is shown, never lost."""
    template, head = history
    before_the_move = next(release for release in RELEASES if release.version == "0.6.0")
    project = copy(template, tmp_path / "project", before_the_move.tag, {})
    constants = project / "my_service" / "api" / "ws" / "constants.py"
    text = constants.read_text()
    assert "    PING = 100\n" in text
    constants.write_text(text.replace("    PING = 100\n", "    PING = 100\n    GET_BOOKS = 10\n"))
    commit(project, "a package id of our own")
    update(project, head)
    assert leftovers(project) == ["my_service/api/ws/constants.py"]
    merged = constants.read_text()
    assert "    GET_BOOKS = 10\n" in merged  # the user's line, inside the markers
    assert "from ...protocol import" in merged  # and the template's new content
