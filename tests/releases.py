"""The template's release history, rebuilt in a temporary clone (tags may not travel)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from packaging.version import Version

from extensions.releases import Release
from extensions.releases import recorded_releases as changelog_releases
from tests.conftest import TEMPLATE_ROOT, render

GIT_IDENTITY = {
    "GIT_AUTHOR_NAME": "Template Tests",
    "GIT_AUTHOR_EMAIL": "tests@example.invalid",
    "GIT_COMMITTER_NAME": "Template Tests",
    "GIT_COMMITTER_EMAIL": "tests@example.invalid",
}


def recorded_releases() -> list[Release]:
    """Releases listed in CHANGELOG.md with their recorded commits, oldest first."""
    return changelog_releases(TEMPLATE_ROOT)


def next_version(releases: list[Release]) -> str:
    """A version after every release: what the working tree is tagged as in the clone."""
    latest = Version(releases[-1].version)
    return f"{latest.major}.{latest.minor + 1}.0"


def git(cwd: Path, *args: str) -> str:
    env = {**os.environ, **GIT_IDENTITY}
    return subprocess.run(
        ["git", *args], cwd=cwd, env=env, capture_output=True, text=True, check=True
    ).stdout


def working_tree_files(root: Path) -> list[str]:
    listed = git(root, "ls-files", "--cached", "--others", "--exclude-standard", "-z")
    return [name for name in listed.split("\0") if name and (root / name).is_file()]


def build_history(destination: Path) -> tuple[Path, list[Release], str]:
    """Clone the template, tag every recorded release, and commit the working tree on top,
    tagged as the next version. Returns the clone, the releases and that next version."""
    releases = recorded_releases()
    git(
        TEMPLATE_ROOT.parent,
        "clone",
        "--quiet",
        "--no-hardlinks",
        str(TEMPLATE_ROOT),
        str(destination),
    )
    for release in releases:
        git(destination, "tag", "--force", release.tag, release.commit)
    for name in git(destination, "ls-files", "-z").split("\0"):
        if name:
            (destination / name).unlink(missing_ok=True)
    for name in working_tree_files(TEMPLATE_ROOT):
        target = destination / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(TEMPLATE_ROOT / name, target)
    git(destination, "add", "--all")
    git(destination, "commit", "--quiet", "--allow-empty", "-m", "working tree")
    upcoming = next_version(releases)
    git(destination, "tag", f"v{upcoming}")
    return destination, releases, upcoming


LATER = "99.0.0"
LATER_SECTION = f"""## {LATER} - 2026-12-24

A later release.

### Generated project

- The drift check lists this entry.

"""


def later_release(template: Path, version: str = LATER, section: str = LATER_SECTION) -> None:
    """Cut release ``version`` in the template clone: its CHANGELOG section, with whatever else
    the clone's work tree holds, committed and tagged."""
    changelog = template / "CHANGELOG.md"
    text = changelog.read_text(encoding="utf-8")
    first = text.index("\n## ") + 1
    changelog.write_text(text[:first] + section + text[first:], encoding="utf-8")
    git(template, "commit", "--quiet", "--all", "-m", f"release {version}")
    git(template, "tag", f"v{version}")


def project_on_newest_release(folder: Path) -> tuple[Path, Path, str]:
    """A release-history clone of the template in ``folder``, and a project generated from its
    newest release and committed. Returns the clone, the project and that release's version."""
    template, _, newest = build_history(folder / "template")
    project = render(folder / "project", template=template, ref=f"v{newest}")
    git(project, "add", "--all")
    git(project, "commit", "--quiet", "-m", "generate")
    return template, project, newest
