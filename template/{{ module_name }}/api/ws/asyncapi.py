"""The AsyncAPI 3.0 document of ``/web``, built from what is registered when it is asked for.

Every handler of :data:`...routing.pkg_router` becomes a message (``components.messages.<NAME>``,
with ``x-pkg-id`` and ``x-roles``) and a ``send`` operation whose reply is the common
``Response``; its registered ``json_schema`` becomes the message's ``data``. Pushes are the
``PushID`` members plus the generic ``Broadcast``; topics come from
:data:`...push.topics.topic_registry`. A handler written with ``new-handler`` shows up with no
other edit. ``GET /asyncapi.json`` serves the document and ``python -m <module> asyncapi``
prints it.
"""

from __future__ import annotations

import inspect
import json
import re
from collections.abc import Iterable, Mapping
from typing import Any

from pydantic import BaseModel

from ...protocol import NIL_UUID, CloseCode, PushID, RSPCode, WireFormat
from ...push.topics import topic_registry
from ...routing import JsonSchema, PackageRoute, pkg_router
from ...settings import Settings
from .endpoint import WEB_PATH

WIRE_FORMATS = [wire.value for wire in WireFormat]
"""The encodings a socket may choose (``format``), as the document lists them."""

ASYNCAPI_VERSION = "3.0.0"
CHANNEL = "web"
PROTOBUF = "application/x-protobuf"
PROTO_PACKAGE = "pkgapi.v1"
COMPONENT_NAME_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]")
"""What a key of ``components`` may not hold."""

STATUS_MEANINGS = {
    RSPCode.OK: "Success: `data` is the handler's answer.",
    RSPCode.ERROR: "The request failed (no handler for the id, or the handler failed).",
    RSPCode.INVALID_DATA: "The frame or its `data` is malformed; `data.errors` says where.",
    RSPCode.PERMISSION_DENIED: "The user lacks a role the package requires.",
    RSPCode.NOT_FOUND: "The object the request names does not exist.",
    RSPCode.UNAVAILABLE: "The database (or another service) cannot be reached; try again later.",
}
"""What each status code means; a code added to ``RSPCode`` without one is named only."""

CLOSE_MEANINGS = {
    CloseCode.AUTHENTICATION_FAILED: (
        "No valid Bearer token at the handshake nor a readable auth message in time, or the "
        "token expired on an open socket and no fresh one came."
    ),
    CloseCode.ORIGIN_NOT_ALLOWED: (
        "The browser's Origin is malformed, or neither allowed (ALLOWED_WS_ORIGINS) nor the "
        "service's own."
    ),
}

STANDARD_CLOSE_CODES = {
    1008: ("POLICY_VIOLATION", "A rate limit: handshakes, messages or concurrent connections."),
    1009: ("MESSAGE_TOO_BIG", "The auth message or a frame exceeds the size limit."),
    1013: (
        "TRY_AGAIN_LATER",
        "The rate limiter is down, or the client reads pushed messages too slowly.",
    ),
}


def ref(*path: str) -> dict[str, str]:
    """A JSON reference into this document: ``ref("components", "messages", "PING")``."""
    return {"$ref": "#/" + "/".join(path)}


def humanize(name: str) -> str:
    """A meaning for a code that has none written: its name as a sentence."""
    return name.replace("_", " ").capitalize() + "."


def close_codes() -> list[dict[str, Any]]:
    """Every code the service closes ``/web`` with, its name and meaning."""
    codes = [
        {"code": code, "name": name, "meaning": meaning}
        for code, (name, meaning) in STANDARD_CLOSE_CODES.items()
    ]
    codes += [
        {
            "code": int(code),
            "name": code.name,
            "meaning": CLOSE_MEANINGS.get(code, humanize(code.name)),
        }
        for code in CloseCode
    ]
    return codes


def status_schema() -> dict[str, Any]:
    """``status_code``: one of the ``RSPCode`` values, each with its name and meaning."""
    return {
        "type": "integer",
        "description": "An RSPCode; codes keep their meaning, new ones may be added.",
        "oneOf": [
            {
                "const": int(code),
                "title": code.name,
                "description": STATUS_MEANINGS.get(code, humanize(code.name)),
            }
            for code in RSPCode
        ],
    }


class SchemaStore:
    """``components.schemas``: the definitions (``$defs``) of the data schemas, moved there with
    their references rewritten; a name defined differently twice gets a numbered suffix."""

    def __init__(self) -> None:
        self.schemas: dict[str, Any] = {}
        self._found: dict[str, Any] = {}  # each stored definition as it was found

    def define(self, name: str, schema: dict[str, Any]) -> None:
        """Store a schema of the document's own under ``name`` (definitions found later that
        are named the same get another name)."""
        self.schemas[name] = self._found[name] = schema

    def hoist(self, schema: JsonSchema) -> dict[str, Any]:
        """``schema`` as a JSON Schema whose definitions live in ``components.schemas``."""
        if isinstance(schema, type) and issubclass(schema, BaseModel):
            raw: dict[str, Any] = schema.model_json_schema()
        else:
            raw = json.loads(json.dumps(schema))  # a deep copy, and JSON for sure
        for key in ("$schema", "$id"):
            raw.pop(key, None)
        definitions = {**raw.pop("definitions", {}), **raw.pop("$defs", {})}
        names = {name: self._free_name(name, found) for name, found in definitions.items()}
        for name, found in definitions.items():
            self.schemas[names[name]] = rewrite(found, names)
        hoisted: dict[str, Any] = rewrite(raw, names)
        return hoisted

    def _free_name(self, name: str, found: Any) -> str:
        """``name`` (in the characters a component name may hold), or ``name_2``, ``name_3``...
        when that holds another definition."""
        base = COMPONENT_NAME_UNSAFE.sub("_", name) or "Schema"
        candidate, number = base, 1
        while candidate in self._found and self._found[candidate] != found:
            number += 1
            candidate = f"{base}_{number}"
        self._found[candidate] = found
        return candidate


def rewrite(node: Any, names: Mapping[str, str]) -> Any:
    """``node`` with local ``$defs``/``definitions`` references pointing at
    ``components.schemas``."""
    if isinstance(node, list):
        return [rewrite(item, names) for item in node]
    if not isinstance(node, dict):
        return node
    rewritten = {key: rewrite(value, names) for key, value in node.items()}
    target = node.get("$ref")
    if isinstance(target, str):
        for prefix in ("#/$defs/", "#/definitions/"):
            if target.startswith(prefix):
                name = target.removeprefix(prefix).replace("~1", "/").replace("~0", "~")
                if name in names:
                    rewritten["$ref"] = "#/components/schemas/" + names[name]
    return rewritten


def docstring(handler: Any) -> tuple[str, str]:
    """The first line of a handler's docstring and the whole of it (empty when it has none)."""
    text = inspect.getdoc(handler) or ""
    return text.split("\n", 1)[0].strip(), text


def protobuf(message: str) -> dict[str, str]:
    """``x-protobuf``: the same message as a binary frame, in ``schemas/proto/ws.proto``."""
    return {"contentType": PROTOBUF, "message": f"{PROTO_PACKAGE}.{message}"}


def package_message(route: PackageRoute, store: SchemaStore) -> dict[str, Any]:
    """The request frame of one package, with its id, roles and ``data`` schema."""
    summary, description = docstring(route.handler)
    data = store.hoist(route.json_schema) if route.json_schema is not None else {}
    roles = sorted(route.roles)
    who = f"Requires the role(s): {', '.join(roles)}." if roles else "Any authenticated user."
    message: dict[str, Any] = {
        "name": route.name,
        "title": route.name,
        "summary": summary or f"Package {int(route.pkg_id)}.",
        "description": "\n\n".join(part for part in (description, who) if part),
        "contentType": "application/json",
        "payload": {
            "type": "object",
            "required": ["pkg_id", "req_id"],
            "properties": {
                "pkg_id": {"const": int(route.pkg_id)},
                "req_id": {
                    "type": "string",
                    "format": "uuid",
                    "description": "Chosen by the client; the response echoes it.",
                },
                "method": {"type": ["string", "null"]},
                "data": data,
            },
        },
        "x-pkg-id": int(route.pkg_id),
        "x-roles": roles,
        "x-protobuf": protobuf("Request"),
    }
    return message


def push_message(push_id: int, name: str) -> dict[str, Any]:
    """A message the server pushes with ``pkg_id`` ``push_id``."""
    return {
        "name": name,
        "title": name,
        "summary": f"Pushed with pkg_id {push_id} to the sockets subscribed to its topic.",
        "contentType": "application/json",
        "payload": broadcast_payload({"const": push_id}),
        "x-push-id": push_id,
        "x-protobuf": protobuf("Broadcast"),
    }


def broadcast_payload(pkg_id: dict[str, Any]) -> dict[str, Any]:
    """A pushed frame's schema, its ``pkg_id`` described by ``pkg_id``."""
    return {
        "type": "object",
        "required": ["pkg_id", "req_id"],
        "properties": {
            "pkg_id": pkg_id,
            "req_id": {"const": str(NIL_UUID), "description": "Pushes answer no request."},
            "data": {},
            "topic": {"type": "string", "description": "The topic it was published to."},
            "offset": {
                "type": "integer",
                "minimum": 1,
                "description": "Its place in the topic; SUBSCRIBE's `since` resumes after it.",
            },
        },
    }


def response_message() -> dict[str, Any]:
    """The answer to every request frame."""
    nullable_uuid = {"anyOf": [{"type": "string", "format": "uuid"}, {"type": "null"}]}
    return {
        "name": "Response",
        "title": "Response",
        "summary": "The answer to a request: its pkg_id and req_id, a status code and data.",
        "description": (
            "`pkg_id` and `req_id` echo the request (`null` when it was too malformed to "
            "read them). On `status_code` 0 `data` is the handler's answer, otherwise an "
            "`ErrorData`. `meta` carries pagination (page, per_page, total, pages). "
            "`request_id` is the server's id of the frame, found in its logs."
        ),
        "contentType": "application/json",
        "payload": {
            "type": "object",
            "required": ["pkg_id", "req_id", "status_code"],
            "properties": {
                "pkg_id": {"type": ["integer", "null"]},
                "req_id": nullable_uuid,
                "status_code": status_schema(),
                "meta": {"type": ["object", "null"]},
                "data": {},
                "request_id": {"type": ["string", "null"]},
            },
            "if": {"properties": {"status_code": {"not": {"const": int(RSPCode.OK)}}}},
            "then": {"properties": {"data": ref("components", "schemas", "ErrorData")}},
        },
        "x-protobuf": protobuf("Response"),
    }


def error_data_schema() -> dict[str, Any]:
    """``data`` of a response that is not OK (``ResponseModel.err_msg``)."""
    return {
        "type": "object",
        "required": ["msg"],
        "properties": {
            "msg": {"type": "string"},
            "errors": {
                "type": "array",
                "description": "Where `data` breaks the package's schema (INVALID_DATA).",
                "items": {
                    "type": "object",
                    "properties": {
                        "loc": {"type": "array", "items": {"type": ["string", "integer"]}},
                        "msg": {"type": "string"},
                        "type": {"type": "string"},
                    },
                },
            },
        },
    }


def auth_messages() -> dict[str, Any]:
    """The first-message authentication and its acknowledgement (JSON text frames always)."""
    return {
        "AuthMessage": {
            "name": "AuthMessage",
            "title": "Authenticate",
            "summary": "The token as the first message, when the handshake carried none.",
            "description": (
                "Send within WS_AUTH_TIMEOUT seconds of connecting. On an open socket, a fresh "
                "token of the same user extends the connection past the old token's expiry."
            ),
            "contentType": "application/json",
            "payload": {
                "type": "object",
                "required": ["type", "token"],
                "properties": {
                    "type": {"const": "auth"},
                    "token": {"type": "string", "minLength": 1, "description": "A JWT."},
                    "format": {
                        "enum": WIRE_FORMATS,
                        "description": "The encoding of pushes on this socket (default json).",
                    },
                },
            },
        },
        "AuthReply": {
            "name": "AuthReply",
            "title": "Authentication result",
            "contentType": "application/json",
            "payload": {
                "type": "object",
                "required": ["type", "status"],
                "properties": {
                    "type": {"const": "auth"},
                    "status": {"enum": ["ok", "error"]},
                    "user": {"type": "string", "description": "The user's id (on ok)."},
                    "reason": {"type": "string", "description": "Why it was refused (on error)."},
                },
            },
        },
    }


def topics() -> list[dict[str, Any]]:
    """The declared topic patterns (``*`` matches any run of characters) and their roles."""
    return [{"pattern": rule.pattern, "roles": sorted(rule.roles)} for rule in topic_registry.rules]


def table(header: Iterable[str], rows: Iterable[Iterable[object]]) -> str:
    """A Markdown table (AsyncAPI renderers show descriptions as Markdown)."""
    head = list(header)
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def channel_description(module: str) -> str:
    """The protocol in a few paragraphs, with the topics and close codes as tables."""
    declared = topics()
    topic_lines = table(
        ["Topic pattern", "Roles"],
        [(f"`{t['pattern']}`", ", ".join(t["roles"]) or "any") for t in declared],
    )
    closes = table(
        ["Close code", "Name", "Meaning"],
        [(c["code"], c["name"], c["meaning"]) for c in close_codes()],
    )
    return "\n\n".join(
        [
            "The service's one WebSocket endpoint. Authenticate at the handshake (an "
            "`Authorization: Bearer <JWT>` header) or with an `AuthMessage` as the first message, "
            "then send request frames; each gets one `Response` with the same `req_id`. "
            "`SUBSCRIBE` a topic to receive its pushes (`req_id` is the nil UUID).",
            "Frames are JSON text frames (`application/json`). Binary frames are the same "
            f"messages in protobuf (`{PROTOBUF}`, `{module}/schemas/proto/ws.proto`, package "
            f"`{PROTO_PACKAGE}`; each message names its type in `x-protobuf`): a binary request "
            "is answered in binary; pushes come in the format chosen at connect "
            "(`?format=protobuf`, or `format` in the `AuthMessage`).",
            "Topics that may be subscribed to:\n\n"
            + (topic_lines if declared else "none declared"),
            closes,
        ]
    )


def unique_name(name: str, taken: Mapping[str, Any]) -> str:
    """``name``, or ``name_PUSH`` when a package already uses it."""
    return name if name not in taken else f"{name}_PUSH"


def asyncapi_document(
    settings: Settings, *, title: str, version: str, description: str = ""
) -> dict[str, Any]:
    """The AsyncAPI 3.0 document of ``/web`` as it is registered now.

    ``title``, ``version`` and ``description`` are the service's (the OpenAPI document's).
    """
    module = __name__.split(".", 1)[0]
    store = SchemaStore()
    store.define("ErrorData", error_data_schema())
    routes = [pkg_router.routes[pkg_id] for pkg_id in sorted(pkg_router.routes)]
    messages: dict[str, Any] = {route.name: package_message(route, store) for route in routes}
    package_names = list(messages)
    push_names = []
    for member in PushID:
        name = unique_name(member.name, messages)
        messages[name] = push_message(int(member), name)
        push_names.append(name)
    messages["Broadcast"] = {
        "name": "Broadcast",
        "title": "Broadcast",
        "summary": "Any pushed message (pkg_ids of your own, not in PushID, included).",
        "contentType": "application/json",
        "payload": broadcast_payload({"type": "integer"}),
        "x-protobuf": protobuf("Broadcast"),
    }
    messages["Response"] = response_message()
    messages.update(auth_messages())

    channel_ref = ref("channels", CHANNEL)
    reply = {"channel": channel_ref, "messages": [ref("channels", CHANNEL, "messages", "Response")]}
    operations: dict[str, Any] = {
        "authenticate": {
            "action": "send",
            "channel": channel_ref,
            "summary": "Authenticate with the first message (or renew the token).",
            "messages": [ref("channels", CHANNEL, "messages", "AuthMessage")],
            "reply": {
                "channel": channel_ref,
                "messages": [ref("channels", CHANNEL, "messages", "AuthReply")],
            },
        },
    }
    for route, name in zip(routes, package_names, strict=True):
        operations[name] = {
            "action": "send",
            "channel": channel_ref,
            "title": name,
            "summary": messages[name]["summary"],
            "messages": [ref("channels", CHANNEL, "messages", name)],
            "reply": reply,
            "x-pkg-id": int(route.pkg_id),
            "x-roles": sorted(route.roles),
        }
    operations["receivePush"] = {
        "action": "receive",
        "channel": channel_ref,
        "summary": "Messages pushed to the topics the socket subscribed to.",
        "messages": [
            ref("channels", CHANNEL, "messages", name) for name in [*push_names, "Broadcast"]
        ],
        "x-topics": topics(),
    }

    security_schemes: dict[str, Any] = {
        "bearer": {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "JWT",
            "description": (
                "`Authorization: Bearer <JWT>` in the handshake; clients that cannot set headers "
                'send an `AuthMessage` (`{"type": "auth", "token": "<JWT>"}`) first instead.'
            ),
        },
    }
    if settings.WS_QUERY_TOKEN_ENABLED:
        security_schemes["queryToken"] = {
            "type": "httpApiKey",
            "name": "Authorization",
            "in": "query",
            "description": "`?Authorization=Bearer%20<JWT>` (WS_QUERY_TOKEN_ENABLED).",
        }
    query_properties: dict[str, Any] = {
        "format": {"enum": WIRE_FORMATS, "description": "The encoding of pushes."}
    }
    if settings.WS_QUERY_TOKEN_ENABLED:
        query_properties["Authorization"] = {"type": "string", "pattern": "^Bearer "}

    return {
        "asyncapi": ASYNCAPI_VERSION,
        "info": {
            "title": title,
            "version": version,
            "description": description.strip() or f"The WebSocket API of {title}.",
        },
        "defaultContentType": "application/json",
        "servers": {
            "service": {
                "host": "{host}",
                "protocol": "ws",
                "description": "The service; `wss` behind TLS.",
                "variables": {
                    "host": {
                        "default": f"localhost:{settings.PORT}",
                        "description": "The service's host and port.",
                    }
                },
                "security": [
                    ref("components", "securitySchemes", name) for name in security_schemes
                ],
            }
        },
        "channels": {
            CHANNEL: {
                "address": WEB_PATH,
                "title": "WebSocket endpoint",
                "description": channel_description(module),
                "messages": {name: ref("components", "messages", name) for name in messages},
                "bindings": {
                    "ws": {
                        "method": "GET",
                        "query": {"type": "object", "properties": query_properties},
                        "headers": {
                            "type": "object",
                            "properties": {
                                "Authorization": {"type": "string", "pattern": "^Bearer "}
                            },
                        },
                        "bindingVersion": "0.1.0",
                    }
                },
                "x-close-codes": close_codes(),
                "x-topics": topics(),
            }
        },
        "operations": operations,
        "components": {
            "messages": messages,
            "schemas": store.schemas,
            "securitySchemes": security_schemes,
        },
        "x-protobuf": {
            "contentType": PROTOBUF,
            "file": f"{module}/schemas/proto/ws.proto",
            "package": PROTO_PACKAGE,
        },
    }
