"""A fresh rendering of each canonical profile equals its committed golden snapshot."""

from __future__ import annotations

import difflib
from pathlib import Path

import pytest

from tests.golden import GOLDEN_PROFILES, GOLDEN_ROOT, render_profile, tree


@pytest.mark.parametrize("profile", GOLDEN_PROFILES)
def test_rendering_matches_the_golden_snapshot(tmp_path: Path, profile: str) -> None:
    rendered = tree(render_profile(profile, tmp_path / profile))
    golden = tree(GOLDEN_ROOT / profile)
    hint = "template output changed: run `python -m tests.golden` and commit tests/golden/"
    assert sorted(rendered) == sorted(golden), hint
    changed = [name for name in rendered if rendered[name] != golden[name]]
    diffs = [
        "".join(
            difflib.unified_diff(
                golden[name].decode().splitlines(keepends=True),
                rendered[name].decode().splitlines(keepends=True),
                f"golden/{name}",
                f"rendered/{name}",
            )
        )
        for name in changed[:3]
    ]
    assert changed == [], hint + "\n" + "\n".join(diffs)
