"""Settings: importable without configuration, checked for production at start-up."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import ValidationError

from my_service.cli import main
from my_service.factory import create_app
from my_service.settings import (
    DEFAULT_DATABASE_URL,
    ConfigurationError,
    Settings,
    app_settings,
    configure_settings,
)

from tests.conftest import settings_for

PROJECT_ROOT = Path(__file__).resolve().parent.parent
GOOD_SECRET = "s" * 40


def test_importing_the_package_reads_no_configuration(tmp_path: Path) -> None:
    code = (
        "import my_service; "
        "import my_service.settings as s; "
        "import my_service.storage.db; "
        "assert s._active is None, 'settings were read at import'"
    )
    env = {"PYTHONPATH": str(PROJECT_ROOT), "DATABASE_URL": "not a url", "PORT": "not a port"}
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr


def test_defaults_serve_dev_with_sqlite(workdir: Path) -> None:
    settings = Settings()
    assert settings.ENV == "dev"
    assert settings.DATABASE_URL == DEFAULT_DATABASE_URL
    assert (settings.HOST, settings.PORT, settings.LOG_LEVEL) == ("127.0.0.1", 8000, "INFO")
    assert settings.auto_migrate
    assert settings.problems() == []


def test_environment_and_dotenv_are_read(workdir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (workdir / ".env").write_text("PORT=9001\nLOG_LEVEL=DEBUG\n")
    monkeypatch.setenv("PORT", "9002")
    settings = Settings()
    assert settings.PORT == 9002  # the environment wins over .env
    assert settings.LOG_LEVEL == "DEBUG"


def test_app_settings_follows_the_active_settings() -> None:
    configure_settings(settings_for("sqlite+aiosqlite:///one.db"))
    assert app_settings.DATABASE_URL == "sqlite+aiosqlite:///one.db"
    configure_settings(settings_for("sqlite+aiosqlite:///two.db", PORT=1234))
    assert app_settings.DATABASE_URL == "sqlite+aiosqlite:///two.db"
    assert app_settings.PORT == 1234


def test_production_lists_every_missing_requirement(workdir: Path) -> None:
    settings = Settings(ENV="production")
    problems = settings.problems()
    assert any("DATABASE_URL" in p for p in problems)
    assert any("SECRET_KEY" in p for p in problems)
    assert any("AUTH_ISSUER" in p for p in problems)
    with pytest.raises(ConfigurationError, match="ENV=production"):
        settings.check()


def test_production_refuses_sqlite_and_auto_migrate(workdir: Path) -> None:
    settings = Settings(
        ENV="production",
        DATABASE_URL="sqlite+aiosqlite:///prod.db",
        SECRET_KEY=GOOD_SECRET,
        DB_AUTO_MIGRATE=True,
    )
    problems = " ".join(settings.problems())
    assert "SQLite" in problems
    assert "DB_AUTO_MIGRATE" in problems


def test_complete_production_settings_pass(workdir: Path) -> None:
    settings = Settings(
        ENV="production",
        DATABASE_URL="postgresql+asyncpg://app:pw@db/app",
        SECRET_KEY=GOOD_SECRET,
        AUTH_ISSUER="https://keycloak.example.com/realms/shop",
        AUTH_AUDIENCE="shop-api",
    )
    assert settings.problems() == []
    assert not settings.auto_migrate
    assert not settings.uses_dev_issuer


def test_issuer_without_audience_is_refused_in_every_env(workdir: Path) -> None:
    settings = Settings(AUTH_ISSUER="https://issuer.example.com")
    assert settings.problems() == ["AUTH_AUDIENCE must be set when AUTH_ISSUER is"]


@pytest.mark.parametrize("algorithms", [["HS256"], ["none"], ["RS256", "HS512"], []])
def test_only_asymmetric_token_algorithms_are_accepted(
    workdir: Path, algorithms: list[str]
) -> None:
    with pytest.raises(ValidationError, match="AUTH_ALGORITHMS"):
        Settings(AUTH_ALGORITHMS=algorithms)


def test_empty_auth_settings_count_as_unset(workdir: Path) -> None:
    (workdir / ".env").write_text("AUTH_ISSUER=\nAUTH_AUDIENCE=\nAUTH_CLIENT_ID=  \n")
    settings = Settings()
    assert settings.AUTH_ISSUER is None
    assert settings.AUTH_AUDIENCE is None
    assert settings.AUTH_CLIENT_ID is None
    assert settings.uses_dev_issuer


def test_dev_issuer_is_used_without_issuer_outside_production(workdir: Path) -> None:
    assert Settings().uses_dev_issuer
    assert Settings(ENV="staging").uses_dev_issuer
    assert not Settings(ENV="production").uses_dev_issuer


async def test_app_start_up_stops_on_production_problems(workdir: Path) -> None:
    app = create_app(Settings(ENV="production"))
    with pytest.raises(ConfigurationError, match="SECRET_KEY"):
        async with app.router.lifespan_context(app):
            pass


def test_cli_serve_explains_bad_settings(
    workdir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("ENV", "production")
    assert main(["serve"]) == 2
    assert "DATABASE_URL must be set" in capsys.readouterr().err
    monkeypatch.setenv("ENV", "dev")
    monkeypatch.setenv("PORT", "eighty")
    assert main(["serve"]) == 2
    assert "PORT" in capsys.readouterr().err


async def test_dev_start_up_creates_and_migrates_the_sqlite_file(workdir: Path) -> None:
    app = create_app()
    async with app.router.lifespan_context(app):
        pass
    assert (workdir / Path(DEFAULT_DATABASE_URL.rsplit("/", 1)[-1])).is_file()
