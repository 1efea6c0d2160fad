"""What makes a no-op update fast changes nothing else: the compile cache (extensions/
compile_cache.py) renders what Copier renders without it, and the migrations are skipped only
where none can be due. ``python -m tests.benchmark_update`` measures the speed itself."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import copier
import pytest
import yaml
from copier._jinja_ext import get_yield_context
from copier._main import Worker
from copier._tools import cast_to_bool
from jinja2 import Environment, Template
from jinja2.ext import Extension
from jinja2.sandbox import SandboxedEnvironment
from packaging.version import Version

from extensions import compile_cache
from extensions.compile_cache import CompileCache
from extensions.migrations.framework import Migration, pending
from tests.conftest import PROFILES, TEMPLATE_ROOT
from tests.releases import working_tree_files

CACHE_ENTRY = "extensions/compile_cache.py:CompileCache"


def plain_template(destination: Path, cached: bool) -> Path:
    """The working tree's template files, outside git, with or without the cache in copier.yml."""
    for name in working_tree_files(TEMPLATE_ROOT):
        if name.startswith(("template/", "extensions/")) or name == "copier.yml":
            (destination / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(TEMPLATE_ROOT / name, destination / name)
    config = destination / "copier.yml"
    lines = config.read_text(encoding="utf-8").splitlines(keepends=True)
    assert f"  - {CACHE_ENTRY}\n" in lines, "copier.yml no longer loads the compile cache"
    if not cached:
        config.write_text("".join(line for line in lines if CACHE_ENTRY not in line))
    return destination


@pytest.fixture(scope="module")
def templates(tmp_path_factory: pytest.TempPathFactory) -> dict[bool, Path]:
    """The template with (``True``) and without (``False``) the compile cache."""
    root = tmp_path_factory.mktemp("templates")
    return {cached: plain_template(root / str(cached), cached) for cached in (True, False)}


def copier_env(template: Path, destination: Path) -> Environment:
    """The Jinja environment Copier renders ``template`` with."""
    worker = Worker(src_path=str(template), dst_path=destination, defaults=True, unsafe=True)
    return worker.jinja_env


def template_strings() -> list[str]:
    """Strings Copier compiles: every part of every path, every string in copier.yml, and some
    that exercise Jinja's corners (Copier's ``yield`` tag, assignments, errors)."""
    parts = {
        part
        for path in (TEMPLATE_ROOT / "template").rglob("*")
        for part in (*path.relative_to(TEMPLATE_ROOT / "template").parts, path.stem)
    }

    def walk(value: Any) -> Iterator[str]:
        if isinstance(value, str):
            yield value
        elif isinstance(value, dict):
            for item in value.values():
                yield from walk(item)
        elif isinstance(value, list):
            for item in value:
                yield from walk(item)

    config = yaml.safe_load((TEMPLATE_ROOT / "copier.yml").read_text(encoding="utf-8"))
    corners = [
        "",
        "plain text",
        "{{ _copier_conf.answers_file }}",
        "{% yield name from names %}{{ name }}.py{% endyield %}",
        "{% yield name from missing %}{{ name }}{% endyield %}",
        "{% set x = module_name ~ '_x' %}{{ x }}",
        "{{- ' trimmed ' -}} {# comment #}",
        "{% raw %}{{ not rendered }}{% endraw %}",
        "{{ module_name | kebab_case }}/{{ python_target }}",
        "{{ undefined_name.attribute }}",
        "{{ 1 / 0 }}",
        "{% if %}",
    ]
    return sorted(parts) + list(walk(config)) + corners


ANSWERS: list[dict[str, Any]] = [
    {"project_name": "My Service", "module_name": "my_service", "ci_provider": "github"},
    {"project_name": "Other", "module_name": "other", "ci_provider": "gitlab", **PROFILES["full"]},
]


def outcome(env: Environment, source: str, context: dict[str, Any]) -> tuple[str, object]:
    """What rendering ``source`` gives (its text or its error), and Copier's yield state after."""
    try:
        text = env.from_string(source).render(**context)
    except Exception as error:
        text = f"{type(error).__name__}: {error}"
    state = get_yield_context(env)
    return text, (state.yield_name, state.yield_iterable)


def test_copier_renders_every_string_alike_with_and_without_the_cache(
    templates: dict[bool, Path], tmp_path: Path
) -> None:
    cached, plain = (copier_env(templates[flag], tmp_path / str(flag)) for flag in (True, False))
    # Copier loads the extension from the template's file: a class of its own, same name.
    assert "CompileCache" in {type(ext).__name__ for ext in cached.extensions.values()}
    assert "CompileCache" not in {type(ext).__name__ for ext in plain.extensions.values()}
    strings = template_strings()
    for answers in ANSWERS:
        context = {
            **answers,
            "names": ["a", "b"],
            "_copier_conf": {"answers_file": ".copier-answers.yml", "sep": "/"},
        }
        for source in strings * 2:  # the second round renders from the cache
            assert outcome(cached, source, context) == outcome(plain, source, context), source


def tree(root: Path) -> dict[str, tuple[bytes, int]]:
    """Every file under ``root``: its bytes and mode (the answers file without ``_src_path``)."""
    found = {}
    for path in sorted(root.rglob("*")):
        if path.is_file():
            data = path.read_bytes()
            if path.name == ".copier-answers.yml":
                data = b"".join(
                    line for line in data.splitlines(True) if not line.startswith(b"_src_path:")
                )
            found[path.relative_to(root).as_posix()] = (data, path.stat().st_mode)
    return found


@pytest.mark.parametrize("profile", ["defaults", "full"])
def test_a_copy_is_the_same_with_and_without_the_cache(
    templates: dict[bool, Path], tmp_path: Path, profile: str
) -> None:
    rendered = {}
    for cached, template in templates.items():
        destination = tmp_path / f"cached-{cached}"
        copier.run_copy(
            str(template), str(destination), data=PROFILES[profile], defaults=True,
            unsafe=True, quiet=True, skip_tasks=True,
        )  # fmt: skip
        rendered[cached] = tree(destination)
    assert len(rendered[True]) > 100
    assert rendered[True] == rendered[False]


def test_one_environment_compiles_a_source_once() -> None:
    env = Environment(extensions=[CompileCache])
    first = env.from_string("Hello {{ name }}")
    assert env.from_string("Hello {{ name }}") is first
    assert env.from_string("Hello {{ other }}") is not first
    assert first.environment is env
    assert first.render(name="you") == "Hello you"


def test_environments_never_share_compiled_templates() -> None:
    one, two = Environment(extensions=[CompileCache]), Environment(extensions=[CompileCache])
    first, second = one.from_string("{{ x }}"), two.from_string("{{ x }}")
    assert first is not second
    assert (first.environment, second.environment) == (one, two)


def test_an_overlay_compiles_with_its_own_settings() -> None:
    env = Environment(extensions=[CompileCache])
    overlay = env.overlay(variable_start_string="[[", variable_end_string="]]")
    source = "[[ x ]] {{ x }}"
    assert env.from_string(source).render(x=1) == "[[ x ]] 1"
    template = overlay.from_string(source)
    assert template.environment is overlay
    assert template.render(x=1) == "1 {{ x }}"
    assert overlay.from_string(source) is template
    assert env.from_string(source).render(x=1) == "[[ x ]] 1"


def test_calls_the_cache_cannot_answer_are_passed_through() -> None:
    env = Environment(extensions=[CompileCache])
    cached = env.from_string("{{ x }}")
    with_globals = env.from_string("{{ x }}", globals={"x": 2})
    assert with_globals is not cached
    assert with_globals.render() == "2"

    class Marked(Template):
        pass

    assert isinstance(env.from_string("{{ x }}", template_class=Marked), Marked)
    with pytest.raises(TypeError):  # Copier tells strings from other values by this error
        env.from_string(True)  # type: ignore[arg-type]


def test_the_cache_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(compile_cache, "MAX_ENTRIES", 3)
    env = Environment(extensions=[CompileCache])
    first = env.from_string("0 {{ x }}")
    for index in range(1, 4):
        env.from_string(f"{index} {{{{ x }}}}")
    assert env.from_string("0 {{ x }}") is not first  # the oldest left the cache
    (cache,) = (ext for ext in env.extensions.values() if isinstance(ext, CompileCache))
    assert len(cache.entries) == 3


class Counter(Extension):
    """A preprocessor with a side effect and an output that changes on request."""

    calls = 0
    suffix = ""

    def preprocess(self, source: str, name: str | None, filename: str | None = None) -> str:
        Counter.calls += 1
        return source + Counter.suffix


def test_every_call_preprocesses_and_a_changed_result_compiles_again() -> None:
    env = SandboxedEnvironment(extensions=[CompileCache, Counter])
    Counter.calls, Counter.suffix = 0, ""
    first = env.from_string("{{ x }}")
    calls = Counter.calls
    assert env.from_string("{{ x }}") is first
    assert Counter.calls > calls  # the side effects happen on a cache hit too
    Counter.suffix = "!"
    changed = env.from_string("{{ x }}")
    assert changed is not first
    assert changed.render(x=1) == "1!"


MIGRATION_VERSIONS = ["0.3.0", "0.3.1", "0.4.0", "0.4.0.post1", "0.5.0rc1", "0.5.0", "1!0.1.0"]
UNTAGGED = "0.4.0.post2.dev0+g1a2b3c"  # what Copier reports for a commit after a release
SKIPPED = [(version, version) for version in ("0.3.0", "0.4.0", "0.5.0", "1!0.1.0")]
RUN = [
    *((a, b) for a in ("0.3.0", "0.4.0", "0.5.0") for b in ("0.3.0", "0.4.0", "0.5.0") if a != b),
    ("0.4.0", UNTAGGED),
    (UNTAGGED, UNTAGGED),
    ("0.5.0rc1", "0.5.0rc1"),
]


@pytest.mark.parametrize(
    ("version_from", "version_to", "skipped"),
    [(*pair, True) for pair in SKIPPED] + [(*pair, False) for pair in RUN],
)
def test_migrations_are_skipped_only_from_a_release_to_itself(
    version_from: str, version_to: str, skipped: bool
) -> None:
    """copier.yml's ``when`` for ``_migrations``: false for a no-op update, where ``pending``
    is empty whatever the registry holds; true for every other update."""
    (entry,) = yaml.safe_load((TEMPLATE_ROOT / "copier.yml").read_text())["_migrations"]
    extra = {
        "_version_pep440_from": Version(version_from),
        "_version_pep440_to": Version(version_to),
    }
    runs = cast_to_bool(SandboxedEnvironment().from_string(entry["when"]).render(**extra))
    assert runs is not skipped
    if skipped:
        migrations = [
            Migration(version, stage, version, lambda project: None)
            for version in MIGRATION_VERSIONS
            for stage in ("before", "after")
        ]
        assert pending(migrations, "before", version_from, version_to) == []
        assert pending(migrations, "after", version_from, version_to) == []
