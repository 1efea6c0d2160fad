"""A small Dockerfile reader: stages, ARG/ENV, RUN with continuations, USER, CMD and HEALTHCHECK.

It reads what the template's Dockerfile uses, so the tests can run its commands exactly as written.
"""

from __future__ import annotations

import json
import re
import shlex
from dataclasses import dataclass, field

VARIABLE = re.compile(r"\$\{(\w+)\}|\$(\w+)")


@dataclass
class Instruction:
    keyword: str
    flags: dict[str, str]
    value: str
    line: int


@dataclass
class Stage:
    base: str
    name: str | None
    instructions: list[Instruction] = field(default_factory=list)

    def all(self, keyword: str) -> list[Instruction]:
        return [i for i in self.instructions if i.keyword == keyword]

    def last(self, keyword: str) -> Instruction:
        return self.all(keyword)[-1]

    def variables(self, overrides: dict[str, str], inherited: dict[str, str]) -> dict[str, str]:
        """ARG and ENV values in order (``overrides`` win, as ``--build-arg`` and test paths do)."""
        values = dict(inherited)
        for instruction in self.instructions:
            if instruction.keyword not in ("ARG", "ENV"):
                continue
            for name, value in assignments(instruction.value, values).items():
                values[name] = overrides.get(name, value)
        return values

    def runtime_env(self, overrides: dict[str, str], inherited: dict[str, str]) -> dict[str, str]:
        """What a container of this stage sees: ENV only (ARG values do not persist)."""
        values = self.variables(overrides, inherited)
        only_args = names(self.all("ARG")) - names(self.all("ENV"))
        return {name: value for name, value in values.items() if name not in only_args}


def names(instructions: list[Instruction]) -> set[str]:
    return {word.partition("=")[0] for i in instructions for word in shlex.split(i.value)}


def expand(text: str, values: dict[str, str]) -> str:
    return VARIABLE.sub(lambda m: values.get(m.group(1) or m.group(2), ""), text)


def assignments(text: str, values: dict[str, str]) -> dict[str, str]:
    """``A=1 B="x y"`` (or ``ARG NAME`` without a default), expanded with the values before it."""
    found = {}
    for word in shlex.split(text):
        name, _, value = word.partition("=")
        found[name] = expand(value, values)
    return found


def logical_lines(text: str) -> list[tuple[int, str]]:
    """Instructions with their continuation lines joined; comments and blank lines dropped."""
    joined: list[tuple[int, str]] = []
    current: list[str] = []
    start = 0
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not current and (not line or line.startswith("#")):
            continue
        if current and line.startswith("#"):
            continue
        if not current:
            start = number
        if line.endswith("\\"):
            current.append(line[:-1].strip())
            continue
        current.append(line)
        joined.append((start, " ".join(part for part in current if part)))
        current = []
    assert not current, "a continuation line ends the file"
    return joined


def split_flags(rest: str) -> tuple[dict[str, str], str]:
    flags = {}
    while rest.startswith("--"):
        flag, _, rest = rest.partition(" ")
        name, _, value = flag[2:].partition("=")
        flags[name] = value
        rest = rest.lstrip()
    return flags, rest


def parse(text: str) -> list[Stage]:
    stages: list[Stage] = []
    for number, line in logical_lines(text):
        keyword, _, rest = line.partition(" ")
        keyword = keyword.upper()
        flags, value = split_flags(rest.strip())
        if keyword == "FROM":
            base, _, alias = value.partition(" AS ")
            stages.append(Stage(base=base.strip(), name=alias.strip() or None))
            continue
        assert stages, f"line {number}: {keyword} before FROM"
        stages[-1].instructions.append(Instruction(keyword, flags, value, number))
    return stages


def exec_form(value: str) -> list[str]:
    """The argv of an exec-form ``CMD``/``ENTRYPOINT``; shell form is refused."""
    argv = json.loads(value)
    assert isinstance(argv, list), f"not exec form: {value}"
    assert all(isinstance(arg, str) for arg in argv)
    return argv


def mount(flags: dict[str, str]) -> dict[str, str]:
    """``--mount=type=bind,from=build,source=/x,target=/x`` as a dict."""
    return dict(part.split("=", 1) for part in flags["mount"].split(","))
