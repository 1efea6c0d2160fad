"""Update pull requests: ``scripts/template_update.py pr`` against a local template with a newer
release, a bare git remote, and a fake GitHub (or GitLab) REST API serving on localhost."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.conftest import generated_module, render
from tests.releases import GIT_IDENTITY, LATER, git, later_release, project_on_newest_release

TOKEN = "platform-token"
REPOSITORY = "acme/service"
BRANCH = "template-update"


@dataclass
class Call:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    payload: Any


@dataclass
class FakeGitHub:
    """The few REST endpoints the script calls, with pull requests kept in memory."""

    url: str = ""
    token: str = TOKEN
    fail_dispatch: bool = False
    calls: list[Call] = field(default_factory=list)
    pulls: dict[int, dict[str, Any]] = field(default_factory=dict)

    def answer(self, call: Call) -> tuple[int, Any]:
        if call.headers.get("authorization") != f"Bearer {self.token}":
            return 401, {"message": "Bad credentials"}
        pulls = f"/repos/{REPOSITORY}/pulls"
        if call.method == "GET" and call.path == pulls:
            owner, _, branch = call.query["head"][0].partition(":")
            found = [
                pull for pull in self.pulls.values()
                if pull["state"] == call.query["state"][0] and pull["head"] == branch
                and owner == "acme"
            ]  # fmt: skip
            return 200, found
        if call.method == "POST" and call.path == pulls:
            number = len(self.pulls) + 1
            html_url = f"https://github.example/{REPOSITORY}/pull/{number}"
            self.pulls[number] = {
                **call.payload, "number": number, "state": "open", "html_url": html_url,
            }  # fmt: skip
            return 201, self.pulls[number]
        if call.method == "PATCH" and call.path.startswith(pulls + "/"):
            pull = self.pulls[int(call.path.rsplit("/", 1)[1])]
            pull.update(call.payload)
            return 200, pull
        if call.method == "POST" and call.path.endswith("/dispatches"):
            return (500, {"message": "Server Error"}) if self.fail_dispatch else (204, None)
        return 404, {"message": "Not Found"}


@dataclass
class FakeGitLab:
    """The merge request endpoints, kept in memory."""

    url: str = ""
    calls: list[Call] = field(default_factory=list)
    requests: dict[int, dict[str, Any]] = field(default_factory=dict)

    def answer(self, call: Call) -> tuple[int, Any]:
        if call.headers.get("private-token") != TOKEN:
            return 401, {"message": "401 Unauthorized"}
        listing = "/api/v4/projects/group%2Fservice/merge_requests"
        if call.method == "GET" and call.path == listing:
            found = [
                request for request in self.requests.values()
                if request["source_branch"] == call.query["source_branch"][0]
                and call.query["state"] == ["opened"]
            ]  # fmt: skip
            return 200, found
        if call.method == "POST" and call.path == listing:
            iid = len(self.requests) + 1
            self.requests[iid] = {**call.payload, "iid": iid, "web_url": f"https://gl/mr/{iid}"}
            return 201, self.requests[iid]
        if call.method == "PUT" and call.path.startswith(listing + "/"):
            request = self.requests[int(call.path.rsplit("/", 1)[1])]
            request.update(call.payload)
            return 200, request
        return 404, {"message": "404 Not found"}


@contextmanager
def serving(platform: FakeGitHub | FakeGitLab) -> Iterator[None]:
    """``platform`` answering HTTP on a free local port (its ``url``) while in the block."""

    class Handler(BaseHTTPRequestHandler):
        def handle_one(self) -> None:
            parts = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            call = Call(
                self.command, parts.path, parse_qs(parts.query),
                {key.lower(): value for key, value in self.headers.items()},
                json.loads(body) if body else None,
            )  # fmt: skip
            platform.calls.append(call)
            status, answer = platform.answer(call)
            data = b"" if answer is None else json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PATCH = do_PUT = handle_one

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    platform.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def github() -> Iterator[FakeGitHub]:
    platform = FakeGitHub()
    with serving(platform):
        yield platform


@pytest.fixture
def gitlab() -> Iterator[FakeGitLab]:
    platform = FakeGitLab()
    with serving(platform):
        yield platform


@dataclass
class Setup:
    template: Path
    project: Path
    origin: Path
    base: str


@pytest.fixture
def setup(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Setup:
    """A template clone whose latest release the project is on, and the project pushed to a
    bare ``origin``."""
    for name, value in GIT_IDENTITY.items():
        monkeypatch.setenv(name, value)
    template, project, _ = project_on_newest_release(tmp_path)
    origin = tmp_path / "origin.git"
    git(tmp_path, "init", "--quiet", "--bare", str(origin))
    git(project, "remote", "add", "origin", str(origin))
    base = git(project, "branch", "--show-current").strip()
    git(project, "push", "--quiet", "origin", base)
    return Setup(template, project, origin, base)


def run_pr(
    setup: Setup, variables: dict[str, str], *options: str
) -> subprocess.CompletedProcess[str]:
    """``scripts/template_update.py pr`` in the project, with the CI ``variables`` alone."""
    env = {
        key: value for key, value in os.environ.items()
        if not key.startswith(("GITHUB_", "GITLAB_", "CI_"))
    }  # fmt: skip
    env |= {"COPIER": f"{sys.executable} -m copier", **variables}
    command = [sys.executable, "scripts/template_update.py", "pr", *options]
    return subprocess.run(command, cwd=setup.project, env=env, capture_output=True, text=True)


def open_requests(
    setup: Setup, platform: FakeGitHub, **variables: str
) -> subprocess.CompletedProcess[str]:
    """The pr command as the GitHub workflow runs it."""
    github = {
        "GITHUB_TOKEN": TOKEN,
        "GITHUB_REPOSITORY": REPOSITORY,
        "GITHUB_API_URL": platform.url,
    }
    return run_pr(setup, github | variables, "--dispatch", "ci.yml")


def remote_branch(setup: Setup) -> str | None:
    listed = git(setup.origin, "for-each-ref", "--format=%(objectname)", f"refs/heads/{BRANCH}")
    return listed.strip() or None


def shown(setup: Setup, path: str) -> str:
    return git(setup.origin, "show", f"{BRANCH}:{path}")


def assert_left_as_it_was(setup: Setup, head: str) -> None:
    assert git(setup.project, "branch", "--show-current").strip() == setup.base
    assert git(setup.project, "rev-parse", "HEAD").strip() == head
    assert git(setup.project, "status", "--porcelain") == ""


def test_a_current_project_gets_no_branch_and_no_request(setup: Setup, github: FakeGitHub) -> None:
    head = git(setup.project, "rev-parse", "HEAD").strip()
    result = open_requests(setup, github)
    assert result.returncode == 0, result.stderr
    assert "nothing to do" in result.stdout
    assert remote_branch(setup) is None
    assert github.calls == []
    assert_left_as_it_was(setup, head)


def test_a_clean_update_is_pushed_and_proposed_then_refreshed(
    setup: Setup, github: FakeGitHub
) -> None:
    head = git(setup.project, "rev-parse", "HEAD").strip()
    later_release(setup.template)
    result = open_requests(setup, github)
    assert result.returncode == 0, result.stderr

    tip = remote_branch(setup)
    assert tip is not None
    assert git(setup.origin, "rev-parse", f"{tip}^").strip() == head  # on top of the base
    assert f"_commit: v{LATER}" in shown(setup, ".copier-answers.yml")
    assert f"Template-Update-Bot: {LATER}" in git(setup.origin, "log", "-1", "--format=%B", tip)
    assert_left_as_it_was(setup, head)

    [pull] = github.pulls.values()
    assert (pull["head"], pull["base"]) == (BRANCH, setup.base)
    assert pull["title"] == f"Update the template to {LATER}"
    assert "None: the update applied cleanly." in pull["body"]
    assert "- The drift check lists this entry." in pull["body"]  # the CHANGELOG in between
    assert "Unreleased" not in pull["body"]  # its section ends at the next heading
    dispatches = [call for call in github.calls if call.path.endswith("/dispatches")]
    assert [call.payload for call in dispatches] == [{"ref": BRANCH}]
    assert dispatches[0].path == f"/repos/{REPOSITORY}/actions/workflows/ci.yml/dispatches"

    # A release after that one: the same branch and request, refreshed.
    later_release(setup.template, "99.1.0", "## 99.1.0 - 2026-12-31\n\n- Even later.\n\n")
    again = open_requests(setup, github)
    assert again.returncode == 0, again.stderr
    assert "_commit: v99.1.0" in shown(setup, ".copier-answers.yml")
    assert git(setup.origin, "rev-parse", f"{BRANCH}^").strip() == head
    assert list(github.pulls) == [1]  # edited, not opened twice
    assert github.pulls[1]["title"] == "Update the template to 99.1.0"
    assert "- Even later." in github.pulls[1]["body"]
    assert [call.method for call in github.calls if call.path.endswith("/pulls/1")] == ["PATCH"]


def test_a_conflicting_edit_is_committed_with_markers_and_listed(
    setup: Setup, github: FakeGitHub
) -> None:
    makefile = "Makefile.jinja"
    ours = (
        (setup.project / "Makefile")
        .read_text()
        .replace("## list the targets", "## show what make can do")
    )
    (setup.project / "Makefile").write_text(ours)
    git(setup.project, "commit", "--quiet", "--all", "-m", "our own help text")
    git(setup.project, "push", "--quiet", "origin", setup.base)
    theirs = setup.template / "template" / makefile
    theirs.write_text(theirs.read_text().replace("## list the targets", "## list every target"))
    later_release(setup.template)
    github.fail_dispatch = True

    result = open_requests(setup, github)
    assert result.returncode == 0, result.stderr
    assert "the checks did not start: GitHub said 500" in result.stderr  # the request stands
    committed = shown(setup, "Makefile")
    assert "<<<<<<<" in committed
    assert "show what make can do" in committed
    assert "list every target" in committed
    [pull] = github.pulls.values()
    conflicts = pull["body"].split("## Conflicts", 1)[1].split("## Template changes", 1)[0]
    assert "- `Makefile`" in conflicts.splitlines()
    assert "applied cleanly" not in pull["body"]
    assert "(1 file with conflicts)" in result.stdout


def test_a_branch_someone_fixed_is_left_alone_while_its_request_is_open(
    setup: Setup, github: FakeGitHub
) -> None:
    later_release(setup.template)
    assert open_requests(setup, github).returncode == 0
    work = setup.project.parent / "work"
    git(setup.project.parent, "clone", "--quiet", "--branch", BRANCH, str(setup.origin), str(work))
    (work / "NOTES.md").write_text("resolved by hand\n")
    git(work, "add", "NOTES.md")
    git(work, "commit", "--quiet", "--amend", "--no-edit")  # the bot's message, not its tree
    git(work, "push", "--quiet", "--force", "origin", BRANCH)
    fixed = remote_branch(setup)
    later_release(setup.template, "99.1.0", "## 99.1.0 - 2026-12-31\n\n- Even later.\n\n")
    calls = [call.method for call in github.calls]

    result = open_requests(setup, github)
    assert result.returncode == 0, result.stderr
    assert "left alone" in result.stdout
    assert remote_branch(setup) == fixed
    assert [call.method for call in github.calls] == [*calls, "GET"]  # looked, changed nothing

    github.pulls[1]["state"] = "closed"  # merged: the branch is free again
    again = open_requests(setup, github)
    assert again.returncode == 0, again.stderr
    assert "_commit: v99.1.0" in shown(setup, ".copier-answers.yml")
    assert "NOTES.md" not in git(setup.origin, "ls-tree", "--name-only", BRANCH)
    assert github.pulls[2]["title"] == "Update the template to 99.1.0"


def test_workflow_changes_wait_for_a_token_that_may_push_them(
    setup: Setup, github: FakeGitHub
) -> None:
    ci = setup.template / "template" / "{% if ci_provider == 'github' %}.github{% endif %}"
    ci = ci / "workflows" / "ci.yml.jinja"
    ci.write_text(ci.read_text().replace("name: CI\n", "name: Checks\n"))
    later_release(setup.template)
    ours = setup.project / ".github/workflows/ci.yml"
    ours.write_text(ours.read_text().replace("name: CI\n", "name: Project CI\n"))
    git(setup.project, "commit", "--quiet", "--all", "-m", "our name for the CI")
    git(setup.project, "push", "--quiet", "origin", setup.base)
    base_ci = ours.read_text()

    held = open_requests(setup, github)
    assert held.returncode == 0, held.stderr
    assert shown(setup, ".github/workflows/ci.yml") == base_ci  # GITHUB_TOKEN may not push it
    assert f"_commit: v{LATER}" in shown(setup, ".copier-answers.yml")
    body = github.pulls[1]["body"]
    assert "## Workflow changes to apply by hand" in body
    assert "- `.github/workflows/ci.yml` (in the workflow patch below)" in body  # a conflict
    patch = body.split("```diff\n", 1)[1].split("\n```", 1)[0] + "\n"
    work = setup.project.parent / "work"
    git(setup.project.parent, "clone", "--quiet", "--branch", BRANCH, str(setup.origin), str(work))
    applied = subprocess.run(["git", "apply"], cwd=work, input=patch, text=True, check=False)
    assert applied.returncode == 0
    applied_ci = (work / ".github/workflows/ci.yml").read_text()
    assert "<<<<<<<" in applied_ci
    assert "name: Checks\n" in applied_ci
    assert "name: Project CI\n" in applied_ci

    pushed = open_requests(setup, github, TEMPLATE_UPDATE_TOKEN="workflow-scope-token")
    assert pushed.returncode == 0, pushed.stderr
    assert "name: Checks\n" in shown(setup, ".github/workflows/ci.yml")
    assert "<<<<<<<" in shown(setup, ".github/workflows/ci.yml")
    assert "Workflow changes" not in github.pulls[1]["body"]
    assert list(github.pulls) == [1]


def test_a_dirty_work_tree_is_refused_and_kept(setup: Setup, github: FakeGitHub) -> None:
    later_release(setup.template)
    git(setup.project, "config", "status.showUntrackedFiles", "no")  # git status hides it
    scratch = setup.project / "scratch.txt"
    scratch.write_text("work in progress\n")
    result = open_requests(setup, github)
    assert result.returncode == 1
    assert "commit or stash them first" in result.stderr
    assert scratch.read_text() == "work in progress\n"
    assert remote_branch(setup) is None


def test_platform_errors_are_reported_without_touching_the_project(
    setup: Setup, github: FakeGitHub
) -> None:
    head = git(setup.project, "rev-parse", "HEAD").strip()
    later_release(setup.template)
    github.token = "another-token"  # the fake refuses the script's token
    result = open_requests(setup, github)
    assert result.returncode == 1
    assert "template pr: GitHub said 401" in result.stderr
    assert_left_as_it_was(setup, head)


def test_a_gitlab_schedule_opens_a_merge_request_from_a_detached_checkout(
    setup: Setup, gitlab: FakeGitLab
) -> None:
    git(setup.project, "checkout", "--quiet", "--detach")  # as GitLab's runner checks out
    later_release(setup.template)
    gitlab_ci = {
        "GITLAB_CI": "true",
        "CI_API_V4_URL": f"{gitlab.url}/api/v4",
        "CI_PROJECT_ID": "group/service",
        "CI_COMMIT_BRANCH": setup.base,
        "TEMPLATE_UPDATE_TOKEN": TOKEN,
    }
    seen = setup.project.parent / "copier-saw.log"
    copier_cli = setup.project.parent / "copier"  # Copier, noting the token each run could read
    copier_cli.write_text(
        f'#!/bin/sh\necho "$1 ${{TEMPLATE_UPDATE_TOKEN:-no token}}" >> {seen}\n'
        f'exec {sys.executable} -m copier "$@"\n'
    )
    copier_cli.chmod(0o755)
    result = run_pr(setup, gitlab_ci | {"COPIER": str(copier_cli)})
    assert result.returncode == 0, result.stderr
    assert f"_commit: v{LATER}" in shown(setup, ".copier-answers.yml")
    [request] = gitlab.requests.values()
    assert (request["source_branch"], request["target_branch"]) == (BRANCH, setup.base)
    assert "None: the update applied cleanly." in request["description"]
    assert seen.read_text().splitlines() == ["check-update no token", "update no token"]
    assert git(setup.project, "branch", "--show-current").strip() == ""  # detached, as it was
    assert git(setup.project, "status", "--porcelain") == ""


def test_gitlab_merge_requests_are_opened_then_edited(tmp_path: Path, gitlab: FakeGitLab) -> None:
    project = render(tmp_path / "project", ci_provider="gitlab")
    updates = generated_module(project, "template_update", "scripts")
    platform = updates.GitLab(
        f"{gitlab.url}/api/v4", TOKEN, "group/service", "https://gitlab.example", "group/service"
    )
    assert platform.find(BRANCH) is None
    url = platform.open(BRANCH, "main", "Update the template to 1.0.0", "body one")
    assert url == "https://gl/mr/1"
    assert platform.find(BRANCH) == "1"
    platform.edit("1", "Update the template to 1.1.0", "body two")
    request = gitlab.requests[1]
    assert request["description"] == "body two"
    assert request["target_branch"] == "main"
    assert request["remove_source_branch"] is True
    assert platform.push_url() == f"https://oauth2:{TOKEN}@gitlab.example/group/service.git"
    wrong = updates.GitLab(f"{gitlab.url}/api/v4", "nope", "group/service", None, None)
    with pytest.raises(updates.DriftError, match="GitLab said 401"):
        wrong.find(BRANCH)
    assert wrong.push_url() == "origin"
    said = f"fatal: could not read from 'https://oauth2:{TOKEN}@gitlab.example/group/service.git'"
    assert updates.redact(said) == (
        "fatal: could not read from 'https://gitlab.example/group/service.git'"
    )  # what git says reaches the job log without the token


def test_a_description_stays_under_the_platforms_limit(tmp_path: Path) -> None:
    updates = generated_module(render(tmp_path / "project"), "template_update", "scripts")
    drift = updates.Drift("0.1.0", "0.9.0", True)
    long_notes = [updates.Section(v, v, "- x\n" * 10_000) for v in ("0.9.0", "0.2.0")]
    long_patch = updates.Held([".github/workflows/ci.yml"], "+ y\n" * 20_000)
    body = updates.pull_request_body(drift, "gh:acme/template", long_notes, [], long_patch)
    assert len(body) < updates.BODY_LIMIT
    assert "Too long to show here: read the template's CHANGELOG, gh:acme/template." in body
    assert "The patch is too long to show." in body

    short_notes = [updates.Section("0.9.0", "0.9.0", "- x\n")]
    short_patch = updates.Held([".github/workflows/ci.yml"], "+ y\n")
    body = updates.pull_request_body(drift, "gh:acme/template", short_notes, [], short_patch)
    assert "```diff\n+ y\n```" in body
    assert "### [0.9.0](https://github.com/acme/template/blob/v0.9.0/CHANGELOG.md#090)" in body


def test_pushes_carry_the_token_in_their_url_only(tmp_path: Path) -> None:
    updates = generated_module(render(tmp_path / "project"), "template_update", "scripts")
    plain = updates.GitHub("https://api.github.com", TOKEN, REPOSITORY, None, "https://github.com")
    assert plain.push_url() == f"https://x-access-token:{TOKEN}@github.com/{REPOSITORY}.git"
    assert plain.holds_workflows  # GITHUB_TOKEN may not push workflow changes
    pusher = updates.GitHub(
        "https://api.github.com", TOKEN, REPOSITORY, None, "https://github.com", "workflow-token"
    )
    assert pusher.push_url() == f"https://x-access-token:workflow-token@github.com/{REPOSITORY}.git"
    assert not pusher.holds_workflows
    assert updates.GitHub("http://127.0.0.1:1", TOKEN, REPOSITORY, None).push_url() == "origin"
