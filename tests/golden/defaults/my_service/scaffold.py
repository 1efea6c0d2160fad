"""Listing and scaffolding WebSocket handlers (``handlers`` and ``new-handler`` commands)."""

from __future__ import annotations

import keyword
import re
import string
from pathlib import Path

from my_service.api.ws import constants
from my_service.api.ws import handlers as handlers_package
from my_service.api.ws.handlers import load_handlers
from my_service.routing import pkg_router

PACKAGE = "my_service"
_NAME = re.compile(r"[a-z][a-z0-9_]*")

HANDLER_TEMPLATE = string.Template('''"""``$member`` (package id $pkg_id): what it does."""

from __future__ import annotations

from $package.routing import pkg_router
from $package.schemas.request import RequestModel
from $package.schemas.response import ResponseModel

$member = $pkg_id
"""This handler's package id. Your ids live with your handlers; PkgID belongs to the template."""


@pkg_router.register(
    $member,
    json_schema={"type": "object"},
    roles=[],
)
async def $name(request: RequestModel) -> ResponseModel:
    """Answer ``$member`` requests (for now: echo the request's data)."""
    return ResponseModel.ok_msg(request.pkg_id, request.req_id, data=request.data)
''')


class ScaffoldError(ValueError):
    """The handler cannot be created as asked."""


def describe_handlers() -> str:
    """A table of package ids, their handlers and roles, then the PkgIDs that have no handler."""
    load_handlers()
    routes = pkg_router.routes
    names = {member.value: member.name for member in constants.PkgID}
    lines = ["pkg_id  name                        handler  [roles]"]
    for pkg_id in sorted(routes):
        route = routes[pkg_id]
        name = names.get(pkg_id, route.handler.__name__.upper())
        handler = f"{route.handler.__module__}.{route.handler.__qualname__}"
        roles = ", ".join(sorted(route.roles)) or "-"
        lines.append(f"{pkg_id:>6}  {name:<26}  {handler}  [{roles}]")
    missing = [f"{m.name} ({m.value})" for m in constants.PkgID if m not in routes]
    lines.append("PkgIDs without a handler: " + (", ".join(missing) if missing else "none"))
    return "\n".join(lines)


def new_handler(name: str, pkg_id: int) -> Path:
    """Write ``api/ws/handlers/<name>.py`` answering ``pkg_id``; returns its path.

    The new module declares its own package id, so no template-owned file changes.
    """
    if not _NAME.fullmatch(name) or keyword.iskeyword(name):
        raise ScaffoldError(f"{name!r} is not a snake_case name such as get_books")
    if pkg_id < 0:
        raise ScaffoldError("pkg_id must not be negative")
    member = name.upper()
    if member in constants.PkgID.__members__:
        raise ScaffoldError(f"PkgID.{member} exists already")
    load_handlers()
    taken = pkg_router.routes.get(pkg_id)
    if taken is not None:
        owner = f"{taken.handler.__module__}.{taken.handler.__qualname__}"
        raise ScaffoldError(f"pkg_id {pkg_id} is taken by {owner}")
    if pkg_id in {m.value for m in constants.PkgID}:
        raise ScaffoldError(f"pkg_id {pkg_id} is taken by PkgID.{constants.PkgID(pkg_id).name}")
    target = Path(handlers_package.__file__).parent / f"{name}.py"
    if "site-packages" in target.parts:
        raise ScaffoldError("run this from your project's source tree, not an installed copy")
    if target.exists():
        raise ScaffoldError(f"{target} exists already")
    content = HANDLER_TEMPLATE.substitute(package=PACKAGE, member=member, name=name, pkg_id=pkg_id)
    target.write_text(content)
    return target
