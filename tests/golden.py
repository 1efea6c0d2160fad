"""Golden snapshots: committed renderings of two canonical profiles.

Every template change shows its effect on generated files in review. After changing the template,
regenerate them and commit the result with the change:

    python -m tests.golden
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path
from typing import Any

import copier

from tests.conftest import TEMPLATE_ROOT

GOLDEN_ROOT = Path(__file__).resolve().parent / "golden"
GOLDEN_PROFILES: dict[str, dict[str, Any]] = {
    "defaults": {},
    "minimal": {"include_example": False, "ci_provider": "none"},
}
# Lines of the answers file that name the template checkout, not the rendering.
VOLATILE_ANSWERS = ("_commit:", "_src_path:")


def render_profile(profile: str, destination: Path) -> Path:
    """Render ``profile`` without running tasks (no git repository, no .env with secrets)."""
    copier.run_copy(
        str(TEMPLATE_ROOT),
        str(destination),
        data=GOLDEN_PROFILES[profile],
        defaults=True,
        unsafe=True,
        quiet=True,
        skip_tasks=True,
        vcs_ref="HEAD",
    )
    answers = destination / ".copier-answers.yml"
    lines = answers.read_text().splitlines(keepends=True)
    answers.write_text("".join(line for line in lines if not line.startswith(VOLATILE_ANSWERS)))
    return destination


def tree(root: Path) -> dict[str, bytes]:
    return {
        str(path.relative_to(root)): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file() and "__pycache__" not in path.parts
    }


def regenerate() -> None:
    for profile in GOLDEN_PROFILES:
        target = GOLDEN_ROOT / profile
        shutil.rmtree(target, ignore_errors=True)
        render_profile(profile, target)
        print(f"wrote {target.relative_to(TEMPLATE_ROOT)} ({len(tree(target))} files)")


if __name__ == "__main__":
    regenerate()
    sys.exit(0)
