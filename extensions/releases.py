"""The template's releases as CHANGELOG.md records them, and the tags that mark them.

A release is a ``## X.Y.Z`` section of CHANGELOG.md with a ``Release commit: `<sha>``` line.
Tags do not always travel with a clone (a mirror, a fresh CI checkout), but Copier needs them:
``copier copy`` records the tag of HEAD as ``_commit`` when there is one, and ``copier update``
and ``copier check-update`` compare those tags. Recreate them in a clone with::

    python -m extensions.releases tag            # in the template's checkout
    python -m extensions.releases tag --repo DIR # in another clone

It creates each missing ``vX.Y.Z`` tag on its recorded commit, leaves tags that are already right
alone and refuses (exit 1, nothing changed) when a tag points elsewhere or a recorded commit is not
in the clone. ``python -m extensions.releases list`` prints the recorded releases.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
_SECTION = re.compile(r"(?=^## \d)", re.M)
_RELEASE = re.compile(r"^## (\d+)\.(\d+)\.(\d+)\b.*?^Release commit: `([0-9a-f]{40})`", re.M | re.S)


@dataclass(frozen=True)
class Release:
    """One recorded release: its version and its release commit."""

    version: str
    commit: str

    @property
    def tag(self) -> str:
        return f"v{self.version}"

    @property
    def key(self) -> tuple[int, ...]:
        return tuple(int(part) for part in self.version.split("."))


def recorded_releases(root: Path = ROOT) -> list[Release]:
    """The releases CHANGELOG.md in ``root`` records, oldest first."""
    changelog = (root / "CHANGELOG.md").read_text(encoding="utf-8")
    releases = []
    for section in _SECTION.split(changelog):
        match = _RELEASE.search(section)
        if match:
            major, minor, patch, commit = match.groups()
            releases.append(Release(f"{major}.{minor}.{patch}", commit))
    return sorted(releases, key=lambda release: release.key)


def _git(repo: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True, check=check)


def _tag_target(repo: Path, tag: str) -> str | None:
    found = _git(
        repo, "rev-parse", "--verify", "--quiet", f"refs/tags/{tag}^{{commit}}", check=False
    )
    return found.stdout.strip() if found.returncode == 0 else None


def _has_commit(repo: Path, commit: str) -> bool:
    return _git(repo, "cat-file", "-e", f"{commit}^{{commit}}", check=False).returncode == 0


def problems(repo: Path, releases: list[Release]) -> list[str]:
    """Why the tags of ``releases`` cannot all be made in ``repo`` (empty when they can)."""
    found = []
    for release in releases:
        if not _has_commit(repo, release.commit):
            found.append(f"{release.tag}: commit {release.commit} is not in this clone")
            continue
        target = _tag_target(repo, release.tag)
        if target is not None and target != release.commit:
            found.append(f"{release.tag} points at {target}, the release is {release.commit}")
    return found


def recreate_tags(repo: Path, releases: list[Release]) -> list[Release]:
    """Create the missing tags of ``releases`` in ``repo``; returns those created.

    Raises ``ValueError`` (creating nothing) when any tag cannot be made as recorded.
    """
    refused = problems(repo, releases)
    if refused:
        raise ValueError("; ".join(refused))
    created = []
    for release in releases:
        if _tag_target(repo, release.tag) is None:
            _git(repo, "tag", release.tag, release.commit)  # lightweight: needs no git identity
            created.append(release)
    return created


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m extensions.releases", description=__doc__)
    parser.add_argument("action", choices=["tag", "list"])
    parser.add_argument("--repo", type=Path, default=ROOT, help="the clone (default: this one)")
    args = parser.parse_args(argv)
    releases = recorded_releases(args.repo)
    if args.action == "list":
        for release in releases:
            print(f"{release.tag} {release.commit}")
        return 0
    try:
        created = recreate_tags(args.repo, releases)
    except ValueError as error:
        print(f"no tag created: {error}", file=sys.stderr)
        return 1
    for release in created:
        print(f"created {release.tag} at {release.commit[:12]}")
    print(f"{len(releases)} release tags present ({len(created)} created)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
