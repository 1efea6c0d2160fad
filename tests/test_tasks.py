"""Copy-time tasks: a git repository and a private gitignored .env, never on update."""

from __future__ import annotations

import stat
import subprocess
from pathlib import Path

from tests.conftest import render


def git(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", *args], cwd=project, capture_output=True, text=True, check=False)


def test_copy_writes_a_private_gitignored_env_without_secrets(tmp_path: Path) -> None:
    project = render(tmp_path / "project")
    env_file = project / ".env"
    values = dict(
        line.split("=", 1)
        for line in env_file.read_text().splitlines()
        if line and not line.startswith("#")
    )
    assert values == {"ENV": "dev"}  # SECRET_KEY is gone: nothing read it
    assert stat.S_IMODE(env_file.stat().st_mode) == 0o600
    assert git(project, "check-ignore", "--quiet", ".env").returncode == 0
    assert "SECRET_KEY" not in (project / ".env.example").read_text()


def test_copy_initialises_git(tmp_path: Path) -> None:
    project = render(tmp_path / "project")
    assert (project / ".git").is_dir()
    assert git(project, "rev-parse", "--is-inside-work-tree").stdout.strip() == "true"


def test_copy_inside_an_existing_repository_does_not_nest_one(tmp_path: Path) -> None:
    subprocess.run(["git", "init", "--quiet", str(tmp_path)], check=True)
    project = render(tmp_path / "services" / "orders", project_name="Orders")
    assert not (project / ".git").exists()
    assert (project / ".env").is_file()


def test_existing_env_is_left_untouched(tmp_path: Path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    (project / ".env").write_text("SECRET_KEY=mine\n")
    render(project)
    assert (project / ".env").read_text() == "SECRET_KEY=mine\n"
