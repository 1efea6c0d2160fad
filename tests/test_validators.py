"""Bad answers fail before anything is written, with the validator's one-line reason."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from extensions import naming
from tests.conftest import TEMPLATE_ROOT

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
    copie: Any, answers: dict[str, Any], reason: str
) -> None:
    result = copie.copy(extra_answers=answers)
    assert result.exit_code != 0
    assert isinstance(result.exception, ValueError)
    assert reason in str(result.exception)
    written = [p for p in copie.test_dir.rglob("*") if p.is_file() and "copier" not in p.name]
    assert written == []


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
