"""A fresh rendering of each canonical profile equals its committed golden snapshot."""

from __future__ import annotations

import difflib
from pathlib import Path

import pytest

from tests.golden import GOLDEN_PROFILES, golden_file, render_profile, snapshot


@pytest.mark.parametrize("profile", GOLDEN_PROFILES)
def test_rendering_matches_the_golden_snapshot(tmp_path: Path, profile: str) -> None:
    rendered = snapshot(render_profile(profile, tmp_path / profile))
    golden = golden_file(profile).read_text(encoding="utf-8")
    diff = "".join(
        difflib.unified_diff(
            golden.splitlines(keepends=True),
            rendered.splitlines(keepends=True),
            f"golden/{profile}.txt",
            "rendered",
            n=2,
        )
    )
    assert not diff, (
        "template output changed: run `python -m tests.golden` and commit tests/golden/\n"
        + diff[:6000]
    )
