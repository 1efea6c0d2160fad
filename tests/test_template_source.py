"""Fast checks on the template's own files, before anything is rendered."""

from __future__ import annotations

from pathlib import Path

from extensions.naming import MAX_MODULE_NAME, MAX_SLUG
from tests.conftest import TEMPLATE_ROOT

TEMPLATE = TEMPLATE_ROOT / "template"
LINE_LENGTH = 100  # the generated project's ruff line-length


def template_files() -> list[Path]:
    return [p for p in TEMPLATE.rglob("*") if p.is_file() and "__pycache__" not in p.parts]


def renders_to_python(path: Path) -> bool:
    name = path.name.replace("{% endif %}", "")
    return name.endswith((".py", ".py.jinja"))


def test_files_with_jinja_markers_are_templates() -> None:
    """A file without the .jinja suffix is copied verbatim, braces and all."""
    verbatim_with_markers = [
        str(p.relative_to(TEMPLATE))
        for p in template_files()
        if not p.name.endswith(".jinja") and ("{{" in p.read_text() or "{%" in p.read_text())
    ]
    assert verbatim_with_markers == []


def test_python_lines_fit_with_the_longest_allowed_names() -> None:
    """Lines naming the package or slug stay within the line length for the longest answers."""
    module_growth = MAX_MODULE_NAME - len("{{ module_name }}")
    slug_growth = MAX_SLUG - len("{{ project_slug }}")
    too_long = []
    for path in filter(renders_to_python, template_files()):
        for number, line in enumerate(path.read_text().splitlines(), start=1):
            if "{{" not in line:
                continue  # ruff itself checks lines that do not change with the answers
            rendered = (
                len(line)
                + line.count("{{ module_name }}") * module_growth
                + line.count("{{ project_slug }}") * slug_growth
            )
            if rendered > LINE_LENGTH:
                too_long.append(f"{path.relative_to(TEMPLATE)}:{number} ({rendered} columns)")
    assert too_long == []


PLAIN_MODULES = [
    "api/ws/constants.py",
    "api/ws/endpoint.py",
    "hooks.py",
    "middlewares/cors.py",
    "middlewares/headers.py",
    "middlewares/rate_limit.py",
    "middlewares/startup.py",
    "net.py",
    "routing.py",
    "schemas/request.py",
    "schemas/response.py",
    "startup_checks.py",
    "utils/security_headers.py",
]
"""Core modules that hold no Jinja: options reach them through hooks the factory registers."""


def test_core_modules_are_plain_python() -> None:
    package = TEMPLATE / "{{ module_name }}"
    templated = [
        name
        for name in PLAIN_MODULES
        if not (package / name).is_file() or (package / f"{name}.jinja").exists()
    ]
    assert templated == []
    for name in PLAIN_MODULES:
        text = (package / name).read_text(encoding="utf-8")
        assert not any(marker in text for marker in ("{{", "{%", "{#")), name
