"""The documented ways to run the service resolve to the app."""

from __future__ import annotations

import subprocess
import sys

from fastapi import FastAPI
from uvicorn.importer import import_from_string

# Imported first on purpose: no submodule may shadow the `app` entry point.
import my_service.factory  # noqa: F401


def test_asgi_entry_is_the_app() -> None:
    app = import_from_string("my_service:app")
    assert isinstance(app, FastAPI)
    assert "/health" in app.openapi()["paths"]


def test_python_dash_m_offers_serve() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "my_service", "--help"],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    assert "serve" in result.stdout
