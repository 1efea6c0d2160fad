"""Option combinations to render, derived from copier.yml rather than kept by hand.

Options are the questions with choices or of type bool. The set holds the full-on and the all-off
profile, then as many more combinations as it takes for every pair of values of every two options
to appear together at least once (all-pairs), chosen greedily so the set stays small.

Each combination runs on the Python its ``python_version`` answer names (the lowest the generated
project supports). ``python -m tests.matrix`` prints the set as a GitHub Actions job matrix.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Mapping
from typing import Any

import yaml

from tests.conftest import TEMPLATE_ROOT

Combination = dict[str, Any]


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


def combinations(values: Mapping[str, list[Any]] | None = None) -> list[Combination]:
    """Full-on, all-off, then greedy all-pairs cover of ``values``.

    Each step takes the candidate that covers the most missing pairs of the two options with most
    values, then the most missing pairs overall: those two are the hardest to cover, and covering
    them first keeps the set near its minimum (the product of the two largest numbers of values).
    """
    values = options() if values is None else values
    names = sorted(values)
    wanted = {
        ((a, va), (b, vb))
        for a, b in itertools.combinations(names, 2)
        for va in values[a]
        for vb in values[b]
    }
    chosen = [full_on(values), all_off(values)]
    for combination in chosen:
        wanted -= pairs_of(combination)
    candidates = [
        dict(zip(names, product, strict=True))
        for product in itertools.product(*(values[n] for n in names))
    ]

    def size(pair: tuple[tuple[str, Any], tuple[str, Any]]) -> int:
        (a, _), (b, _) = pair
        return len(values[a]) * len(values[b])

    largest = max((size(pair) for pair in wanted), default=0)

    def gain(candidate: Combination) -> tuple[int, int]:
        """Missing pairs it covers: of the options with most value pairs, then of any options."""
        new = [size(pair) for pair in pairs_of(candidate) & wanted]
        return new.count(largest), len(new)

    while wanted:
        best = max(candidates, key=gain)
        chosen.append(best)
        wanted -= pairs_of(best)
    return chosen


def label(combination: Combination) -> str:
    return "-".join(f"{name}={value}" for name, value in sorted(combination.items()))


def python_of(combination: Combination) -> str:
    """The Python version a combination is checked on: the lowest its project supports."""
    return str(combination["python_version"])


def github_matrix(chosen: list[Combination] | None = None) -> dict[str, list[dict[str, str]]]:
    """A GitHub Actions ``strategy.matrix``: one entry per combination, with its test id."""
    chosen = combinations() if chosen is None else chosen
    return {"include": [{"label": label(c), "python": python_of(c)} for c in chosen]}


if __name__ == "__main__":
    print(json.dumps(github_matrix()))
