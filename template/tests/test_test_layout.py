"""The test suite's own rules: how test modules share code, and where long-lived test data lives."""

from __future__ import annotations

import ast
import os
from pathlib import Path

import pytest

from tests.databases import SQLiteDatabases
from tests.postgres import EmbeddedPostgres
from tests.redis_server import RedisServer

TESTS = Path(__file__).resolve().parent


def imported_modules(source: str) -> set[str]:
    """Every module ``source`` imports, as a dotted name (``tests.x`` for ``from . import x``)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            module = "tests" if node.level else ""
            module = ".".join(part for part in (module, node.module) if part)
            found.add(module)
            if module == "tests":  # ``from tests import x``: x is a module
                found.update(f"tests.{alias.name}" for alias in node.names)
    return found


def forbidden_imports(source: str) -> list[str]:
    """The test modules and conftest files ``source`` imports: shared code belongs elsewhere."""
    return sorted(
        module
        for module in imported_modules(source)
        if module.rsplit(".", 1)[-1].startswith("test_") or module.endswith("conftest")
    )


def test_the_import_check_finds_test_modules_and_conftest() -> None:
    source = (
        "import tests.conftest\n"
        "from tests.test_ws import frame\n"
        "from . import test_auth, waiting\n"
        "from .test_orders import make_order\n"
        "from tests.support import test_token, bearer\n"
        "from tests import live\n"
    )
    assert forbidden_imports(source) == [
        "tests.conftest",
        "tests.test_auth",
        "tests.test_orders",
        "tests.test_ws",
    ]


def test_test_modules_import_no_other_test_module() -> None:
    """Helpers several modules use live in ``tests/support.py`` (or are fixtures in conftest.py):
    importing one test module from another runs its tests' module code twice and ties them up."""
    offenders = {
        path.name: found
        for path in sorted(TESTS.glob("test_*.py"))
        if (found := forbidden_imports(path.read_text(encoding="utf-8")))
    }
    assert offenders == {}


def pruned_by_other_runs(config: pytest.Config, factory: pytest.TempPathFactory) -> Path:
    """What another pytest run may delete while this one runs: the ``--basetemp`` folder when one
    is given (a run with the same option empties it), otherwise every session's folder under
    ``/tmp/pytest-of-<user>`` (older sessions are pruned, and the folder's permissions reset)."""
    basetemp = factory.getbasetemp().resolve()
    return basetemp if config.option.basetemp else basetemp.parent


def test_long_lived_test_data_is_outside_pytests_temporary_folders(
    pytestconfig: pytest.Config,
    tmp_path_factory: pytest.TempPathFactory,
    session_folder: Path,
    sqlite_databases: SQLiteDatabases,
    embedded_postgres: EmbeddedPostgres | None,
    redis_server: RedisServer | None,
) -> None:
    pruned = pruned_by_other_runs(pytestconfig, tmp_path_factory)
    dev_keys = Path(os.environ["AUTH_DEV_KEYS_DIR"])
    folders = [session_folder, sqlite_databases.folder, dev_keys.parent]
    if embedded_postgres is not None:  # none with TEST_POSTGRES_URL
        folders.append(embedded_postgres.folder)
    if redis_server is not None:  # none with TEST_REDIS_URL
        assert redis_server.folder is not None
        folders.append(redis_server.folder)
    for folder in folders:
        assert folder.is_dir(), folder
        assert not folder.resolve().is_relative_to(pruned), folder
