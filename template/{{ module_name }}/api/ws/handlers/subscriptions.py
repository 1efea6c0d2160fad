"""``SUBSCRIBE`` and ``UNSUBSCRIBE``: a socket chooses the topics pushed to it.

``SUBSCRIBE`` ``{"topic": str, "since": offset | null}`` answers ``{"topic", "offset", "gap",
"missed"}``: ``offset`` is the topic's latest, ``missed`` how many kept messages after ``since``
follow the answer (before any live one), and ``gap`` is true when some after ``since`` are no
longer kept (reload your state). Who may subscribe to what: :mod:`....push.topics`.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from ....protocol import PkgID, RequestModel, ResponseModel, RSPCode
from ....push.brokers import PushUnavailableError
from ....push.manager import PushClient, current_push_client
from ....push.topics import Access, topic_registry
from ....routing import pkg_router


class Subscribe(BaseModel):
    model_config = ConfigDict(extra="forbid")

    topic: str = Field(min_length=1, max_length=128)
    since: int | None = Field(default=None, ge=0, le=2**53)
    """The last offset received (0: everything kept); ``null``: only what comes from now on."""


class Unsubscribe(BaseModel):
    model_config = ConfigDict(extra="forbid")

    topic: str = Field(min_length=1, max_length=128)


def push_client(request: RequestModel) -> PushClient | ResponseModel:
    client = current_push_client.get()
    if client is None:  # only sockets of /web have one
        return ResponseModel.err_msg(request.pkg_id, request.req_id, "not a push connection")
    return client


@pkg_router.register(PkgID.SUBSCRIBE, json_schema=Subscribe)
async def subscribe(request: RequestModel) -> ResponseModel:
    """Subscribe this socket to ``topic`` if the user's roles allow it."""
    body = Subscribe.model_validate(request.data)
    client = push_client(request)
    if isinstance(client, ResponseModel):
        return client
    access = topic_registry.check(body.topic, client.user)
    if access is Access.UNKNOWN:
        return ResponseModel.err_msg(
            request.pkg_id, request.req_id, f"unknown topic {body.topic!r}", RSPCode.INVALID_DATA
        )
    if access is Access.FORBIDDEN:
        return ResponseModel.err_msg(
            request.pkg_id,
            request.req_id,
            f"not allowed to subscribe to {body.topic!r}",
            RSPCode.PERMISSION_DENIED,
        )
    try:
        history = await client.subscribe(body.topic, body.since)
    except PushUnavailableError:
        return ResponseModel.err_msg(
            request.pkg_id, request.req_id, "push backend unavailable", RSPCode.UNAVAILABLE
        )
    data = {
        "topic": body.topic,
        "offset": history.latest,
        "gap": history.gap,
        "missed": len(history.entries),
    }
    return ResponseModel.ok_msg(request.pkg_id, request.req_id, data=data)


@pkg_router.register(PkgID.UNSUBSCRIBE, json_schema=Unsubscribe)
async def unsubscribe(request: RequestModel) -> ResponseModel:
    """Stop pushing ``topic`` to this socket; ``{"topic", "subscribed": was it}``."""
    body = Unsubscribe.model_validate(request.data)
    client = push_client(request)
    if isinstance(client, ResponseModel):
        return client
    was = client.unsubscribe(body.topic)
    return ResponseModel.ok_msg(
        request.pkg_id, request.req_id, data={"topic": body.topic, "subscribed": was}
    )
