"""The server push API for other services and operators: ``POST /ws/publish``, ``GET /ws/presence``.

Both need every role in ``PUSH_API_ROLES`` (``admin`` by default). A publish reaches the sockets
of every instance; while the push backend (Redis) is down it answers 503 at once.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, status
from pydantic import BaseModel, ConfigDict, Field, StrictInt, model_validator

from ...auth.http import CurrentUser, ensure_roles
from ...auth.user import User
from ...protocol import BroadcastDataModel
from ...push.brokers import PushUnavailableError
from ...push.manager import connection_manager
from ...push.topics import TOPIC_NAME
from ...schemas.errors import error_responses
from ..deps import SettingsDep

RETRY_AFTER_SECONDS = "5"

TopicName = Annotated[
    str, Field(max_length=128, pattern=f"^{TOPIC_NAME.pattern}$", description="A topic name")
]


async def push_operator(user: CurrentUser, settings: SettingsDep) -> User:
    """The caller, if it holds every role in ``PUSH_API_ROLES`` (read per request); else 403."""
    return ensure_roles(user, settings.PUSH_API_ROLES)


router = APIRouter(
    prefix="/ws",
    tags=["push"],
    dependencies=[Depends(push_operator)],
    responses=error_responses(401, 403, 422, 503),
)


class PublishRequest(BaseModel):
    """A message for a topic's subscribers, for one user's sockets, or (neither) for everyone."""

    model_config = ConfigDict(extra="forbid")

    topic: TopicName | None = None
    user_id: str | None = Field(default=None, min_length=1, max_length=255)
    pkg_id: StrictInt
    data: Any = None

    @model_validator(mode="after")
    def one_audience(self) -> PublishRequest:
        if self.topic is not None and self.user_id is not None:
            raise ValueError("give topic or user_id, not both")
        return self


class Published(BaseModel):
    """Accepted: the message is on its way to every instance."""

    audience: str
    """``topic``, ``user`` or ``all``."""
    offset: int | None
    """The topic message's offset (``null`` for users, everyone, or with history off)."""


class PresentUser(BaseModel):
    user_id: str
    connections: int
    """Open sockets of this user (subscribed to the topic, when one was asked for)."""


class PresenceReport(BaseModel):
    topic: str | None
    users: list[PresentUser]


def unavailable(error: PushUnavailableError) -> HTTPException:
    return HTTPException(
        status.HTTP_503_SERVICE_UNAVAILABLE,
        detail=str(error),
        headers={"Retry-After": RETRY_AFTER_SECONDS},
    )


@router.post("/publish", status_code=status.HTTP_202_ACCEPTED, summary="Push a message")
async def publish(body: PublishRequest) -> Published:
    """Push ``{"pkg_id", "data"}`` to a topic, to one user, or to every socket."""
    message = BroadcastDataModel(pkg_id=body.pkg_id, data=body.data)
    offset = None
    try:
        if body.topic is not None:
            audience = "topic"
            offset = await connection_manager.publish(body.topic, message)
        elif body.user_id is not None:
            audience = "user"
            await connection_manager.send_to_user(body.user_id, message)
        else:
            audience = "all"
            await connection_manager.broadcast(message)
    except PushUnavailableError as error:
        raise unavailable(error) from error
    return Published(audience=audience, offset=offset)


@router.get("/presence", summary="Who is connected")
async def presence(
    topic: Annotated[TopicName | None, Query(description="Only sockets subscribed to it")] = None,
) -> PresenceReport:
    """The users with open sockets on any instance (subscribed to ``topic`` when given)."""
    try:
        found = await connection_manager.presence(topic)
    except PushUnavailableError as error:
        raise unavailable(error) from error
    users = [PresentUser(user_id=user, connections=n) for user, n in found.users.items()]
    return PresenceReport(topic=topic, users=users)
