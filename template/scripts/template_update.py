"""Keep this project on the latest release of its template: check, update, open a pull request.

- ``check`` (``make template-check``, and the CI's drift job) asks Copier (``copier
  check-update``) whether the template recorded in ``.copier-answers.yml`` has a newer release,
  and says so in the form the CI platform shows: a warning annotation and a job summary on GitHub
  Actions, a plain report on GitLab CI and in a terminal. The report names both versions and
  lists the CHANGELOG sections in between, linked when the template lives on GitHub or GitLab. A
  newer release is not an error: the exit status is 0 unless ``--outdated-status N`` asks for
  another one (GitLab shows an allowed failure with that status as a warning).
- ``update`` (``make template-update``) runs ``copier update`` on a clean work tree, leaving
  conflict markers inline; on a project already on the latest release it does nothing.
- ``conflicts`` (``make template-conflicts``) lists the files holding conflict markers and the
  ``*.rej`` files; it exits 1 when there are any.
- ``pr`` (the scheduled template-update workflow) does nothing when the project is current.
  Otherwise it runs the same update on a fresh ``template-update`` branch, commits the result,
  conflict markers included, pushes it and opens, or refreshes, one pull request (GitHub) or merge
  request (GitLab) listing the files with conflicts and the CHANGELOG sections in between. While
  that request is open it never replaces a branch that holds commits of someone else's.

Standard library only. ``COPIER`` names the Copier command (default: ``uvx --with
copier-template-extensions copier``, as in the Makefile).
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
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DEFAULT_COPIER = "uvx --with copier-template-extensions copier"
TOKENS = ("GITHUB_TOKEN", "GH_TOKEN", "TEMPLATE_UPDATE_TOKEN", "CI_JOB_TOKEN")
ANSWERS_FILE = ".copier-answers.yml"
_HOSTS = {"gh:": "https://github.com/", "gl:": "https://gitlab.com/"}
_SECTION = re.compile(r"^## (\d+(?:\.\d+)*)\b(.*)$", re.M)
_HEADING = re.compile(r"^## ", re.M)


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
    """The Copier command, from ``COPIER``."""
    return shlex.split(os.environ.get("COPIER", DEFAULT_COPIER))


def copier_env() -> dict[str, str]:
    """The environment Copier runs in: this one without the platform tokens, as Copier runs the
    template's own code."""
    return {key: value for key, value in os.environ.items() if key not in TOKENS}


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
    done = subprocess.run(
        command, cwd=project, env=copier_env(), capture_output=True, text=True, check=False
    )
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
    headings = [match.start() for match in _HEADING.finditer(text)] + [len(text)]
    sections = []
    for match in _SECTION.finditer(text):
        version = match.group(1)
        if not version_key(after) < version_key(version) <= version_key(up_to):
            continue
        end = next(start for start in headings if start > match.start())  # any "## " heading
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


def release_notes(drift: Drift, source: str, sections: list[Section]) -> list[str]:
    """The CHANGELOG sections as Markdown lines, each release a level-3 heading."""
    lines: list[str] = []
    page = web_url(source)
    for section in sections:
        title = section.heading
        if page is not None:
            title = f"[{title}]({page}/blob/v{drift.latest}/CHANGELOG.md#{anchor(title)})"
        body = re.sub(r"^(#+) ", r"#\1 ", section.body, flags=re.M)  # below the release's
        lines += ["", f"### {title}", "", body]
    if not sections:
        lines += ["", "(The template's CHANGELOG could not be read.)"]
    return lines


def report(drift: Drift, source: str, sections: list[Section]) -> str:
    """The Markdown report of ``drift``."""
    if not drift.update_available:
        return f"The project is on the latest template release, {drift.latest} ({source})."
    lines = [
        f"Template release {drift.latest} is out; this project is on {drift.current}.",
        "",
        f"Template: {source}. Update with `make template-update` (see docs/updating.md).",
        *release_notes(drift, source, sections),
    ]
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


def release_sections(project: Path, source: str, drift: Drift) -> list[Section]:
    """The CHANGELOG sections between the project's release and the latest one."""
    if not drift.update_available:
        return []
    changelog = template_changelog(project, source, drift.latest)
    if changelog is None:
        return []
    return changelog_sections(changelog, drift.current, drift.latest)


# --- update --------------------------------------------------------------------------------------

UPDATE_ARGS = ["update", "--trust", "--defaults", "--conflict", "inline"]
_MARKER = re.compile(r"^(<<<<<<<|>>>>>>>)( |$)", re.M)
_CREDENTIALS = re.compile(r"://[^/@\s]+@")  # a token in a remote's URL, kept out of the logs


def redact(text: str) -> str:
    """``text`` without the credentials of any URL in it."""
    return _CREDENTIALS.sub("://", text)


def git(project: Path, *args: str, env: dict[str, str] | None = None) -> str:
    """Run git in ``project``; its output, or a :class:`DriftError` naming the command."""
    done = subprocess.run(
        ["git", *args], cwd=project, env=env, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        said = redact(done.stderr.strip() or done.stdout.strip())
        raise DriftError(f"git {args[0]} failed: {said}")
    return done.stdout


def changed_files(project: Path) -> list[str]:
    """Files ``git status`` shows as changed or new (untracked files one by one)."""
    status = git(project, "status", "--porcelain", "-z", "--untracked-files=all")
    entries = iter(status.split("\0"))
    paths = []
    for entry in entries:
        if not entry:
            continue
        paths.append(entry[3:])
        if entry[0] in "RC":  # a rename or copy: its source path follows
            next(entries, None)
    return paths


def project_files(project: Path) -> list[str]:
    """Every file git sees in ``project``: tracked, and untracked but not ignored."""
    listed = git(project, "ls-files", "--cached", "--others", "--exclude-standard", "-z")
    return sorted(set(listed.split("\0")) - {""})


def conflicts(project: Path, paths: list[str] | None = None) -> list[str]:
    """Of ``paths`` (default: every file of the project), those holding conflict markers, and
    the ``*.rej`` files: what an update could not merge."""
    found = []
    for path in project_files(project) if paths is None else paths:
        file = project / path
        if path.endswith(".rej"):
            found.append(path)
        elif file.is_file() and not file.is_symlink():
            try:
                text = file.read_text(encoding="utf-8")
            except (UnicodeDecodeError, OSError):
                continue
            if _MARKER.search(text):
                found.append(path)
    return sorted(found)


def require_clean(project: Path) -> None:
    """Refuse a work tree with changes or untracked files: an update must be undoable."""
    if git(project, "status", "--porcelain", "--untracked-files=all"):
        raise DriftError("the work tree has changes; commit or stash them first")


def update(project: Path, env: dict[str, str] | None = None, force: bool = False) -> list[str]:
    """``copier update`` in ``project`` (which must be clean); the files left in conflict.

    Unless ``force``, a project that ``copier check-update`` finds on the latest release is left
    as it is: Copier would render the template three times to change nothing (rendering is
    reproducible, no migration falls between a release and itself, and the template's tasks run
    on copies only). When the check cannot tell, the update runs.
    """
    require_clean(project)
    if not force:
        try:
            drift = check(project)
        except DriftError:
            drift = None
        if drift is not None and not drift.update_available:
            print(f"The project is on the latest template release, {drift.latest}: no update.")
            return []
    command = [*copier_command(), *UPDATE_ARGS]
    if subprocess.run(command, cwd=project, env=env or copier_env(), check=False).returncode:
        raise DriftError(f"{shlex.join(command)} failed (see above)")
    return conflicts(project, changed_files(project))


# --- pull requests -------------------------------------------------------------------------------

BRANCH = "template-update"
TRAILER = "Template-Update-Bot"  # "<release> <tree>": a commit ``pr`` made, as it made it
WORKFLOWS = ".github/workflows/"
BODY_LIMIT = 60_000  # GitHub refuses a description of more than 65,536 characters


class Platform:
    """Where pull requests live: the one request per branch, found, opened or edited."""

    name = "platform"

    push_user = ""
    """The user name a token pushes as, in a URL."""

    def __init__(self, api: str, token: str, server: str | None, path: str | None) -> None:
        self.api = api.rstrip("/")
        self.token = token
        self.server = server  # e.g. https://github.com; no server: push to ``origin``
        self.path = path  # the repository's path on the server
        self.push_token = token

    holds_workflows = False
    """Whether pushes with this platform's token may not change ``.github/workflows/``."""

    def headers(self) -> dict[str, str]:
        """The authentication headers of every call."""
        raise NotImplementedError

    def request(self, method: str, path: str, payload: dict[str, Any] | None = None) -> Any:
        """One JSON call to the platform's REST API."""
        data = None if payload is None else json.dumps(payload).encode()
        call = urllib.request.Request(self.api + path, data=data, method=method)
        for header, value in {**self.headers(), "Content-Type": "application/json"}.items():
            call.add_header(header, value)
        try:
            with urllib.request.urlopen(call, timeout=30) as answer:
                body = answer.read()
        except urllib.error.HTTPError as error:
            detail = error.read().decode(errors="replace")[:500]
            problem = f"{self.name} said {error.code} to {method} {path}: {detail}"
            raise DriftError(problem) from error
        except (urllib.error.URLError, TimeoutError) as error:
            raise DriftError(f"{self.name} API at {self.api} is unreachable: {error}") from error
        return json.loads(body) if body.strip() else None

    def find(self, branch: str) -> str | None:
        """The open request from ``branch`` (into whichever branch), by its number."""
        raise NotImplementedError

    def open(self, branch: str, base: str, title: str, body: str) -> str:
        """Open a request from ``branch`` into ``base``; its web address."""
        raise NotImplementedError

    def edit(self, number: str, title: str, body: str) -> str:
        """Give request ``number`` a new title and description; its web address."""
        raise NotImplementedError

    def started(self, branch: str) -> None:
        """Start what checks the new commit on ``branch`` (nothing by default)."""

    def push_url(self) -> str:
        """Where the branch is pushed: a URL with the token, as the checkout keeps none (the
        template's code runs in the project); ``origin`` when the server is unknown."""
        if not self.server or not self.path:
            return "origin"
        scheme, _, host = self.server.partition("://")
        return f"{scheme}://{self.push_user}:{self.push_token}@{host}/{self.path}.git"


class GitHub(Platform):
    """Pull requests through the REST API, with the workflow's ``GITHUB_TOKEN``."""

    name = "GitHub"
    push_user = "x-access-token"

    def __init__(
        self,
        api: str,
        token: str,
        repository: str,
        workflow: str | None,
        server: str | None = None,
        pusher: str | None = None,
    ) -> None:
        super().__init__(api, token, server, repository)
        self.repository = repository
        self.workflow = workflow
        self.push_token = pusher or token
        # GITHUB_TOKEN can push no change to a workflow; a token with the workflow scope (a
        # TEMPLATE_UPDATE_TOKEN secret) can.
        self.holds_workflows = pusher is None

    @classmethod
    def from_env(cls, workflow: str | None) -> GitHub:
        token = os.environ.get("GITHUB_TOKEN") or os.environ.get("GH_TOKEN")
        repository = os.environ.get("GITHUB_REPOSITORY")
        if not token or not repository:
            raise DriftError("GITHUB_TOKEN and GITHUB_REPOSITORY must be set")
        api = os.environ.get("GITHUB_API_URL", "https://api.github.com")
        server = os.environ.get("GITHUB_SERVER_URL")
        pusher = os.environ.get("TEMPLATE_UPDATE_TOKEN") or None
        return cls(api, token, repository, workflow, server, pusher)

    def headers(self) -> dict[str, str]:
        return {
            "Authorization": f"Bearer {self.token}",
            "Accept": "application/vnd.github+json",
            "X-GitHub-Api-Version": "2022-11-28",
        }

    def find(self, branch: str) -> str | None:
        owner = self.repository.split("/")[0]
        query = urllib.parse.urlencode({"state": "open", "head": f"{owner}:{branch}"})
        found = self.request("GET", f"/repos/{self.repository}/pulls?{query}")
        return str(found[0]["number"]) if found else None

    def open(self, branch: str, base: str, title: str, body: str) -> str:
        payload = {"title": title, "head": branch, "base": base, "body": body}
        opened = self.request("POST", f"/repos/{self.repository}/pulls", payload)
        return str(opened["html_url"])

    def edit(self, number: str, title: str, body: str) -> str:
        payload = {"title": title, "body": body}
        edited = self.request("PATCH", f"/repos/{self.repository}/pulls/{number}", payload)
        return str(edited["html_url"])

    def started(self, branch: str) -> None:
        # Pushes made with GITHUB_TOKEN start no workflow; a dispatch does, and the pull request
        # shows its checks.
        if self.workflow:
            path = f"/repos/{self.repository}/actions/workflows/{self.workflow}/dispatches"
            self.request("POST", path, {"ref": branch})


class GitLab(Platform):
    """Merge requests through the REST API, with a project access token (the job token can
    neither push nor open merge requests)."""

    name = "GitLab"
    push_user = "oauth2"

    def __init__(
        self, api: str, token: str, project: str, server: str | None, path: str | None
    ) -> None:
        super().__init__(api, token, server, path)
        self.project = urllib.parse.quote(project, safe="")

    @classmethod
    def from_env(cls) -> GitLab:
        token = os.environ.get("TEMPLATE_UPDATE_TOKEN")
        api = os.environ.get("CI_API_V4_URL")
        project = os.environ.get("CI_PROJECT_ID")
        if not token or not api or not project:
            raise DriftError(
                "TEMPLATE_UPDATE_TOKEN (a project access token), CI_API_V4_URL and "
                "CI_PROJECT_ID must be set"
            )
        server = os.environ.get("CI_SERVER_URL")
        return cls(api, token, project, server, os.environ.get("CI_PROJECT_PATH"))

    def headers(self) -> dict[str, str]:
        return {"PRIVATE-TOKEN": self.token}

    def find(self, branch: str) -> str | None:
        query = urllib.parse.urlencode({"state": "opened", "source_branch": branch})
        found = self.request("GET", f"/projects/{self.project}/merge_requests?{query}")
        return str(found[0]["iid"]) if found else None

    def open(self, branch: str, base: str, title: str, body: str) -> str:
        payload = {
            "source_branch": branch, "target_branch": base, "title": title,
            "description": body, "remove_source_branch": True,
        }  # fmt: skip
        opened = self.request("POST", f"/projects/{self.project}/merge_requests", payload)
        return str(opened["web_url"])

    def edit(self, number: str, title: str, body: str) -> str:
        payload = {"title": title, "description": body}
        path = f"/projects/{self.project}/merge_requests/{number}"
        return str(self.request("PUT", path, payload)["web_url"])


def platform_from_env(workflow: str | None) -> Platform:
    """GitLab in a GitLab CI job, else GitHub; configured from the CI's variables."""
    if os.environ.get("GITLAB_CI") == "true":
        return GitLab.from_env()
    return GitHub.from_env(workflow)


def update_env(project: Path) -> dict[str, str]:
    """The environment of the update: no platform token (the template's code runs in it), and
    a git user when git knows nobody (a CI runner): the CI's user on GitLab, else the Actions
    bot."""
    env = copier_env()
    known = subprocess.run(
        ["git", "config", "user.email"], cwd=project, capture_output=True, text=True, check=False
    )
    if known.stdout.strip():
        return env
    name = os.environ.get("GITLAB_USER_NAME", "github-actions[bot]")
    email = os.environ.get(
        "GITLAB_USER_EMAIL", "41898282+github-actions[bot]@users.noreply.github.com"
    )
    return env | {
        "GIT_CONFIG_COUNT": "2",
        "GIT_CONFIG_KEY_0": "user.name",
        "GIT_CONFIG_VALUE_0": name,
        "GIT_CONFIG_KEY_1": "user.email",
        "GIT_CONFIG_VALUE_1": email,
    }


@dataclass(frozen=True)
class Held:
    """Workflow files the update changed but the platform's token may not push."""

    paths: list[str]
    patch: str


def hold_back_workflows(project: Path) -> Held:
    """Take the update's changes to ``.github/workflows/`` out of the index (all changes are
    added); what they were, as a patch."""
    paths = git(project, "diff", "--cached", "--name-only", "HEAD", "--", WORKFLOWS).split()
    if not paths:
        return Held([], "")
    patch = git(project, "diff", "--cached", "--binary", "HEAD", "--", WORKFLOWS)
    git(project, "reset", "--quiet", "HEAD", "--", WORKFLOWS)
    return Held(paths, patch)


def is_bots(project: Path, commit: str) -> bool:
    """Whether ``commit`` is one ``pr`` made, unchanged: its trailer names its own tree (an
    amended or rebased commit keeps the trailer but not the tree)."""
    message = git(project, "log", "-1", "--format=%B", commit)
    recorded = re.findall(rf"^{TRAILER}: \S+ ([0-9a-f]+)$", message, re.M)
    tree = git(project, "rev-parse", commit + "^{tree}").strip()
    return bool(recorded) and recorded[-1] == tree


def pull_request_body(
    drift: Drift, source: str, sections: list[Section], conflicted: list[str], held: Held
) -> str:
    """What the update request says: the conflicts to resolve, the workflow changes to apply
    by hand, then the template's changes. Kept under the platforms' size limit."""
    lines = [
        f"Template release {drift.latest} is out; this project is on {drift.current}. This "
        "branch holds what `make template-update` gives (`copier update --defaults --conflict "
        f"inline`, template: {source}).",
        "",
        "## Conflicts",
        "",
    ]
    if conflicted:
        lines.append(
            "Your edits and the template's changes meet in these files. Resolve the conflict "
            "markers (`<<<<<<<` ... `>>>>>>>`) or apply the `*.rej` hunks, then push a new "
            "commit to this branch:"
        )
        lines += [""]
        for path in conflicted:
            where = " (in the workflow patch below)" if path in held.paths else ""
            lines.append(f"- `{path}`{where}")
    else:
        lines.append("None: the update applied cleanly.")
    if held.paths:
        lines += [
            "",
            "## Workflow changes to apply by hand",
            "",
            "The workflow's own token may not push changes to `.github/workflows/`, so these are "
            "not on this branch. Apply them before merging (`git apply` the patch below on this "
            "branch, then commit): once merged, the project counts as updated and no later "
            "update brings them again. A `TEMPLATE_UPDATE_TOKEN` secret lets the bot push them "
            "(docs/updating.md).",
            "",
            *(f"- `{path}`" for path in held.paths),
        ]
        if len(held.patch) < BODY_LIMIT // 2:
            lines += ["", "```diff", held.patch.rstrip("\n"), "```"]
        else:
            lines += [
                "",
                "(The patch is too long to show. On the base branch, run `python3 "
                "scripts/template_update.py update` and `git diff -- .github/workflows/ > "
                "workflows.patch`, discard the rest, then `git apply workflows.patch` here.)",
            ]
    notes = release_notes(drift, source, sections)
    if sum(len(line) + 1 for line in lines + notes) > BODY_LIMIT:
        notes = ["", f"(Too long to show here: read the template's CHANGELOG, {source}.)"]
    lines += ["", "## Template changes", *notes]
    lines += [
        "",
        "---",
        "Opened by `scripts/template_update.py pr`. Later runs refresh this branch while its "
        "newest commit is the bot's, and leave it alone once you push to it.",
    ]
    return "\n".join(lines) + "\n"


def remote_tip(project: Path, remote: str, branch: str) -> str | None:
    """The commit ``branch`` points to on ``remote``, fetched; ``None`` when it does not exist."""
    listed = git(project, "ls-remote", remote, f"refs/heads/{branch}").split()
    if not listed:
        return None
    shallow = git(project, "rev-parse", "--is-shallow-repository").strip() == "true"
    depth = ["--depth", "1"] if shallow else []  # never make a full clone shallow
    git(project, "fetch", "--quiet", *depth, remote, f"refs/heads/{branch}")
    return listed[0]


def pull_request(project: Path, platform: Platform, base: str, branch: str = BRANCH) -> int:
    """Open or refresh the update request when a newer release is out (see the module doc)."""
    if base == branch:
        raise DriftError(f"the update cannot start from its own branch, {branch}")
    source = template_source(project)
    drift = check(project)
    if not drift.update_available:
        print(f"The project is on the latest template release, {drift.latest}; nothing to do.")
        return 0
    require_clean(project)  # what the finally clause below throws away is the update's alone
    current = git(project, "branch", "--show-current").strip()
    if current and current != base:
        raise DriftError(f"the update starts from {base}, but {current} is checked out")
    remote = platform.push_url()
    tip = remote_tip(project, remote, branch)
    number = platform.find(branch)
    if tip is not None and number is not None and not is_bots(project, tip):
        print(
            f"Branch {branch} holds commits that are not the bot's and its request is open; "
            "it is left alone. Merge the request, or delete the branch, for the next run to "
            "propose this release."
        )
        return 0
    start = current or git(project, "rev-parse", "HEAD").strip()
    env = update_env(project)
    git(project, "checkout", "--quiet", "--detach")
    pushed = False
    try:
        conflicted = update(project, env=env, force=True)  # checked above
        git(project, "add", "--all")
        held = hold_back_workflows(project) if platform.holds_workflows else Held([], "")
        tree = git(project, "write-tree").strip()
        message = (
            f"Update the template to {drift.latest}\n\n"
            f"From {drift.current} to {drift.latest}: copier update --defaults --conflict inline."
            + (f"\nConflicts: {', '.join(conflicted)}." if conflicted else "")
            + (f"\nHeld back: {', '.join(held.paths)}." if held.paths else "")
            + f"\n\n{TRAILER}: {drift.latest} {tree}\n"
        )
        git(project, "commit", "--quiet", "--no-verify", "-m", message, env=env)
        if tip is not None and git(project, "rev-parse", tip + "^{tree}").strip() == tree:
            print(f"Branch {branch} already holds this update.")
        else:
            lease = f"--force-with-lease=refs/heads/{branch}:{tip or ''}"
            git(project, "push", "--quiet", lease, remote, f"HEAD:refs/heads/{branch}")
            pushed = True
    finally:
        git(project, "reset", "--quiet", "--hard")
        git(project, "clean", "--quiet", "--force", "-d")
        git(project, "checkout", "--quiet", start, "--")
    title = f"Update the template to {drift.latest}"
    sections = release_sections(project, source, drift)
    body = pull_request_body(drift, source, sections, conflicted, held)
    url = platform.edit(number, title, body) if number else platform.open(branch, base, title, body)
    noun = "file" if len(conflicted) == 1 else "files"
    print(f"{title}: {url}" + (f" ({len(conflicted)} {noun} with conflicts)" if conflicted else ""))
    if pushed or number is None:  # a new commit, or a request its checks never reached
        try:
            platform.started(branch)
        except DriftError as error:  # the request stands; its checks can be started by hand
            print(f"template pr: the checks did not start: {error}", file=sys.stderr)
    return 0


def default_base(project: Path) -> str:
    """The branch the update starts from: the CI's branch, else the checked-out one."""
    for name in ("GITHUB_REF_NAME", "CI_COMMIT_BRANCH"):
        if os.environ.get(name):
            return os.environ[name]
    current = git(project, "branch", "--show-current").strip()
    if not current:
        raise DriftError("HEAD is detached: name the branch to update with --base")
    return current


def list_conflicts(project: Path) -> int:
    """Print the files left in conflict (``make template-conflicts``); 1 when there are any."""
    found = conflicts(project)
    if not found:
        print("No conflicts.")
        return 0
    print("Resolve these files, then commit:")
    print("\n".join(f"./{path}" for path in found))
    return 1


def main(argv: list[str] | None = None) -> int:
    """The command line; its exit status."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=["check", "update", "conflicts", "pr"])
    parser.add_argument("--project", type=Path, default=Path.cwd())
    parser.add_argument(
        "--outdated-status", type=int, default=0, help="check: exit status when a release is newer"
    )
    parser.add_argument(
        "--force", action="store_true", help="update: run copier update even when current"
    )
    parser.add_argument("--base", help="pr: the branch to update (default: the current one)")
    parser.add_argument(
        "--dispatch", metavar="WORKFLOW", help="pr, GitHub: a workflow file to start on the branch"
    )
    args = parser.parse_args(argv)
    try:
        if args.action == "update":
            update(args.project, force=args.force)
            return 0
        if args.action == "conflicts":
            return list_conflicts(args.project)
        if args.action == "pr":
            platform = platform_from_env(args.dispatch)
            return pull_request(args.project, platform, args.base or default_base(args.project))
        source = template_source(args.project)
        drift = check(args.project)
    except DriftError as error:
        print(f"template {args.action}: {error}", file=sys.stderr)
        return 1
    announce(drift, report(drift, source, release_sections(args.project, source, drift)))
    return args.outdated_status if drift.update_available else 0


if __name__ == "__main__":
    sys.exit(main())
