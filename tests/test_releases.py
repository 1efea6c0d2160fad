"""Release tags that travel: ``python -m extensions.releases tag`` rebuilds them in a clone."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import copier
import yaml

from extensions.releases import recorded_releases
from tests.conftest import TEMPLATE_ROOT
from tests.releases import git


def tag_command(clone: Path) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "extensions.releases", "tag", "--repo", str(clone)]
    return subprocess.run(command, cwd=TEMPLATE_ROOT, capture_output=True, text=True, check=False)


def tagless_clone(destination: Path, ref: str) -> Path:
    """A clone of the template checked out at ``ref``, with every tag deleted."""
    git(TEMPLATE_ROOT, "clone", "--quiet", "--no-hardlinks", str(TEMPLATE_ROOT), str(destination))
    git(destination, "checkout", "--quiet", "--detach", ref)
    for tag in git(destination, "tag", "--list").split():
        git(destination, "tag", "--delete", tag)
    return destination


def recorded_commit(project: Path) -> str:
    answers = yaml.safe_load((project / ".copier-answers.yml").read_text(encoding="utf-8"))
    return str(answers["_commit"])


def generate(template: Path, destination: Path) -> Path:
    """``copier copy`` as a user runs it: no ``--vcs-ref``, so Copier takes the latest release
    tag, or HEAD when the template has none."""
    copier.run_copy(
        str(template), str(destination), defaults=True, unsafe=True, quiet=True, skip_tasks=True
    )
    return destination


def test_generating_from_a_tagless_clone_records_a_release_once_the_tags_are_rebuilt(
    tmp_path: Path,
) -> None:
    latest = recorded_releases()[-1]
    clone = tagless_clone(tmp_path / "template", "HEAD")
    before = generate(clone, tmp_path / "before")
    assert not recorded_commit(before).startswith("v")  # without tags, Copier records a hash

    made = tag_command(clone)
    assert made.returncode == 0, made.stderr
    assert f"created {latest.tag}" in made.stdout
    for release in recorded_releases():
        assert git(clone, "rev-parse", f"{release.tag}^{{commit}}").strip() == release.commit
    after = generate(clone, tmp_path / "after")
    assert recorded_commit(after) == latest.tag

    again = tag_command(clone)  # idempotent: nothing left to create
    assert again.returncode == 0
    assert "created" not in again.stdout.replace("0 created", "")


def test_a_tag_on_another_commit_is_refused_and_nothing_is_created(tmp_path: Path) -> None:
    releases = recorded_releases()
    clone = tagless_clone(tmp_path / "template", releases[-1].commit)
    git(clone, "tag", releases[0].tag, releases[1].commit)  # a wrong tag
    refused = tag_command(clone)
    assert refused.returncode == 1
    assert f"{releases[0].tag} points at {releases[1].commit}" in refused.stderr
    assert git(clone, "tag", "--list").split() == [releases[0].tag]
