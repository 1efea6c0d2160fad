"""Rendered projects are clean: no leftovers; lint, format, types and their own tests pass."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from tests import checks
from tests.conftest import (
    BENCHMARK_PROPERTY,
    PROFILES,
    Lint,
    render,
    run,
    run_project_tests,
)
from tests.matrix import defaults, template_matrix

# Profiles whose answers are no matrix combination get linted here; test_matrix.py checks the
# others ("full" is the matrix's full-on combination, "defaults" one of its suite runs). Their
# test suites are not run here: the matrix's suite runs hold every pair of values of the options
# the generated tests can see, so a profile's suite would repeat what those already show.
UNCOVERED = [name for name in PROFILES if {**defaults(), **PROFILES[name]} not in template_matrix()]

ProjectFor = Callable[[str], Path]
RecordProperty = Callable[[str, object], None]
# The example resource, whatever the case: Author, authors, GET_AUTHORS (not Authorization).
EXAMPLE = re.compile(r"\bauthors?\b|_AUTHORS?\b", re.IGNORECASE)


def project_files(project: Path) -> list[Path]:
    """Files of the project that git would track (caches and .env are ignored)."""
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=project,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return [project / name for name in listed.split("\0") if name]


@pytest.mark.parametrize("profile", PROFILES)
def test_no_template_leftovers(rendered: ProjectFor, profile: str) -> None:
    project = rendered(profile)
    files = project_files(project)
    assert not [p for p in files if p.suffix == ".jinja"]
    leftovers = [
        str(p.relative_to(project))
        for p in files
        if checks.jinja_leftovers(p.read_text(encoding="utf-8"))
    ]
    assert leftovers == []


LINK = re.compile(r"\]\(([^)#\s]+\.md)(?:#[^)]*)?\)")


@pytest.mark.parametrize("profile", PROFILES)
def test_links_between_generated_documents_resolve(rendered: ProjectFor, profile: str) -> None:
    project = rendered(profile)
    broken = []
    for page in [project / "README.md", *sorted((project / "docs").glob("*.md"))]:
        for target in LINK.findall(page.read_text(encoding="utf-8")):
            if "://" not in target and not (page.parent / target).is_file():
                broken.append(f"{page.relative_to(project)} -> {target}")
    assert broken == []


@pytest.mark.parametrize("profile", UNCOVERED)
def test_lint_format_and_types(
    rendered: ProjectFor, project_env: dict[str, str], lint: Lint, profile: str
) -> None:
    lint(rendered(profile), project_env)


@pytest.mark.cost(1)
def test_longest_allowed_names_stay_lint_clean(
    tmp_path: Path, project_env: dict[str, str], lint: Lint
) -> None:
    project = render(
        tmp_path / "long",
        project_name="An Exceedingly Long Service Name For Testing Line Lengths Ok",
        project_slug="an-exceedingly-long-service-name-for-testing-line-lengths-ok",
        module_name="an_exceedingly_long_module_name_for_test",
        project_description='A "quoted" description that is long enough to need wrapping ' * 4,
        author_name="Ana O'Brien",
    )
    lint(project, project_env)


def test_answers_file_records_every_question(rendered: ProjectFor) -> None:
    answers = yaml.safe_load((rendered("defaults") / ".copier-answers.yml").read_text())
    assert answers["module_name"] == "my_service"
    assert answers["project_slug"] == "my-service"
    assert answers["include_example"] is True
    assert answers["_src_path"]
    assert "SECRET_KEY" not in str(answers)


def test_include_example_off_leaves_no_trace(rendered: ProjectFor) -> None:
    project = rendered("no-example")
    mentions = [
        f"{p.relative_to(project)}: {line.strip()}"
        for p in project_files(project)
        if p.name != ".copier-answers.yml"
        for line in p.read_text(encoding="utf-8").splitlines()
        if EXAMPLE.search(line) and not line.startswith("authors = [")  # pyproject's own field
    ]
    assert mentions == []
    assert not list(project.rglob("*author*"))
    assert (rendered("defaults") / "my_service" / "models" / "author.py").is_file()


def test_rendering_is_reproducible(tmp_path: Path) -> None:
    first = render(tmp_path / "first")
    second = render(tmp_path / "second")

    def snapshot(project: Path) -> dict[str, str]:
        files = {str(p.relative_to(project)): p.read_text() for p in project_files(project)}
        # _commit names the template commit; an uncommitted template gets a new one each render.
        answers = files.pop(".copier-answers.yml").splitlines()
        files[".copier-answers.yml"] = "\n".join(a for a in answers if not a.startswith("_commit"))
        return files

    assert snapshot(first) == snapshot(second)
    assert (first / ".env").read_text() == (second / ".env").read_text()  # it holds no secret


@pytest.mark.cost(1)
def test_scaffolded_handler_passes_lint_types_and_tests(
    tmp_path: Path, project_env: dict[str, str], lint: Lint
) -> None:
    project = render(tmp_path / "project")
    command = [sys.executable, "-m", "my_service", "new-handler", "get_books", "--pkg-id", "200"]
    run(command, cwd=project, env=project_env)
    assert (project / "my_service" / "api" / "ws" / "handlers" / "get_books.py").is_file()
    lint(project, project_env)
    listed = run([sys.executable, "-m", "my_service", "handlers"], cwd=project, env=project_env)
    assert "200  GET_BOOKS" in listed.stdout
    run_project_tests(project, project_env, tmp_path / "pytest", "tests/test_cli.py")


def test_full_stack_benchmark_measures_every_path_against_bare_fastapi(
    rendered: ProjectFor, project_env: dict[str, str], record_property: RecordProperty
) -> None:
    """One short round of ``benchmarks/full_stack.py`` on the ``--defaults`` project (Redis on,
    servers and client in processes of their own); its table ends the run's output."""
    command = [sys.executable, "benchmarks/full_stack.py", "--rounds", "1", "--seconds", "1"]
    result = run([*command, "--warmup", "0.2"], cwd=rendered("defaults"), env=project_env)
    rows = {
        (match["path"].strip(), int(match["connections"])): float(match["ratio"])
        for match in re.finditer(
            r"^(?P<path>WS round trip \(PING\)|HTTP GET /authors)\s+(?P<connections>\d+)"
            r"\s+\d+\s+\d+\s+(?P<ratio>[\d.]+)%$",
            result.stdout,
            re.MULTILINE,
        )
    }
    paths = ("WS round trip (PING)", "HTTP GET /authors")
    assert set(rows) == {(path, n) for path in paths for n in (1, 8)}, result.stdout
    assert all(0 < ratio < 1000 for ratio in rows.values()), result.stdout
    record_property(BENCHMARK_PROPERTY, result.stdout)


def test_push_benchmark_runs_and_reports_the_ratio(
    rendered: ProjectFor, project_env: dict[str, str]
) -> None:
    command = [sys.executable, "benchmarks/push_fanout.py", "--sockets", "20", "--messages", "5"]
    options = ["--warmup", "1", "--client-processes", "1"]
    result = run([*command, *options], cwd=rendered("defaults"), env=project_env)
    assert "of the bare loop's deliveries/s" in result.stdout


def test_rate_limiter_benchmark_runs_and_counts_round_trips(
    rendered: ProjectFor, project_env: dict[str, str]
) -> None:
    result = run(
        [sys.executable, "benchmarks/rate_limiter.py", "--checks", "200"],
        cwd=rendered("defaults"),
        env=project_env,
    )
    assert "1.00 round trips per check" in result.stdout


def test_console_works_in_a_browser_and_takes_its_screenshot(
    rendered: ProjectFor, project_env: dict[str, str], tmp_path: Path
) -> None:
    """The generated console test drives the page of the --defaults project in headless
    Chromium (PING, CREATE_AUTHOR, a push) and saves the screenshot the docs show."""
    if shutil.which("chromium") is None and not os.environ.get("CI"):
        pytest.skip("Chromium is not installed (Debian: apt-get install chromium)")
    screenshot = tmp_path / "ws-console.png"
    env = {**project_env, "WS_CONSOLE_SCREENSHOT": str(screenshot)}
    test = "tests/test_console.py::test_the_console_sends_frames_and_shows_answers_and_pushes"
    result = run_project_tests(rendered("defaults"), env, tmp_path / "pytest", "-rs", test)
    assert "1 passed" in result.stdout, result.stdout
    assert screenshot.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
