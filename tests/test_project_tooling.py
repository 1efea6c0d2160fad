"""The generated project's update tooling: make targets and pre-commit hooks."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import render
from tests.releases import GIT_IDENTITY, build_history, git


def make(
    project: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["make", "--no-print-directory", *args],
        cwd=project, env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name, value in GIT_IDENTITY.items():
        monkeypatch.setenv(name, value)
    rendered = render(tmp_path / "project")
    git(rendered, "add", "--all")
    git(rendered, "commit", "--quiet", "-m", "generate")
    return rendered


@pytest.mark.parametrize("include_docker", [True, False])
def test_make_alone_lists_every_target_with_its_description(
    tmp_path: Path, include_docker: bool
) -> None:
    project = render(tmp_path / "project", include_docker=include_docker)
    makefile = (project / "Makefile").read_text()
    targets = re.findall(r"^([a-z][a-z0-9-]*):", makefile, re.MULTILINE)
    result = make(project)
    assert result.returncode == 0, result.stderr
    listed = dict(line.strip().split(None, 1) for line in result.stdout.splitlines())
    assert list(listed) == targets
    assert ("docker-build" in listed) is include_docker
    assert "lint" in listed["check"]
    assert all(description.strip() for description in listed.values())


def test_template_conflicts_lists_markers_and_rej_files(project: Path) -> None:
    assert make(project, "template-conflicts").stdout.strip() == "No conflicts."
    settings = project / "my_service" / "settings.py"
    settings.write_text(
        settings.read_text() + "<<<<<<< before updating\nx = 1\n>>>>>>> after updating\n"
    )
    (project / "pyproject.toml.rej").write_text("@@ rejected hunk\n")
    result = make(project, "template-conflicts")
    assert result.returncode != 0
    assert "./my_service/settings.py" in result.stdout
    assert "./pyproject.toml.rej" in result.stdout


def test_template_update_refuses_a_dirty_work_tree(project: Path) -> None:
    (project / "scratch.txt").write_text("work in progress\n")
    result = make(project, "template-update", f"COPIER={sys.executable} -m copier")
    assert result.returncode != 0
    assert "commit or stash" in result.stderr
    assert git(project, "log", "--oneline").count("\n") == 1  # nothing was updated or committed


def test_template_check_sees_a_newer_release(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in GIT_IDENTITY.items():
        monkeypatch.setenv(name, value)
    template, _, upcoming = build_history(tmp_path / "template")
    project = tmp_path / "project"
    render(project, template=template, ref=f"v{upcoming}")
    git(project, "add", "--all")
    git(project, "commit", "--quiet", "-m", "generate")
    copier_cli = f"COPIER={sys.executable} -m copier"
    assert "up-to-date" in make(project, "template-check", copier_cli).stdout.lower()
    git(template, "commit", "--quiet", "--allow-empty", "-m", "a later release")
    git(template, "tag", "v99.0.0")
    result = make(project, "template-check", copier_cli)
    assert "99.0.0" in result.stdout + result.stderr


def test_pre_commit_hooks_refuse_update_leftovers(
    project: Path, project_env: dict[str, str], tmp_path: Path
) -> None:
    env = {**project_env, "PRE_COMMIT_HOME": str(tmp_path / "pre-commit-home")}
    hooks = [sys.executable, "-m", "pre_commit", "run", "--all-files"]
    clean = subprocess.run(hooks, cwd=project, env=env, capture_output=True, text=True)
    assert clean.returncode == 0, clean.stdout + clean.stderr
    (project / "notes.md").write_text("<<<<<<< before updating\nmine\n>>>>>>> after updating\n")
    (project / "pyproject.toml.rej").write_text("@@ rejected hunk\n")
    git(project, "add", "--all")
    dirty = subprocess.run(hooks, cwd=project, env=env, capture_output=True, text=True)
    assert dirty.returncode != 0
    assert "notes.md" in dirty.stdout
    assert "pyproject.toml.rej" in dirty.stdout
