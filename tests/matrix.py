"""Option combinations to render, derived from copier.yml rather than kept by hand.

Options are the questions with choices or of type bool. The set holds the full-on and the all-off
profile, then as many more combinations as it takes for every pair of values of every two options
to appear together at least once (all-pairs), chosen greedily so the set stays small.
"""

from __future__ import annotations

import itertools
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
    """Full-on, all-off, then greedy all-pairs cover of ``values``."""
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
    while wanted:
        best = max(candidates, key=lambda candidate: len(pairs_of(candidate) & wanted))
        chosen.append(best)
        wanted -= pairs_of(best)
    return chosen


def label(combination: Combination) -> str:
    return "-".join(f"{name}={value}" for name, value in sorted(combination.items()))
