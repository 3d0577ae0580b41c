"""Ends a console page's event stream when its session ends: signed out, expired, the user disabled or given a
new password. A page's stream is opened once and may stay open all day; the gate checked the session only
when it opened, so this ASGI middleware asks again every ``every`` seconds while a stream is open, and on a
"no" tells the page (``event: signedout``, the page goes to the sign-in form) and ends the response.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

SIGNED_OUT = b"event: signedout\ndata: {}\n\n"


class StreamGuard:
    def __init__(self, app: ASGIApp, still_in: Callable[[Request], Awaitable[bool]], every: float = 5.0) -> None:
        self.app = app
        self.still_in = still_in  # whether the request's session is still good (read from the store)
        self.every = every  # real seconds between two checks of an open stream

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not str(scope.get("path", "")).endswith("/events"):
            await self.app(scope, receive, send)
            return
        streaming = asyncio.Event()

        async def watched(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = dict(message.get("headers") or [])
                if headers.get(b"content-type", b"").startswith(b"text/event-stream"):
                    streaming.set()
            await send(message)

        task = asyncio.ensure_future(self.app(scope, receive, watched))
        request = Request(scope)
        try:
            while True:
                done, _ = await asyncio.wait({task}, timeout=self.every)
                if task in done:
                    task.result()  # the stream ended by itself (the browser left): any error is the app's
                    return
                if streaming.is_set() and not await self.still_in(request):
                    task.cancel()
                    await asyncio.gather(task, return_exceptions=True)
                    await send({"type": "http.response.body", "body": SIGNED_OUT, "more_body": False})
                    return
        finally:
            if not task.done():
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
