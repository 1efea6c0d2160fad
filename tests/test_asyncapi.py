"""The AsyncAPI check of :mod:`tests.asyncapi`: it accepts a rendered project's document and
rejects broken ones (``test_matrix`` runs it on every combination)."""

from __future__ import annotations

import copy
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests import asyncapi, service

MINIMAL: dict[str, Any] = {
    "asyncapi": "3.0.0",
    "info": {"title": "T", "version": "1"},
    "channels": {
        "web": {"address": "/web", "messages": {"PING": {"$ref": "#/components/messages/PING"}}}
    },
    "operations": {
        "PING": {
            "action": "send",
            "channel": {"$ref": "#/channels/web"},
            "messages": [{"$ref": "#/channels/web/messages/PING"}],
        }
    },
    "components": {"messages": {"PING": {"payload": {"type": "object"}, "x-pkg-id": 100}}},
}

HANDLERS_OUTPUT = """\
pkg_id  name                        handler  [roles]
     1  GET_AUTHORS                 my_service.api.ws.handlers.authors.get_authors  [-]
   100  PING                        my_service.api.ws.handlers.ping.ping  [-]
PkgIDs without a handler: none"""


def broken(change: Callable[[dict[str, Any]], object]) -> dict[str, Any]:
    document = copy.deepcopy(MINIMAL)
    change(document)
    return document


def test_a_minimal_document_passes(asyncapi_schema: dict[str, Any]) -> None:
    assert asyncapi.problems(MINIMAL, asyncapi_schema) == []
    assert asyncapi.documented_package_ids(MINIMAL) == {100}


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda d: d["info"].pop("version"), "'version' is a required property"),
        (lambda d: d.update(asyncapi="2.6.0"), "/asyncapi"),
        (lambda d: d["operations"]["PING"].update(action="publish"), "/operations/PING"),
        (lambda d: d["components"]["messages"]["PING"].update(payload={"type": 5}), "/components"),
        (lambda d: d["components"]["messages"].pop("PING"), "unresolved $ref #/components/"),
    ],
)
def test_broken_documents_are_reported(
    asyncapi_schema: dict[str, Any], change: Callable[[dict[str, Any]], object], expected: str
) -> None:
    found = asyncapi.problems(broken(change), asyncapi_schema)
    assert any(expected in problem for problem in found), found


def test_listed_package_ids_are_read_from_the_handlers_table() -> None:
    assert asyncapi.listed_package_ids(HANDLERS_OUTPUT) == {1, 100}


def test_a_rendered_project_passes(
    rendered: Callable[[str], Path], project_env: dict[str, str], asyncapi_schema: dict[str, Any]
) -> None:
    project = rendered("full")
    module = service.module_of(project)
    assert asyncapi.check_project(project, module, sys.executable, asyncapi_schema) == []
