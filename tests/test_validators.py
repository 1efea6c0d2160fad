"""Bad answers fail before anything is written, with the validator's one-line reason."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Callable
from importlib import metadata
from pathlib import Path
from typing import Any

import pytest
from packaging.requirements import Requirement

from extensions import naming
from tests.conftest import TEMPLATE_ROOT, project_requirements, render

BAD_ANSWERS = [
    ({"module_name": "test"}, "standard library"),
    ({"module_name": "logging"}, "standard library"),
    ({"module_name": "json"}, "standard library"),
    ({"module_name": "redis"}, "dependency"),
    ({"module_name": "fastapi"}, "dependency"),
    ({"module_name": "sqlmodel"}, "dependency"),
    ({"module_name": "class"}, "keyword"),
    ({"module_name": "match"}, "keyword"),
    ({"module_name": "My_Service"}, "lowercase Python identifier"),
    ({"module_name": "my-service"}, "lowercase Python identifier"),
    ({"module_name": "1service"}, "lowercase Python identifier"),
    ({"module_name": "src"}, "reserved"),
    ({"module_name": "tests"}, "reserved"),
    ({"module_name": "benchmarks"}, "reserved"),
    ({"module_name": "prometheus_client"}, "dependency"),
    ({"module_name": "jsonschema"}, "dependency"),
    ({"module_name": "yaml"}, "dependency"),
    ({"module_name": "monitoring", "include_monitoring": True}, "choose another module_name"),
    ({"module_name": "x" * 41}, "at most 40"),
    ({"project_slug": "-leading-dash"}, "valid distribution name"),
    ({"project_slug": "has space"}, "valid distribution name"),
    ({"project_slug": "trailing."}, "valid distribution name"),
    ({"author_email": "not-an-email"}, "email"),
    ({"author_email": "a@b"}, "email"),
    ({"author_name": "   "}, "author_name must not be empty"),
    ({"project_name": ""}, "project_name must not be empty"),
    ({"project_name": 'The "Best" Service'}, "double quotes"),
    ({"project_name": "!!!", "module_name": "ok", "project_slug": "ok"}, "letter or digit"),
    ({"project_description": "two\nlines"}, "one line"),
    ({"python_version": "3.9"}, "3.9"),
]


@pytest.mark.parametrize(("answers", "reason"), BAD_ANSWERS, ids=lambda v: repr(v)[:40])
def test_bad_answer_fails_and_writes_nothing(
    tmp_path: Path, answers: dict[str, Any], reason: str
) -> None:
    destination = tmp_path / "project"
    with pytest.raises(ValueError, match=re.escape(reason)):
        render(destination, **answers)
    assert not destination.exists() or list(destination.rglob("*")) == []


def test_command_line_shows_the_reason_and_leaves_no_destination(tmp_path: Path) -> None:
    destination = tmp_path / "project"
    result = subprocess.run(
        [
            sys.executable, "-m", "copier", "copy", "--trust", "--defaults",
            "--data", "module_name=json", str(TEMPLATE_ROOT), str(destination),
        ],
        capture_output=True,
        text=True,
        check=False,
    )  # fmt: skip
    assert result.returncode != 0
    assert "would shadow the standard library module" in result.stderr
    assert not destination.exists()


@pytest.mark.parametrize(
    ("name", "kebab", "snake"),
    [
        ("My Service", "my-service", "my_service"),
        ("HTTPServer v2", "httpserver-v2", "httpserver_v2"),
        ("orderTracking API", "order-tracking-api", "order_tracking_api"),
        ("  billing -- core!  ", "billing-core", "billing_core"),
    ],
)
def test_case_filters(name: str, kebab: str, snake: str) -> None:
    assert naming.kebab_case(name) == kebab
    assert naming.snake_case(name) == snake


@pytest.mark.parametrize("good", ["my_service", "orders", "a", "service2", "_private"])
def test_good_module_names_pass(good: str) -> None:
    assert naming.module_name_error(good) == ""


def test_an_option_folder_is_free_when_the_option_is_off() -> None:
    assert naming.option_folder_error("monitoring", "include_monitoring", False) == ""
    assert naming.option_folder_error("service", "include_monitoring", True) == ""
    assert "monitoring/" in naming.option_folder_error("monitoring", "include_monitoring", True)


def test_default_answers_pass_every_validator() -> None:
    assert naming.project_name_error("My Service") == ""
    assert naming.slug_error(naming.kebab_case("My Service")) == ""
    assert naming.module_name_error(naming.snake_case("My Service")) == ""
    assert naming.email_error("you@example.com") == ""
    assert naming.description_error('Serves "orders" fast.') == ""


def top_level_modules(distribution: str) -> set[str]:
    """Importable top-level names an installed distribution provides, from its file list."""
    found = set()
    for file in metadata.distribution(distribution).files or []:
        first = file.parts[0]
        if first.endswith((".dist-info", ".data")) or first in ("..", "__pycache__"):
            continue
        name = first.split(".")[0] if len(file.parts) == 1 else first
        if len(file.parts) > 1 or file.suffix in (".py", ".so", ".pyd"):
            found.add(name)
    return {name for name in found if name.isidentifier() and name.islower()}


def test_module_name_refuses_every_dependency_import_name(
    rendered: Callable[[str], Path], project_env: dict[str, str]
) -> None:
    """Walks the requirements of a project with every option on, as installed: each top-level
    module they (and the extras the project asks for) install is refused as module_name."""
    requirements = [Requirement(line) for line in project_requirements(rendered("full"))]
    distributions = {r.name for r in requirements if r.marker is None or r.marker.evaluate()}
    for requirement in requirements:
        for extra in requirement.extras:
            for needed in map(Requirement, metadata.requires(requirement.name) or []):
                marker = needed.marker
                if marker is not None and marker.evaluate({"extra": extra}):
                    distributions.add(needed.name)
    walked = {name for dist in sorted(distributions) for name in top_level_modules(dist)}
    assert {"jwt", "yaml", "jsonschema", "fastapi", "pytest"} <= walked  # the walk works
    accepted = sorted(name for name in walked if naming.module_name_error(name) == "")
    assert accepted == [], f"add their import names to extensions/naming.py: {accepted}"


def test_requirements_are_read_from_the_template_pyproject(
    rendered: Callable[[str], Path],
) -> None:
    """Every requirement of a rendered project, whatever its options, is in the validator's list."""
    source = naming.PYPROJECT_TEMPLATE.read_text(encoding="utf-8")
    parsed = set(naming.requirement_names(source))
    for profile in ("full", "defaults"):
        names = {Requirement(line).name.lower() for line in project_requirements(rendered(profile))}
        assert names <= parsed
    assert "prometheus-client" in parsed  # inside an {% if %} block: refused whatever the options
    assert naming.module_name_error("jsonschema") != ""
    assert naming.module_name_error("google") != ""  # protobuf's import name
