"""The ``handlers`` and ``new-handler`` commands."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from my_service import scaffold
from my_service.api.ws.constants import PkgID

import tests.ws_probe  # noqa: F401  (registers pkg_id 9001, which must count as taken)

PROJECT_ROOT = Path(__file__).resolve().parent.parent
PACKAGE = "my_service"


def run_cli(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", PACKAGE, *args],
        cwd=root,
        env={**os.environ, "PYTHONPATH": str(root)},
        capture_output=True,
        text=True,
    )


def test_handlers_lists_every_pkg_id_with_its_handler() -> None:
    result = run_cli(PROJECT_ROOT, "handlers")
    assert result.returncode == 0, result.stderr
    for member in PkgID:
        line = next(line for line in result.stdout.splitlines() if f" {member.name} " in line)
        assert line.split()[0] == str(member.value)
    assert "PkgIDs without a handler: none" in result.stdout


@pytest.mark.parametrize(
    ("name", "pkg_id", "reason"),
    [
        ("Bad-Name", 500, "snake_case"),
        ("class", 500, "snake_case"),
        ("ping", 500, "exists already"),
        ("fresh_name", int(PkgID.PING), "taken"),
        ("fresh_name", 9001, "taken by tests.ws_probe.failing"),
        ("fresh_name", -1, "negative"),
    ],
)
def test_new_handler_refuses_bad_requests_and_writes_nothing(
    name: str, pkg_id: int, reason: str
) -> None:
    handlers = PROJECT_ROOT / PACKAGE / "api" / "ws" / "handlers"
    before = sorted(handlers.iterdir())
    with pytest.raises(scaffold.ScaffoldError, match=reason):
        scaffold.new_handler(name, pkg_id)
    assert sorted(handlers.iterdir()) == before


def test_new_handler_scaffolds_a_working_handler(tmp_path: Path) -> None:
    copy = tmp_path / "project"
    shutil.copytree(PROJECT_ROOT / PACKAGE, copy / PACKAGE)
    created = run_cli(copy, "new-handler", "echo_back", "--pkg-id", "500")
    assert created.returncode == 0, created.stderr
    assert (copy / PACKAGE / "api" / "ws" / "handlers" / "echo_back.py").is_file()
    constants = Path(PACKAGE, "api", "ws", "constants.py")
    assert (copy / constants).read_text() == (PROJECT_ROOT / constants).read_text()
    listed = run_cli(copy, "handlers")
    assert "500  ECHO_BACK" in listed.stdout
    assert "handlers.echo_back.echo_back" in listed.stdout
    again = run_cli(copy, "new-handler", "echo_back", "--pkg-id", "501")
    assert again.returncode == 2
    assert "exists already" in again.stderr
