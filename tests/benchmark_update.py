"""Benchmark: a no-op update against a fresh ``copier copy`` of the same template.

    python -m tests.benchmark_update [--rounds N]

Builds the template's release history in a temporary clone (``tests.releases.build_history``:
the working tree is the newest release), generates a project from it and commits the project.
Each round then times, each in its own process, a fresh copy into a new folder and two updates of
the project, which is already at the newest release, so neither may change it (checked after
every update):

- ``copier update`` itself;
- the generated project's update command, ``scripts/template_update.py update`` (what ``make
  template-update`` and the update pull requests run), which asks ``copier check-update`` first
  and leaves a project on the latest release alone.

Rounds alternate which runs first, so a drifting machine affects all alike. Prints the medians
and the ratios to the copy.

For an update Copier renders the template three times (the old release, the project, the new
release) and clones it five times, for a copy once each, so its ratio cannot fall much below 2.
CPU time (the process's and its git processes') is printed beside the clock time: where the two
agree, the run waited on nothing but the processor. Everything, Copier's temporary clones
included, is written under TMPDIR: where creating a file is slow (some virtual disks), the
update's extra clones and renders weigh more, and ``TMPDIR=/dev/shm`` measures Copier and the
template alone. Timing is only reported: the exit status is non-zero only when a command fails or
an update is not a no-op.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import NamedTuple

from tests.releases import GIT_IDENTITY, git, project_on_newest_release

COPIER = [sys.executable, "-W", "ignore", "-m", "copier"]
COPY = ["copy", "--trust", "--defaults", "--quiet"]
UPDATE = ["update", "--trust", "--defaults", "--conflict", "inline", "--quiet"]


class BenchmarkError(RuntimeError):
    """A command of the benchmark failed, or the update changed the project."""


class Timing(NamedTuple):
    """Seconds one ``copier`` run took: on the clock, and of CPU (with the git processes)."""

    wall: float
    cpu: float


def children_cpu() -> float:
    """CPU seconds of this process's finished child processes (and theirs) so far."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed(command: list[str], cwd: Path, env: dict[str, str] | None = None) -> Timing:
    """Run ``command`` in ``cwd``; how long it took (raises when it fails)."""
    cpu = children_cpu()
    start = time.perf_counter()
    done = subprocess.run(
        command,
        cwd=cwd,
        env={**os.environ, **GIT_IDENTITY, **(env or {})},
        capture_output=True,
        text=True,
        check=False,
    )
    elapsed = Timing(time.perf_counter() - start, children_cpu() - cpu)
    if done.returncode != 0:
        raise BenchmarkError(
            f"{' '.join(command)} exited {done.returncode}\n{done.stdout}{done.stderr}"
        )
    return elapsed


def copier(*args: str, cwd: Path) -> Timing:
    """Run ``copier *args`` in ``cwd``; how long it took (raises when it fails)."""
    return timed([*COPIER, *args], cwd)


def project_update(project: Path) -> Timing:
    """Run the project's own update command (``make template-update`` without the checks)."""
    command = [sys.executable, "scripts/template_update.py", "update"]
    return timed(command, project, {"COPIER": " ".join(COPIER)})


def changes(project: Path) -> str:
    """What ``git status`` reports in ``project`` (ignored files too): empty after a no-op."""
    return git(project, "status", "--porcelain", "--ignored", "--untracked-files=all")


class Timings(NamedTuple):
    copies: list[Timing]
    updates: list[Timing]
    project_updates: list[Timing]


def measure(rounds: int, workdir: Path) -> Timings:
    """Time ``rounds`` fresh copies and no-op updates, alternating which runs first."""
    template, project, version = project_on_newest_release(workdir)
    before = changes(project)
    timings = Timings([], [], [])

    def copy_once(index: int) -> None:
        target = workdir / f"copy-{index}"
        timings.copies.append(copier(*COPY, str(template), str(target), cwd=workdir))

    def updates_once() -> None:
        timings.updates.append(copier(*UPDATE, cwd=project))
        timings.project_updates.append(project_update(project))
        if (after := changes(project)) != before:
            raise BenchmarkError(f"an update to v{version} changed the project:\n{after}")

    for index in range(rounds):
        if index % 2:
            updates_once()
        copy_once(index)
        if not index % 2:
            updates_once()
        print(
            f"round {index + 1}: copy {show(timings.copies[-1])}, "
            f"copier update {show(timings.updates[-1])}, "
            f"template_update.py update {show(timings.project_updates[-1])}",
            flush=True,
        )
    return timings


def show(timing: Timing) -> str:
    return f"{timing.wall:.2f} s ({timing.cpu:.2f} s CPU)"


def median(timings: list[Timing]) -> Timing:
    return Timing(*(statistics.median(values) for values in zip(*timings, strict=True)))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tests.benchmark_update",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--rounds", type=int, default=5, help="copies and updates timed (5)")
    args = parser.parse_args(argv)
    if args.rounds < 1:
        parser.error("--rounds must be at least 1")
    with tempfile.TemporaryDirectory(prefix="benchmark-update-") as folder:
        try:
            timings = measure(args.rounds, Path(folder))
        except (BenchmarkError, subprocess.CalledProcessError) as error:
            detail = getattr(error, "stderr", None) or ""
            print(f"benchmark failed: {error}\n{detail}", file=sys.stderr)
            return 1
    copy = median(timings.copies)
    print(f"median of {args.rounds}: copy {show(copy)}")
    for name, runs in (
        ("copier update", timings.updates),
        ("scripts/template_update.py update", timings.project_updates),
    ):
        update = median(runs)
        print(
            f"  no-op {name}: {show(update)}, ratio to the copy {update.wall / copy.wall:.2f}"
            f" (CPU: {update.cpu / copy.cpu:.2f})"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
