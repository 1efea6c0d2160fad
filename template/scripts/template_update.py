"""Is this project on the latest release of its template? (``make template-check``, and CI.)

``python scripts/template_update.py check`` asks Copier (``copier check-update``) whether the
template recorded in ``.copier-answers.yml`` has a newer release, and says so in the form the CI
platform shows: a warning annotation and a job summary on GitHub Actions, a plain report on
GitLab CI and in a terminal. The report names both versions and lists the CHANGELOG sections in
between, linked when the template lives on GitHub or GitLab. A newer release is not an error: the
exit status is 0 unless ``--outdated-status N`` asks for another one (GitLab shows an allowed
failure with that status as a warning). Standard library only; ``COPIER`` names the Copier
command (default: ``uvx --with copier-template-extensions copier``, as in the Makefile).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shlex
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

DEFAULT_COPIER = "uvx --with copier-template-extensions copier"
ANSWERS_FILE = ".copier-answers.yml"
_HOSTS = {"gh:": "https://github.com/", "gl:": "https://gitlab.com/"}
_SECTION = re.compile(r"^## (\d+(?:\.\d+)*)\b(.*)$", re.M)


class DriftError(Exception):
    """The check could not be made (no answers file, Copier failed, ...)."""


@dataclass(frozen=True)
class Drift:
    """What ``copier check-update`` found."""

    current: str
    latest: str
    update_available: bool


@dataclass(frozen=True)
class Section:
    """One release's section of the template's CHANGELOG."""

    version: str
    heading: str
    body: str


def copier_command() -> list[str]:
    return shlex.split(os.environ.get("COPIER", DEFAULT_COPIER))


def template_source(project: Path) -> str:
    """The template's ``_src_path`` as the answers file records it."""
    path = project / ANSWERS_FILE
    if not path.is_file():
        raise DriftError(f"{ANSWERS_FILE} not found in {project}")
    for line in path.read_text(encoding="utf-8").splitlines():
        key, colon, value = line.partition(":")
        if colon and key.strip() == "_src_path":
            return value.strip().strip("'\"")
    raise DriftError(f"{ANSWERS_FILE} records no _src_path: where is the template?")


def check(project: Path) -> Drift:
    """Run ``copier check-update`` in ``project``."""
    command = [*copier_command(), "check-update", "--output-format", "json"]
    done = subprocess.run(command, cwd=project, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise DriftError(f"copier check-update failed: {done.stderr.strip() or done.stdout}")
    try:
        report = json.loads(done.stdout.strip().splitlines()[-1])
        return Drift(
            str(report["current_version"]),
            str(report["latest_version"]),
            bool(report["update_available"]),
        )
    except (IndexError, KeyError, ValueError) as error:
        raise DriftError(f"copier check-update said {done.stdout!r}") from error


def repository_url(source: str) -> str:
    """``source`` (``_src_path``) as something ``git clone`` takes."""
    for prefix, host in _HOSTS.items():
        if source.startswith(prefix):
            return host + source.removeprefix(prefix)
    return source


def web_url(source: str) -> str | None:
    """The template's web page when it lives on GitHub or GitLab, else ``None``."""
    url = repository_url(source).removesuffix(".git")
    if url.startswith(("https://github.com/", "https://gitlab.com/")):
        return url
    return None


def version_key(version: str) -> tuple[int, ...]:
    """The release part of a PEP 440 version (``0.11.0.post2.dev0+g1a2b3c`` -> (0, 11, 0))."""
    release = re.match(r"\d+(?:\.\d+)*", version)
    return tuple(int(part) for part in release.group(0).split(".")) if release else ()


def changelog_sections(text: str, after: str, up_to: str) -> list[Section]:
    """The sections of releases newer than ``after`` and not newer than ``up_to``, newest
    first."""
    matches = list(_SECTION.finditer(text))
    sections = []
    for index, match in enumerate(matches):
        version = match.group(1)
        if not version_key(after) < version_key(version) <= version_key(up_to):
            continue
        end = matches[index + 1].start() if index + 1 < len(matches) else len(text)
        body = text[match.end() : end].strip()
        sections.append(Section(version, match.group(0)[3:].strip(), body))
    return sorted(sections, key=lambda section: version_key(section.version), reverse=True)


def template_changelog(project: Path, source: str, version: str) -> str | None:
    """The template's CHANGELOG.md at release ``version`` (``None`` when it cannot be read);
    a relative ``source`` is relative to ``project``."""
    with tempfile.TemporaryDirectory() as folder:
        clone = [
            "git", "clone", "--quiet", "--depth", "1", "--branch", f"v{version}",
            repository_url(source), folder,
        ]  # fmt: skip
        done = subprocess.run(clone, cwd=project, capture_output=True, text=True, check=False)
        changelog = Path(folder) / "CHANGELOG.md"
        if done.returncode != 0 or not changelog.is_file():
            return None
        return changelog.read_text(encoding="utf-8")


def anchor(heading: str) -> str:
    """The anchor GitHub and GitLab give a Markdown heading."""
    kept = re.sub(r"[^\w\- ]", "", heading.lower())
    return kept.replace(" ", "-")


def report(drift: Drift, source: str, sections: list[Section]) -> str:
    """The Markdown report of ``drift``."""
    if not drift.update_available:
        return f"The project is on the latest template release, {drift.latest} ({source})."
    lines = [
        f"Template release {drift.latest} is out; this project is on {drift.current}.",
        "",
        f"Template: {source}. Update with `make template-update` (see docs/updating.md).",
    ]
    page = web_url(source)
    for section in sections:
        title = section.heading
        if page is not None:
            title = f"[{title}]({page}/blob/v{drift.latest}/CHANGELOG.md#{anchor(title)})"
        body = re.sub(r"^(#+) ", r"#\1 ", section.body, flags=re.M)  # below the release's
        lines += ["", f"### {title}", "", body]
    if not sections:
        lines += ["", "(The template's CHANGELOG could not be read.)"]
    return "\n".join(lines) + "\n"


def announce(drift: Drift, text: str) -> None:
    """Print ``text``, plus a GitHub warning annotation and job summary on GitHub Actions."""
    print(text)
    if os.environ.get("GITHUB_ACTIONS") != "true":
        return
    if drift.update_available:
        title = "Template update available"
        print(f"::warning title={title}::template {drift.current} -> {drift.latest}")
    summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if summary:
        with open(summary, "a", encoding="utf-8") as out:
            out.write(f"## Template updates\n\n{text}\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=["check"])
    parser.add_argument("--project", type=Path, default=Path.cwd())
    parser.add_argument(
        "--outdated-status", type=int, default=0, help="exit status when a release is newer"
    )
    args = parser.parse_args(argv)
    try:
        source = template_source(args.project)
        drift = check(args.project)
    except DriftError as error:
        print(f"template check: {error}", file=sys.stderr)
        return 1
    sections: list[Section] = []
    if drift.update_available:
        changelog = template_changelog(args.project, source, drift.latest)
        if changelog is not None:
            sections = changelog_sections(changelog, drift.current, drift.latest)
    announce(drift, report(drift, source, sections))
    return args.outdated_status if drift.update_available else 0


if __name__ == "__main__":
    sys.exit(main())
