"""Option combinations to render, derived from copier.yml rather than kept by hand.

Options are the questions with choices or of type bool. The set holds the full-on and the all-off
profile, then as many more combinations as it takes for every pair of values of every two options
to appear together at least once (all-pairs), chosen so the set stays small.

Every combination is rendered, linted, type-checked and started. Only some run the generated
project's whole test suite: those that together hold every pair of values of the options the
suite can see (``suite_options``: the ones the package, its tests or pyproject.toml name). Options
that only shape CI, Docker or compose files cannot change what the suite does, so more suites
would repeat one another. They come first in the set (``suite_runs``), and the answers a user gets
with ``--defaults`` are one of them. The suite's modules that start processes of their own (servers,
the CLI, a browser: ``PROCESS_MODULES``) and the tests' PostgreSQL runs happen in two of them only,
the full-on and the ``--defaults`` one (``suite_arguments``): the most CPU-hungry parts of a suite,
and the least option-bound.

Each combination runs on the Python its ``python_version`` answer names (the lowest the generated
project supports). ``python -m tests.matrix`` prints the set as a GitHub Actions job matrix.
"""

from __future__ import annotations

import functools
import itertools
import json
import re
from collections.abc import Collection, Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

from tests.conftest import TEMPLATE_ROOT

Combination = dict[str, Any]
# What a generated project's test suite is made of: the package, its tests and pyproject.toml.
SUITE_PARTS = ("{{ module_name }}", "tests", "pyproject.toml.jinja")


def options(config: Mapping[str, Any] | None = None) -> dict[str, list[Any]]:
    """Each option question with its possible values, in copier.yml order."""
    if config is None:
        config = yaml.safe_load((TEMPLATE_ROOT / "copier.yml").read_text())
    found: dict[str, list[Any]] = {}
    for name, spec in config.items():
        if name.startswith("_") or not isinstance(spec, Mapping):
            continue
        if spec.get("type") == "bool":
            found[name] = [True, False]
        elif spec.get("choices"):
            choices = spec["choices"]
            found[name] = list(choices.values() if isinstance(choices, Mapping) else choices)
    return found


def defaults(config: Mapping[str, Any] | None = None) -> Combination:
    """Each option's default answer."""
    if config is None:
        config = yaml.safe_load((TEMPLATE_ROOT / "copier.yml").read_text())
    return {name: config[name]["default"] for name in options(config)}


def full_on(values: Mapping[str, list[Any]]) -> Combination:
    """Every feature on: booleans true, otherwise the first choice."""
    return {
        name: True if choices == [True, False] else choices[0] for name, choices in values.items()
    }


def all_off(values: Mapping[str, list[Any]]) -> Combination:
    """Every feature off: booleans false, ``none`` where offered, otherwise the last choice."""
    return {
        name: False if choices == [True, False] else ("none" if "none" in choices else choices[-1])
        for name, choices in values.items()
    }


def pairs_of(combination: Combination) -> set[tuple[tuple[str, Any], tuple[str, Any]]]:
    items = sorted(combination.items(), key=lambda item: item[0])
    return {(a, b) for a, b in itertools.combinations(items, 2)}


def all_pairs(
    values: Mapping[str, list[Any]], names: Collection[str]
) -> set[tuple[tuple[str, Any], tuple[str, Any]]]:
    """Every pair of values of every two of ``names``."""
    return {
        ((a, va), (b, vb))
        for a, b in itertools.combinations(sorted(names), 2)
        for va in values[a]
        for vb in values[b]
    }


def combinations(
    values: Mapping[str, list[Any]] | None = None,
    first: Collection[str] = (),
    prefer: Sequence[Combination] = (),
    first_singles: Collection[str] = (),
) -> list[Combination]:
    """An all-pairs cover of ``values`` that holds full-on and all-off.

    Without ``first``, full-on and all-off come first. With ``first`` (and ``first_singles``),
    the fewest combinations that hold every pair of values of the ``first`` options, and every
    value of the ``first_singles`` options, come first (an exhaustive search; among equally few,
    the one holding most of ``prefer``, then of full-on and all-off), so that ``covering_prefix``
    can give checks that only those options change a short list to run on; full-on and all-off
    follow unless the search took them. The rest is greedy: each step takes the candidate that
    covers the most missing pairs of the two options with most values, then the most missing
    pairs overall: those two are the hardest to cover, and covering them first keeps the set near
    its minimum (the product of the two largest numbers of values).
    """
    values = options() if values is None else values
    names = sorted(values)
    extremes = [full_on(values), all_off(values)]
    chosen: list[Combination] = []
    if first or first_singles:
        wanted = requirements(values, first, first_singles)
        chosen += _first_cover(values, wanted, chosen, prefer, extremes)
    chosen += [extreme for extreme in extremes if extreme not in chosen]
    overall = all_pairs(values, names).difference(*(pairs_of(c) for c in chosen))
    candidates = [
        dict(zip(names, product, strict=True))
        for product in itertools.product(*(values[n] for n in names))
    ]
    largest = max((_size(values, pair) for pair in overall), default=0)
    while overall:
        best = max(candidates, key=functools.partial(_gain, values, overall, largest))
        chosen.append(best)
        overall -= pairs_of(best)
    return chosen


def _gain(
    values: Mapping[str, list[Any]],
    missing: set[tuple[tuple[str, Any], tuple[str, Any]]],
    largest: int,
    candidate: Combination,
) -> tuple[int, int]:
    """Missing pairs ``candidate`` covers: of the options with most value pairs, then of any."""
    new = [_size(values, pair) for pair in pairs_of(candidate) & missing]
    return new.count(largest), len(new)


def _size(values: Mapping[str, list[Any]], pair: tuple[tuple[str, Any], tuple[str, Any]]) -> int:
    (a, _), (b, _) = pair
    return len(values[a]) * len(values[b])


Requirement = frozenset[tuple[str, Any]]
"""Option values a combination must hold together (a pair of values, or a single value)."""


def requirements(
    values: Mapping[str, list[Any]], pairs: Collection[str], singles: Collection[str] = ()
) -> set[Requirement]:
    """Every pair of values of two of ``pairs``, and every value of each of ``singles``."""
    wanted = {frozenset(pair) for pair in all_pairs(values, pairs)}
    return wanted | {frozenset({(name, value)}) for name in singles for value in values[name]}


def _met(requirements: set[Requirement], combination: Mapping[str, Any]) -> set[Requirement]:
    items = set(combination.items())
    return {requirement for requirement in requirements if requirement <= items}


def _first_cover(
    values: Mapping[str, list[Any]],
    wanted: set[Requirement],
    chosen: list[Combination],
    prefer: Sequence[Combination],
    then: Sequence[Combination] = (),
) -> list[Combination]:
    """The fewest combinations that, added to ``chosen``, meet every requirement of ``wanted``;
    among equally few, those holding most of ``prefer``, then most of ``then``."""
    wanted = wanted.difference(*(_met(wanted, c) for c in chosen))
    group = sorted({name for requirement in wanted for name, _ in requirement})
    projections = {
        part: frozenset(_met(wanted, dict(zip(group, part, strict=True))))
        for part in itertools.product(*(values[n] for n in group))
    }
    preferred = {tuple(c[n] for n in group): c for c in [*then, *prefer]}
    first_choice = {tuple(c[n] for n in group) for c in prefer}
    second_choice = {tuple(c[n] for n in group) for c in then}
    best: tuple[tuple[Any, ...], ...] = ()
    for count in range(len(projections) + 1):
        found = [
            subset
            for subset in itertools.combinations(projections, count)
            if wanted <= frozenset().union(*(projections[part] for part in subset))
        ]
        if found:
            best = max(
                found,
                key=lambda subset: (
                    sum(part in first_choice for part in subset),
                    sum(part in second_choice for part in subset),
                ),
            )
            break
    # Each part becomes a whole combination: a preferred one as it is, any other with the values
    # of the remaining options that cover most missing pairs overall.
    others = [name for name in sorted(values) if name not in group]
    overall = all_pairs(values, values).difference(*(pairs_of(c) for c in chosen))
    largest = max((_size(values, pair) for pair in overall), default=0)
    added = []
    for part in best:
        if part in preferred:
            combination = dict(preferred[part])
        else:
            wholes = [
                dict(zip([*group, *others], [*part, *rest], strict=True))
                for rest in itertools.product(*(values[n] for n in others))
            ]
            combination = max(wholes, key=functools.partial(_gain, values, overall, largest))
        combination = {name: combination[name] for name in sorted(values)}
        added.append(combination)
        overall -= pairs_of(combination)
    return added


def covering_prefix(
    chosen: Sequence[Combination],
    names: Collection[str],
    values: Mapping[str, list[Any]],
    singles: Collection[str] = (),
) -> list[Combination]:
    """The shortest leading part of ``chosen`` that holds every pair of values of ``names`` and
    every value of ``singles``."""
    wanted = requirements(values, names, singles)
    for count, combination in enumerate(chosen, start=1):
        wanted -= _met(wanted, combination)
        if not wanted:
            return list(chosen[:count])
    return list(chosen)


def suite_options(
    template: Path | None = None, values: Mapping[str, list[Any]] | None = None
) -> list[str]:
    """Options that can change what a generated project's own test suite runs.

    Those named (as a word, in a file's path or text) by the package, its tests or its
    pyproject.toml; an option that only shapes other files (CI, Docker, compose) is not one.
    """
    template = TEMPLATE_ROOT / "template" if template is None else template
    values = options() if values is None else values
    texts = []
    for path in sorted(template.rglob("*")):
        relative = path.relative_to(template)
        if not path.is_file() or relative.parts[0] not in SUITE_PARTS:
            continue
        texts.append(str(relative))
        texts.append(path.read_text(encoding="utf-8", errors="replace"))
    found = "\n".join(texts)
    return [name for name in values if re.search(rf"\b{re.escape(name)}\b", found)]


def label(combination: Combination) -> str:
    return "-".join(f"{name}={value}" for name, value in sorted(combination.items()))


def python_of(combination: Combination) -> str:
    """The Python version a combination is checked on: the lowest its project supports."""
    return str(combination["python_version"])


INTERPRETER_OPTIONS = ("python_version",)
"""Options that choose the interpreter a project runs on, not the code it gets: each of their
values runs a whole suite once, while their pairs with the other options are left to ruff and
mypy, which every combination runs on its own Python."""


@functools.cache
def _template_matrix() -> tuple[tuple[Combination, ...], int]:
    values = options()
    suite = suite_options(values=values)
    pairs = [name for name in suite if name not in INTERPRETER_OPTIONS]
    singles = [name for name in suite if name in INTERPRETER_OPTIONS]
    chosen = combinations(values, first=pairs, first_singles=singles, prefer=[defaults()])
    return tuple(chosen), len(covering_prefix(chosen, pairs, values, singles))


def template_matrix() -> list[Combination]:
    """The template's option combinations: all pairs, the suite runs first (``suite_runs``)."""
    return [dict(c) for c in _template_matrix()[0]]


def suite_runs() -> list[Combination]:
    """The combinations that run the generated project's whole test suite."""
    chosen, count = _template_matrix()
    return [dict(c) for c in chosen[:count]]


PROCESS_MODULES = (
    "tests/test_push_instances.py",
    "tests/test_startup_checks.py",
    "tests/test_cli_migrate.py",
    "tests/test_console.py",
)
"""Generated test modules that start the service, the CLI or a browser as processes."""


def suite_arguments(combination: Combination) -> list[str]:
    """pytest arguments of a suite run: all of it for the full-on and the ``--defaults``
    combination; the others without ``PROCESS_MODULES`` and on SQLite only (the tests that
    ``database_url`` runs on each backend: options change what the app does, not the SQL
    dialect, and both whole suites run both backends)."""
    if combination in (full_on(options()), defaults()):
        return []
    return [*(f"--ignore={module}" for module in PROCESS_MODULES), "-k", "not postgresql"]


def github_matrix(chosen: list[Combination] | None = None) -> dict[str, list[dict[str, str]]]:
    """A GitHub Actions ``strategy.matrix``: one entry per combination, with its test id."""
    chosen = template_matrix() if chosen is None else chosen
    return {"include": [{"label": label(c), "python": python_of(c)} for c in chosen]}


if __name__ == "__main__":
    print(json.dumps(github_matrix()))
