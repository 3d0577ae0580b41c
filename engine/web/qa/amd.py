"""QA's check of AMD (/qa/amd): the first seconds of the calls AMD called machines, to be heard and labelled
person or machine. A label is the dialer's ``outbound.qa`` fact and goes to the campaign's pacer, which learns
from it how many people AMD hangs up on (``CampaignRunner.qa_label``). Once labelled, the sample is deleted: it
may hold the voice of a person nobody spoke to, and the label is what was needed of it.

Who: QA staff and managers (the policy's view ``recording`` of a recording with no agent on it). Every playback
is a ``recording.access`` fact, as for call recordings.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import BaseRoute, Route

from engine.model.facts import Fact, fact_key
from engine.web.actor import Gate
from engine.web.i18n import pick_language
from engine.web.qa.routes import Facts, Post, Record, Refuse, is_seek, message_page, templates
from engine.web.qa.texts import TEXTS

LOOKBACK = 7 * 86400.0  # the queue shows a week of samples
Label = Callable[[str, str, bool], Awaitable[str | None]]  # (campaign, call id, machine) -> why not, or None

KINDS = ("outbound.amd_sample", "outbound.qa")


def queue(facts: list[Fact]) -> list[dict[str, Any]]:
    """The samples not labelled yet, oldest first."""
    labelled = {f.call_id for f in facts if f.kind == "outbound.qa"}
    return [{"call_id": f.call_id, "at": f.at, "campaign": f.data.get("campaign", ""), "path": f.data["path"],
             "seconds": f.data.get("seconds")} for f in facts
            if f.kind == "outbound.amd_sample" and f.call_id not in labelled]  # fmt: skip


def amd_routes(read: Facts, record: Record, now: Callable[[], float], timezone: str, label: Label, *, gate: Gate,
               post: Post, refuse: Refuse) -> list[BaseRoute]:  # fmt: skip
    """``read``: the ledger's facts(call_id, kinds, since); ``label``: hands a label to the campaign's runner."""
    tz = ZoneInfo(timezone)

    async def pending() -> list[dict[str, Any]]:
        return queue(await read(None, KINDS, now() - LOOKBACK))

    async def page(request: Request) -> Response:
        actor = await gate(request, "recording", "")
        if isinstance(actor, Response):
            return actor
        lang = pick_language(request.headers.get("accept-language", ""))
        items = [{**s, "time": dt.datetime.fromtimestamp(s["at"], tz).strftime("%Y-%m-%d %H:%M:%S")}
                 for s in await pending() if Path(s["path"]).exists()]  # fmt: skip
        return templates.TemplateResponse(request, "qa_amd.html", {
            "t": TEXTS[lang], "lang": "zh-CN" if lang == "zh" else "en", "items": items, "viewer": actor.id})

    async def audio(request: Request) -> Response:
        actor = await gate(request, "recording", "")
        if isinstance(actor, Response):
            return actor
        call_id = request.path_params["call_id"]
        sample = next((s for s in await pending() if s["call_id"] == call_id), None)
        if sample is None or not Path(sample["path"]).exists():
            return message_page(404, "no such sample", f"no AMD sample of call {call_id!r} waits for a label")
        span = request.headers.get("range", "")
        if not is_seek(span):
            at = now()
            data = {"user": actor.id, "role": actor.role.value, "id": f"amd:{call_id}", "how": "play", "range": span}
            await record([Fact("recording.access", at, call_id, "",
                               fact_key("recording.access", actor.id, f"amd:{call_id}", "play", f"{at:.6f}"), data)])
        return FileResponse(sample["path"], media_type="audio/wav", headers={"Cache-Control": "private, no-store"})

    async def take(request: Request, v: Any, body: dict[str, str]) -> Response:
        call_id = request.path_params["call_id"]
        allowed = await gate(request, "recording", "")
        if isinstance(allowed, Response):
            return allowed
        sample = next((s for s in await pending() if s["call_id"] == call_id), None)
        if sample is None:
            return JSONResponse({"ok": False, "reason": f"no AMD sample of call {call_id} waits for a label"},
                                status_code=404)  # fmt: skip
        answer = body.get("label", "")
        if answer not in ("person", "machine"):
            return JSONResponse({"ok": False, "reason": "label must be person or machine"}, status_code=422)
        why = await label(sample["campaign"], call_id, answer == "machine")
        if why:
            return await refuse(v.actor, "amd_label", "", call_id, why)
        await asyncio.to_thread(Path(sample["path"]).unlink, True)
        return JSONResponse({"ok": True, "call_id": call_id, "label": answer})

    return [Route("/qa/amd", page), Route("/qa/amd/{call_id}/audio", audio), post("/qa/amd/{call_id}/label", take)]
