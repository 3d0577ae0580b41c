"""The replay page (/qa/calls/{id}) and its audio (/qa/calls/{id}/audio, HTTP Range for instant seeking).

Both ask the gate with the policy's view ``recording`` and the agent on the recording: QA staff and managers
hear every recording, a team lead its teams' agents', an agent its own calls (engine/policy.py). Every playback
(a request from the first byte) and every download is a ``recording.access`` fact naming who, what and how;
a seek within a playback is not a new one.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from collections.abc import Awaitable, Callable
from html import escape
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, JSONResponse, Response
from starlette.routing import BaseRoute, Route
from starlette.templating import Jinja2Templates

from engine.model.facts import Fact, fact_key
from engine.privacy import mask_number
from engine.web.actor import Gate
from engine.web.i18n import pick_language
from engine.web.qa.texts import TEXTS
from engine.web.wallboard.routes import script_json
from qa.grading import Invalid, Refused
from qa.services import Grading
from qa.timeline import timeline
from recording.analysis import analyse, peaks
from recording.encode import read_pcm

WEB = Path(__file__).resolve().parent.parent
templates = Jinja2Templates(directory=str(WEB / "templates"))
MEDIA = {"opus": "audio/ogg", "wav": "audio/wav"}

Facts = Callable[[str], Awaitable[list[Fact]]]  # a call's facts
Row = Callable[[str], Awaitable[dict[str, Any] | None]]  # a recording's index row, by id or call id
Record = Callable[[list[Fact]], Awaitable[None]]
Now = Callable[[], float]
Post = Callable[[str, Callable[[Request, Any, dict[str, str]], Awaitable[Response]]], BaseRoute]
Refuse = Callable[[Any, str, str, str, str], Awaitable[Response]]  # (actor, action, agent, arg, why)


def message_page(status: int, title: str, text: str) -> Response:
    return HTMLResponse(f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>hotline: {escape(title)}</title>
<link rel="stylesheet" href="/static/console.css"></head>
<body><main><h1>{escape(title)}</h1><p role="alert">{escape(text)}</p></main></body></html>""", status_code=status)


def is_seek(span: str) -> bool:
    """Whether a Range header asks for a later part of a playback already on record: exactly one range that starts
    past the first byte. Anything else (none, a suffix range, several, a malformed one) is served as a new
    playback and recorded as one."""
    unit, _, ranges = span.strip().partition("=")
    if unit.strip().lower() != "bytes" or "," in ranges:
        return False
    start, dash, _end = ranges.strip().partition("-")
    return bool(dash) and start.strip().isdigit() and int(start) > 0


class Analyses:
    """Each recording's waveform and talk figures, computed once from its file (decoding takes about 0.07 s a
    minute of audio) and kept while the file's checksum is the same."""

    def __init__(self, limit: int = 64) -> None:
        self.limit = limit
        self._done: dict[str, tuple[str, dict[str, Any]]] = {}

    async def of(self, row: dict[str, Any]) -> dict[str, Any]:
        got = self._done.get(row["id"])
        if got is not None and got[0] == row["sha256"]:
            return got[1]
        result = await asyncio.to_thread(self._compute, Path(row["path"]))
        if len(self._done) >= self.limit:
            self._done.pop(next(iter(self._done)))
        self._done[row["id"]] = (row["sha256"], result)
        return result

    @staticmethod
    def _compute(path: Path) -> dict[str, Any]:
        pcm, rate = read_pcm(path)
        talk = analyse(pcm, rate) if pcm.shape[1] == 2 else None
        return {"peaks": peaks(pcm), "talk": talk.as_dict() if talk else None}


def qa_routes(row_of: Row, facts_of: Facts, record: Record, now: Now, timezone: str, *, gate: Gate,
              grading: Grading | None = None, post: Post | None = None,
              refuse: Refuse | None = None) -> list[BaseRoute]:  # fmt: skip
    """``grading``: the scoring forms and grades (none: the page only replays); ``post``: the console's POST route
    maker (signed in, CSRF token checked); ``refuse``: the console's 403 with its ``action`` fact."""
    analyses = Analyses()
    tz = ZoneInfo(timezone)

    async def allowed(request: Request) -> tuple[dict[str, Any], Any] | Response:
        rec_id = request.path_params["rec_id"]
        row = await row_of(rec_id)
        if row is None:
            return message_page(404, "no such recording", f"no recording {rec_id!r} in the index")
        actor = await gate(request, "recording", row["agent"])
        if isinstance(actor, Response):
            return actor
        if row["purged_at"] is not None:
            return message_page(410, "recording removed", f"recording {row['id']} was removed by the retention rule "
                                                   f"{row['purge_rule']!r}")  # fmt: skip
        if not Path(row["path"]).exists():
            return message_page(404, "recording missing", f"the file of recording {row['id']} is not on disk "
                                                    "(`hotline recordings verify` lists such problems)")  # fmt: skip
        return row, actor

    async def page(request: Request) -> Response:
        got = await allowed(request)
        if isinstance(got, Response):
            return got
        row, actor = got
        facts = await facts_of(row["call_id"])
        caller = next((str(f.data.get("caller", "")) for f in facts if f.kind == "channel.new"
                       and f.data.get("role") == "caller"), "")  # fmt: skip
        lang = pick_language(request.headers.get("accept-language", ""))
        info = {"id": row["id"], "call_id": row["call_id"], "kind": row["kind"], "agent": row["agent"],
                "service": row["service"], "campaign": row["campaign"], "caller": mask_number(caller) if caller else "",
                "started": dt.datetime.fromtimestamp(row["started_at"], tz).strftime("%Y-%m-%d %H:%M:%S"),
                "seconds": row["seconds"], "format": row["format"]}  # fmt: skip
        boot = {"texts": TEXTS[lang], "info": info, "audio": f"/qa/calls/{row['id']}/audio", "viewer": actor.id,
                "markers": [m.as_dict() for m in timeline(facts, row["started_at"])], **await analyses.of(row),
                "grading": await grading.view(actor, row) if grading is not None else None}
        return templates.TemplateResponse(request, "qa_call.html", {
            "t": TEXTS[lang], "lang": "zh-CN" if lang == "zh" else "en", "info": info, "viewer": actor.id,
            "boot": script_json(boot)})  # fmt: skip

    async def audio(request: Request) -> Response:
        got = await allowed(request)
        if isinstance(got, Response):
            return got
        row, actor = got
        download = request.query_params.get("download") == "1"
        span = request.headers.get("range", "")
        if download or not is_seek(span):
            at = now()
            how = "download" if download else "play"
            data = {"user": actor.id, "role": actor.role.value, "id": row["id"], "how": how, "range": span}
            await record([Fact("recording.access", at, row["call_id"], "",
                               fact_key("recording.access", actor.id, row["id"], how, f"{at:.6f}"), data)])  # fmt: skip
        headers = {"Cache-Control": "private, no-store"}
        name = f"{row['id']}.{row['format']}" if download else None
        return FileResponse(row["path"], media_type=MEDIA.get(row["format"], "application/octet-stream"),
                            headers=headers, filename=name,
                            content_disposition_type="attachment" if download else "inline")  # fmt: skip

    async def grade(request: Request, v: Any, body: dict[str, str]) -> Response:
        return await _act(request, v, body, "grade")

    async def calibrate(request: Request, v: Any, body: dict[str, str]) -> Response:
        return await _act(request, v, body, "calibrate")

    async def _act(request: Request, v: Any, body: dict[str, str], what: str) -> Response:
        assert grading is not None and refuse is not None
        rec_id = request.path_params["rec_id"]
        row = await row_of(rec_id)
        if row is None:
            return JSONResponse({"ok": False, "reason": f"no recording {rec_id!r} in the index"}, status_code=404)
        try:
            if what == "calibrate":
                added = await grading.calibrate(v.actor, row, body.get("form", ""))
                return JSONResponse({"ok": True, "added": added})
            parsed = {**body, "answers": _json(body.get("answers"), {}), "marks": _json(body.get("marks"), [])}
            return JSONResponse({"ok": True, "grade": await grading.submit(v.actor, row, parsed)})
        except Invalid as exc:
            return JSONResponse({"ok": False, "reason": str(exc)}, status_code=422)
        except Refused as exc:
            return await refuse(v.actor, what, row["agent"], row["id"], str(exc))

    routes: list[BaseRoute] = [Route("/qa/calls/{rec_id}", page), Route("/qa/calls/{rec_id}/audio", audio)]
    if grading is not None and post is not None and refuse is not None:
        routes += [post("/qa/calls/{rec_id}/grade", grade), post("/qa/calls/{rec_id}/calibrate", calibrate)]
    return routes


def _json(text: str | None, empty: Any) -> Any:
    """A field the page sends as JSON text (the console's bodies are flat: engine/web/forms.py)."""
    if not text:
        return empty
    try:
        return json.loads(text)
    except ValueError:
        raise Invalid("a field is not valid JSON") from None
