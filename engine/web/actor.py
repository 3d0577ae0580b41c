"""Who is asking: the one seam sign-in plugs into.

Every page route asks ``actor_of(request)`` first and hands the answer to ``visible`` for each state it streams.
Until sign-in exists there is no one to ask about: ``current_actor`` answers ``None`` (no one signed in) and
``everything`` lets every state through. Sign-in replaces both, in the route factories' arguments, with its own
(a role-checking ``current_actor`` that refuses with 403, and a filter keeping other teams' agents out).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.requests import Request

from engine.live.bus import Change
from engine.policy import Actor

ActorOf = Callable[[Request], Awaitable[Actor | None]]
Visible = Callable[[Actor | None, Change], bool]


async def current_actor(request: Request) -> Actor | None:
    """The signed-in person of ``request``; ``None`` while the console has no sign-in."""
    return None


def everything(actor: Actor | None, change: Change) -> bool:
    return True
