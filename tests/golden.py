"""Golden snapshots: committed renderings of two canonical profiles.

Each profile's rendering is stored as one text file, ``tests/golden/<profile>.txt``: every
generated file under a ``==== path ====`` header. Every template change shows its effect on
generated files in review. After changing the template, regenerate and commit them with it:

    python -m tests.golden
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path
from typing import Any

from tests.conftest import TEMPLATE_ROOT, render

GOLDEN_ROOT = Path(__file__).resolve().parent / "golden"
GOLDEN_PROFILES: dict[str, dict[str, Any]] = {
    "defaults": {},
    "minimal": {"include_example": False, "ci_provider": "none"},
}
# Lines of the answers file that name the template checkout, not the rendering.
VOLATILE_ANSWERS = ("_commit:", "_src_path:")


def render_profile(profile: str, destination: Path) -> Path:
    """Render ``profile`` without running tasks (no git repository, no .env with secrets)."""
    render(destination, skip_tasks=True, **GOLDEN_PROFILES[profile])
    answers = destination / ".copier-answers.yml"
    lines = answers.read_text().splitlines(keepends=True)
    answers.write_text("".join(line for line in lines if not line.startswith(VOLATILE_ANSWERS)))
    return destination


def snapshot(root: Path) -> str:
    """Every file under ``root``, in path order, each under a header line naming it."""
    parts = []
    for path in sorted(root.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            text = path.read_text(encoding="utf-8")
            parts.append(f"==== {path.relative_to(root)} ====\n{text}")
            if not text.endswith("\n"):
                parts.append("\n")
    return "".join(parts)


def golden_file(profile: str) -> Path:
    return GOLDEN_ROOT / f"{profile}.txt"


def regenerate() -> None:
    GOLDEN_ROOT.mkdir(exist_ok=True)
    for profile in GOLDEN_PROFILES:
        with tempfile.TemporaryDirectory() as folder:
            text = snapshot(render_profile(profile, Path(folder) / profile))
        golden_file(profile).write_text(text, encoding="utf-8")
        print(f"wrote {golden_file(profile).relative_to(TEMPLATE_ROOT)}")


if __name__ == "__main__":
    regenerate()
    sys.exit(0)
