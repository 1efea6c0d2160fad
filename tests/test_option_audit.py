"""``enable_audit_logging``: the whole feature when on, not a trace of it when off."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from tests.conftest import render
from tests.test_render import project_files

ProjectFor = Callable[[str], Path]
TRACE = re.compile(r"audit|user_action", re.IGNORECASE)
FEATURE_FILES = {
    "my_service/audit/writer.py",
    "my_service/audit/middleware.py",
    "my_service/models/user_action.py",
    "my_service/api/http/audit.py",
    "my_service/migrations/versions/audit_0001_user_actions.py",
    "my_service/migrations/versions/audit_0002_request_id.py",
    "tests/test_audit.py",
    "docs/audit-logging.md",
}


def relative(project: Path) -> set[str]:
    return {str(path.relative_to(project)) for path in project_files(project)}


def test_off_leaves_no_trace(rendered: ProjectFor) -> None:
    project = rendered("defaults")
    mentions = [
        str(path.relative_to(project))
        for path in project_files(project)
        if path.name != ".copier-answers.yml" and TRACE.search(path.read_text(encoding="utf-8"))
    ]
    assert mentions == []
    assert not FEATURE_FILES & relative(project)


def test_on_adds_the_feature(rendered: ProjectFor) -> None:
    project = rendered("full")
    assert relative(project) >= FEATURE_FILES
    settings = (project / "my_service" / "settings.py").read_text(encoding="utf-8")
    assert "AUDIT_BATCH_SIZE" in settings


def test_the_audit_revision_follows_the_last_revision_of_each_profile(tmp_path: Path) -> None:
    for include_example, parent in ((True, "0002"), (False, "0001")):
        project = render(
            tmp_path / str(include_example),
            enable_audit_logging=True,
            include_example=include_example,
        )
        revision = project / "my_service" / "migrations" / "versions" / "audit_0001_user_actions.py"
        assert f'down_revision: str | None = "{parent}"' in revision.read_text(encoding="utf-8")
