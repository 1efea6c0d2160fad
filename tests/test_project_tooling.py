"""The generated project's update tooling: make targets and pre-commit hooks."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import generated_module, render
from tests.releases import (
    GIT_IDENTITY,
    LATER,
    LATER_SECTION,
    git,
    later_release,
    project_on_newest_release,
)


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


@pytest.fixture
def released(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path, str]:
    """A template clone with its release history, and a project on its newest release."""
    for name, value in GIT_IDENTITY.items():
        monkeypatch.setenv(name, value)
    return project_on_newest_release(tmp_path)


def test_template_update_leaves_a_project_on_the_latest_release_alone(
    tmp_path: Path, released: tuple[Path, Path, str]
) -> None:
    _, project, upcoming = released
    calls = tmp_path / "copier-calls.log"
    copier_cli = tmp_path / "copier"  # Copier, noting each command it is given
    copier_cli.write_text(
        f'#!/bin/sh\necho "$1" >> {calls}\nexec {sys.executable} -m copier "$@"\n'
    )
    copier_cli.chmod(0o755)

    result = make(project, "template-update", f"COPIER={copier_cli}")
    assert result.returncode == 0, result.stderr
    assert f"on the latest template release, {upcoming}: no update." in result.stdout
    assert calls.read_text().split() == ["check-update"]  # no update ran, so no checks either
    assert git(project, "status", "--porcelain") == ""

    # What it skips changes nothing: Copier's own update of the project to its release.
    script = [sys.executable, "scripts/template_update.py", "update", "--force"]
    env = {**os.environ, "COPIER": str(copier_cli)}
    forced = subprocess.run(script, cwd=project, env=env, capture_output=True, text=True)
    assert forced.returncode == 0, forced.stderr
    assert calls.read_text().split() == ["check-update", "update"]
    assert git(project, "status", "--porcelain") == ""


def test_template_update_takes_a_newer_release_then_lists_conflicts_and_checks(
    released: tuple[Path, Path, str],
) -> None:
    template, project, _ = released
    later_release(template)
    copier_cli = f"COPIER={sys.executable} -m copier"
    # RUN=echo: `make check` prints the commands it would run instead of running the suite.
    result = make(project, "template-update", copier_cli, "RUN=echo")
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"_commit: v{LATER}" in (project / ".copier-answers.yml").read_text()
    assert "No conflicts." in result.stdout
    assert "ruff check ." in result.stdout  # then the project's checks


def test_template_check_reports_a_newer_release_without_failing(
    tmp_path: Path, released: tuple[Path, Path, str]
) -> None:
    template, project, upcoming = released
    copier_cli = f"COPIER={sys.executable} -m copier"
    summary = tmp_path / "summary.md"
    env = {**os.environ, "GITHUB_ACTIONS": "true", "GITHUB_STEP_SUMMARY": str(summary)}

    current = make(project, "template-check", copier_cli, env=env)
    assert current.returncode == 0, current.stderr
    assert f"on the latest template release, {upcoming}" in current.stdout
    assert "::warning" not in current.stdout

    later_release(template)
    behind = make(project, "template-check", copier_cli, env=env)
    assert behind.returncode == 0, behind.stderr  # a newer release is news, not a failure
    annotation = f"::warning title=Template update available::template {upcoming} -> {LATER}"
    assert annotation in behind.stdout.splitlines()
    written = summary.read_text(encoding="utf-8")
    assert f"Template release {LATER} is out; this project is on {upcoming}." in written
    assert f"### {LATER} - 2026-12-24" in written
    assert "#### Generated project" in written  # the section's headings sit below its own
    assert "- The drift check lists this entry." in written
    assert f"### {upcoming}" not in written  # only the releases after the project's

    gitlab = make(project, "template-check", copier_cli, "TEMPLATE_CHECK_ARGS=--outdated-status 3")
    assert gitlab.returncode != 0  # GitLab's job allows this status: a warning
    assert "The drift check lists this entry." in gitlab.stdout


def test_template_check_links_the_changelog_section_of_a_hosted_template(
    tmp_path: Path,
) -> None:
    project = render(tmp_path / "project", ci_provider="none")
    drift = generated_module(project, "template_update", "scripts")
    sections = drift.changelog_sections(LATER_SECTION + "## 0.1.0\n\nOld.\n", "0.1.0", LATER)
    assert [section.version for section in sections] == [LATER]
    text = drift.report(drift.Drift("0.1.0", LATER, True), "gh:acme/service-template", sections)
    link = f"https://github.com/acme/service-template/blob/v{LATER}/CHANGELOG.md#9900---2026-12-24"
    assert f"### [{LATER} - 2026-12-24]({link})" in text
    assert drift.version_key("0.11.0.post2.dev0+g1a2b3c") == (0, 11, 0)


def test_template_check_fails_when_the_template_cannot_be_reached(project: Path) -> None:
    answers = project / ".copier-answers.yml"
    text = answers.read_text(encoding="utf-8")
    answers.write_text(re.sub(r"_src_path: .*", "_src_path: /no/such/template", text))
    git(project, "commit", "--quiet", "--all", "-m", "template moved")
    result = make(project, "template-check", f"COPIER={sys.executable} -m copier")
    assert result.returncode != 0
    assert "template check:" in result.stderr


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
