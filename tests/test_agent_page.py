"""The agent page without a browser: one agent's desk folded from the bus (its own state and figures, the call it
is on and nothing of any other), a call's history read back from the ledger and then seen again on the bus
changing nothing, the preview lead and the outbound conversation, the stream's messages, the site's pause reasons
and dispositions, and the page served per language with the buttons only on the agent's own page."""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path

from starlette.responses import HTMLResponse
from starlette.testclient import TestClient

from engine.config import load_site
from engine.live.bus import Bus, Change
from engine.live.feed import masked
from engine.model.facts import Fact
from engine.policy import Actor, Role
from engine.web.actor import everything
from engine.web.agent.desk import RECALL_KINDS, Desk
from engine.web.agent.roster import AgentInfo, Roster
from engine.web.agent.routes import agent_routes
from engine.web.agent.stream import desk_events
from engine.web.app import create_app
from engine.web.wallboard.routes import static_route
from sim.world import site_text

T0 = 1_000.0
CALL = "1700000000.1"  # an inbound call: its id is the caller's channel
LEG = "hl-leg-1001"


def _fact(kind: str, at: float, data: dict, call: str = CALL, uid: str = CALL) -> Fact:
    return Fact(kind, T0 + at, call, uid, f"{kind}:{at}", data)


INBOUND = [
    _fact("channel.new", 0, {"role": "caller", "caller": "13912345678", "exten": "4001234567"}),
    _fact("ivr.step", 1, {"node": "main", "step": "enter", "detail": "", "seq": 1}),
    _fact("ivr.step", 2, {"node": "main", "step": "digit", "detail": "3", "seq": 2}),
    _fact("ivr.step", 3, {"node": "account", "step": "collected", "detail": "6", "seq": 3}),
    _fact("ivr.variables", 3, {"variables": {"ACCOUNT": "987776"}}),
    _fact("ivr.tags", 4, {"tags": ["identified"]}),
    _fact("ivr.variables", 4, {"variables": {"SEGMENT": "account"}}),
    _fact("call.queued", 5, {"digit": "3", "service": "support", "node": "account_support"}),
    _fact("agent.offer", 9, {"agent": "1001", "leg": LEG, "service": "support"}, uid=LEG),
    _fact("bridge.enter", 12, {"bridge": "b1", "peers": []}),
    _fact("bridge.enter", 12.1, {"bridge": "b1", "peers": [CALL]}, uid=LEG),
]


def _agent(state: str, call: str | None = None, status: str = "available", phase: str = "off", **more) -> dict:
    return {"status": status, "reason": more.get("reason", ""), "state": state, "since": T0, "device_busy": False,
            "call": call, "holder": "acd", "session": "", "phase": phase}  # fmt: skip


def _on_bus(f: Fact) -> Change:
    """A fact as the live feed publishes it: numbers masked, the kind and uniqueid in the data."""
    return Change("call", f.call_id, f.at, {"kind": f.kind, "uniqueid": f.uniqueid, **masked(f.data)}, retained=False)


def test_the_desk_keeps_its_own_agent_and_figures_and_nothing_of_another():
    bus = Bus()
    bus.publish(Change("agent", "1001", T0, _agent("idle")))
    bus.publish(Change("agent", "1002", T0, _agent("on_call", "other-call")))
    desk = Desk("1001")
    assert desk.take(bus.snapshot())
    assert desk.view()["agent"]["state"] == "idle" and desk.view()["call"] is None
    assert not desk.take(Change("agent", "1002", T0, _agent("wrap_up", "other-call")))
    # today's figures (the live feed's agent_day topic): its own only
    day = {"handled": 4, "aht": 210.5, "talk": 700.0, "hold": 42.0, "wrap": 100.0}
    sub = bus.subscribe(10)
    sub.get_nowait()  # its snapshot
    bus.publish(Change("agent_day", "1002", T0, {**day, "handled": 9}))
    bus.publish(Change("agent_day", "1001", T0, day))
    assert not desk.take(sub.get_nowait())
    assert desk.take(sub.get_nowait()) and desk.view()["day"] == day
    fresh = Desk("1001")
    assert fresh.take(bus.snapshot()) and fresh.view()["day"] == day, "in a snapshot too"
    # a call fact of another agent's call, and an offer to another agent: not this page's
    other = _fact("agent.offer", 1, {"agent": "1002", "leg": "x", "service": "hotline"}, call="other-call")
    assert not desk.take(_on_bus(other))
    assert not desk.take(_on_bus(_fact("channel.new", 0, {"role": "caller", "caller": "13800000000"}, "c9", "c9")))
    assert desk.view()["call"] is None and desk.loads() == []
    assert not desk.take(Change("service", "hotline", T0, {"waiting": 3}))


def test_an_inbound_call_read_back_then_seen_again_on_the_bus_changes_nothing():
    desk = Desk("1001")
    desk.take(Change("agent", "1001", T0, _agent("idle")))
    assert desk.take(Change("agent", "1001", T0 + 9, _agent("ringing", CALL)))
    assert desk.loads() == [CALL] and desk.loads() == [], "read the call's history once"
    assert desk.history(CALL, INBOUND + [_fact("channel.new", 0, {"role": "caller", "caller": "1"}, "c2", "c2")])
    call = desk.view()["call"]
    assert call["caller"] == "*******5678", "masked, though the ledger holds it whole"
    # connected when the agent's leg joins the caller's bridge (the caller was there first)
    assert (call["service"], call["direction"], call["offered"], call["connected"]) == ("support", "in", T0 + 9,
                                                                                       T0 + 12.1)  # fmt: skip
    assert call["path"] == [["main", "enter", ""], ["main", "digit", "3"], ["account", "collected", "6"]]
    assert call["variables"] == {"ACCOUNT": "987776", "SEGMENT": "account"} and call["tags"] == ["identified"]
    for f in INBOUND:  # the same facts again, now off the bus (published while the ledger was read)
        assert not desk.take(_on_bus(f)), f.kind
    assert desk.take(_on_bus(_fact("channel.hangup", 80, {"cause": "16"})))
    assert desk.view()["call"]["ended"] == T0 + 80
    desk.take(Change("agent", "1001", T0 + 80, _agent("wrap_up", CALL)))
    assert desk.view()["call"] is not None, "shown through the wrap-up"
    assert desk.take(Change("agent", "1001", T0 + 90, _agent("idle")))
    assert desk.view()["call"] is None and desk.view()["last"] is None, "an inbound call leaves the page"


def test_an_offer_fact_before_the_agent_state_names_the_call():
    desk = Desk("1001")
    desk.take(Change("agent", "1001", T0, _agent("ringing")))  # the board rings first, the offer fact follows
    assert desk.take(_on_bus(INBOUND[8]))
    assert desk.loads() == [CALL] and desk.view()["call"]["offered"] == T0 + 9
    desk.take(Change("agent", "1001", T0, _agent("ringing", CALL)))
    assert desk.loads() == [], "the same call: not read again"


def _out(kind: str, t: float, call: str = "dl-1", **data) -> Fact:
    return Fact(kind, T0 + t, call, call, f"{kind}:{call}:{t}", {"campaign": "renewals", **data})


def test_a_preview_lead_its_dial_and_the_conversation_then_the_last_call_for_a_disposition():
    desk = Desk("2001")
    desk.take(Change("agent", "2001", T0, _agent("idle", status="logged_out", phase="idle")))
    assert desk.take(_on_bus(_out("outbound.preview", 1, agent="2001", lead=42)))
    assert desk.view()["lead"] == {"call": "dl-1", "lead": 42, "campaign": "renewals", "number": "", "status": "held"}
    # the service API's fact of preview_next carries the masked number (no other fact does)
    asked = Fact("action", T0 + 1, "", "", "action:1", {"actor": "2001", "action": "preview_next", "agent": "2001",
                                                        "ok": True, "result": "2001: lead 42 *******0123"})  # fmt: skip
    assert desk.take(_on_bus(asked)) and desk.view()["lead"]["number"] == "*******0123"
    assert not desk.take(_on_bus(Fact("action", T0, "", "", "a:2", {**asked.data, "agent": "2002"})))
    assert desk.take(_on_bus(_out("outbound.placed", 2, agent="2001", lead=42, attempt=1)))
    assert desk.view()["lead"]["status"] == "dialing"
    assert desk.take(_on_bus(_out("outbound.connect", 8, agent="2001", at=T0 + 8)))
    assert desk.view()["lead"] is None and desk.loads() == ["dl-1"]
    history = [_out("outbound.placed", 2, agent="2001", lead=42, attempt=1),
               Fact("dial.begin", T0 + 3, "dl-1", "dl-1", "d", {"dialstring": "13900000123@trunk"}),
               _out("outbound.connect", 8, agent="2001", at=T0 + 8)]  # fmt: skip
    desk.history("dl-1", history)
    call = desk.view()["call"]
    assert (call["direction"], call["service"], call["lead"], call["caller"], call["connected"]) == (
        "out", "renewals", 42, "*******0123", T0 + 8)  # fmt: skip
    desk.take(Change("agent", "2001", T0 + 8, _agent("idle", status="logged_out", phase="talking")))
    assert desk.take(_on_bus(_out("outbound.talk_end", 70, agent="2001", talk=62.0)))
    desk.take(Change("agent", "2001", T0 + 70, _agent("idle", status="logged_out", phase="wrap")))
    assert desk.view()["call"]["ended"] == T0 + 70
    desk.take(Change("agent", "2001", T0 + 90, _agent("idle", status="logged_out", phase="idle")))
    assert desk.view()["call"] is None and desk.view()["last"]["lead"] == 42, "kept for its disposition"
    # the next lead, skipped
    desk.take(_on_bus(_out("outbound.preview", 91, call="dl-2", agent="2001", lead=43)))
    assert desk.take(_on_bus(_out("outbound.skip", 92, call="dl-2", agent="2001", lead=43, again=True)))
    assert desk.view()["lead"] is None


def test_a_snapshot_recalls_a_held_lead_and_a_conversation_over_before_the_page_opened():
    bus = Bus()
    bus.publish(Change("agent", "2001", T0, _agent("idle", status="logged_out", phase="idle")))
    desk = Desk("2001")
    desk.take(bus.snapshot())
    recent = [_out("outbound.connect", 1, call="dl-1", agent="2001", at=T0 + 1),
              _out("outbound.talk_end", 50, call="dl-1", agent="2001", talk=49.0),
              _out("outbound.connect", 2, call="dl-9", agent="2002", at=T0 + 2),
              _out("outbound.preview", 60, call="dl-2", agent="2001", lead=7)]  # fmt: skip
    assert all(f.kind in RECALL_KINDS for f in recent)
    assert desk.recall(recent)
    v = desk.view()
    assert v["call"] is None and v["last"]["id"] == "dl-1", "over: the last conversation, not the current"
    assert v["lead"]["lead"] == 7 and v["lead"]["status"] == "held"
    assert desk.loads() == ["dl-1"], "its history (lead, number) is read once"


async def test_the_stream_sends_the_view_on_each_change_of_its_agent_and_a_tick_when_quiet():
    bus = Bus()
    bus.publish(Change("agent", "1001", T0, _agent("idle")))
    bus.publish(Change("agent", "1002", T0, _agent("idle")))
    asked: list[tuple] = []

    async def read(call_id, kinds=(), since=None):  # type: ignore[no-untyped-def]
        asked.append((call_id, kinds))
        return INBOUND if call_id == CALL else []

    sub = bus.subscribe(50)
    stream = desk_events(sub, Desk("1001"), lambda: T0 + 30, read, None, everything, recall=False, heartbeat=0.05)

    async def message() -> tuple[str, dict]:
        event, data = (await asyncio.wait_for(anext(stream), 2)).strip().split("\n")
        return event.removeprefix("event: "), json.loads(data.removeprefix("data: "))

    assert (await asyncio.wait_for(anext(stream), 2)).startswith("retry:")
    event, body = await message()
    assert event == "view" and body["view"]["agent"]["state"] == "idle" and body["now"] == T0 + 30
    bus.publish(Change("agent", "1002", T0, _agent("ringing", "c-other")))  # another agent: nothing sent
    bus.publish(Change("agent", "1001", T0 + 9, _agent("ringing", CALL)))
    event, body = await message()
    assert event == "view" and body["view"]["call"]["path"][1] == ["main", "digit", "3"]
    assert asked == [(CALL, ())], "the call's facts read back once, no other"
    assert (await message())[0] == "tick", "nothing more of this agent: a heartbeat"
    await stream.aclose()
    assert bus.subscribers == 0


def _demo_site(tmp_path: Path, mode: str = "preview"):  # type: ignore[no-untyped-def]
    (tmp_path / "secret").write_text("x")
    text = site_text(ami_port=1, agi_port=2, secret_file=tmp_path / "secret", recordings=tmp_path,
                     store_url=f"sqlite+aiosqlite:///{tmp_path / 'db'}", queue_log=tmp_path / "q",
                     outbound_agents=2, mode=mode)  # fmt: skip
    (tmp_path / "site.toml").write_text(text)
    return load_site(tmp_path / "site.toml")


def test_roster_has_the_pause_reasons_in_code_order_and_each_agents_campaign(tmp_path):
    roster = Roster.of(_demo_site(tmp_path))
    assert roster.pause_reasons == ("break", "lunch", "training")
    assert roster.agents["1001"] == AgentInfo("1001", "Hotline Agent")
    a = roster.agents["2001"]
    assert (a.campaign, a.mode) == ("renewals", "preview") and a.dispositions[0] == ("1", "sale")
    assert [c for c, _ in a.dispositions] == ["1", "2", "3", "8", "9"]


def _client(tmp_path: Path, viewer: Actor) -> TestClient:
    async def who(request):  # type: ignore[no-untyped-def]
        return viewer

    async def gate(request, view, subject=""):  # type: ignore[no-untyped-def]
        if viewer.role is Role.AGENT and subject != viewer.id:
            return HTMLResponse(f"{viewer.id} may see its own page only, not {subject}'s", status_code=403)
        return viewer

    async def read(call_id, kinds=(), since=None):  # type: ignore[no-untyped-def]
        return []

    routes = agent_routes(Bus(), lambda: T0, Roster.of(_demo_site(tmp_path)), read, "Asia/Shanghai", who=who,
                          gate=gate, visible=everything)  # fmt: skip
    return TestClient(create_app(routes=[*routes, static_route()]))


def _boot(html: str) -> dict:
    return json.loads(html.split('<script id="boot" type="application/json">')[1].split("</script>")[0])


def test_own_page_has_the_buttons_and_pause_reasons_in_each_language(tmp_path):
    with _client(tmp_path, Actor("1001", Role.AGENT, via="web")) as client:
        r = client.get("/agent")
        assert r.status_code == 200 and '<html lang="en">' in r.text and "<h1>Agent 1001 · Hotline Agent</h1>" in r.text
        boot = _boot(r.text)
        assert boot["own"] and boot["pause_reasons"] == ["break", "lunch", "training"]
        assert re.findall(r"<option>(\w+)</option>", r.text) == ["break", "lunch", "training"]
        assert 'data-action="pause"' in r.text and 'data-action="preview_dial"' not in r.text, "no campaign"
        zh = client.get("/agent", headers={"Accept-Language": "zh-CN,zh;q=0.9"})
        assert '<html lang="zh-CN">' in zh.text and '<h2 id="h-status">状态</h2>' in zh.text
        assert client.get("/agent/1002").status_code == 403
        js = client.get("/static/agent.js")
        assert js.status_code == 200 and "/api/action" in js.text and "X-CSRF-Token" in js.text


def test_a_preview_agents_page_has_the_lead_card_and_another_viewer_gets_no_buttons(tmp_path):
    with _client(tmp_path, Actor("2001", Role.AGENT, via="web")) as client:
        page = client.get("/agent").text
        assert 'data-action="preview_dial"' in page and 'data-action="disposition"' in page
        assert '<option value="9">9 · do not call</option>' in page
    with _client(tmp_path, Actor("mia", Role.MANAGER, via="web")) as client:
        other = client.get("/agent/2001")
        assert other.status_code == 200 and not _boot(other.text)["own"] and "data-action=" not in other.text
        assert client.get("/agent/9999").status_code == 404
        assert client.get("/agent").status_code == 404, "a manager has no agent page of its own"
