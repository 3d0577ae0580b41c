"""Who is asking, and what they may see: the two seams between the console's pages and sign-in.

A page route calls its ``Gate`` first with the page's view name (the policy's, engine/policy.py ``VIEWS``): the
answer is the signed-in ``Actor``, or the response to send instead (to the sign-in form, 401, or 403 with the
policy's reason, written to the ledger). A stream hands each state to ``Visible`` before sending it, so nothing
about an agent a person may not see leaves the engine. The console's sign-in (engine/web/auth.py) makes both;
tests of a page alone pass ``anyone`` and ``everything``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import Response

from engine.live.bus import Change
from engine.policy import Actor, Role

Gate = Callable[[Request, str, str], Awaitable[Actor | Response]]  # (request, view, subject)
Who = Callable[[Request], Awaitable[Actor | Response]]  # the signed-in actor (a page of one's own), or the answer
Visible = Callable[[Actor | None, Change], bool]

NOBODY = Actor("nobody", Role.MANAGER, via="web")


async def anyone(request: Request, view: str, subject: str = "") -> Actor | Response:
    """A gate letting everyone in as a reader: for testing a page on its own, never wired in the engine."""
    return NOBODY


def everything(actor: Actor | None, change: Change) -> bool:
    return True
