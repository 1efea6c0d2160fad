"""Every option combination of the all-pairs set renders clean: no leftovers, lint, format, types.

The generated test suites run on the main profiles (test_render.py) and after every update
(test_update.py); here every combination gets the static checks.
"""

from __future__ import annotations

import itertools
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import render, run
from tests.matrix import Combination, combinations, label, options, pairs_of
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


@pytest.mark.parametrize("combination", COMBINATIONS, ids=label)
def test_combination_renders_clean(
    tmp_path: Path,
    project_env: dict[str, str],
    tmp_path_factory: pytest.TempPathFactory,
    combination: Combination,
) -> None:
    project = render(tmp_path / "project", **combination)
    files = project_files(project)
    assert not [p for p in files if p.name.endswith(".jinja")]
    assert not [p for p in files if any(m in p.read_text() for m in ("{{", "{%", "{#"))]
    env = {**project_env, "MYPY_CACHE_DIR": str(tmp_path_factory.getbasetemp() / "mypy-cache")}
    run([sys.executable, "-m", "ruff", "check", "."], cwd=project, env=env)
    run([sys.executable, "-m", "ruff", "format", "--check", "."], cwd=project, env=env)
    run([sys.executable, "-m", "mypy"], cwd=project, env=env)
