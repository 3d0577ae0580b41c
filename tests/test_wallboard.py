"""The wallboard without a browser: the [wallboard] section checked with file and line, the language picked by
Accept-Language, the stream's messages (snapshot first, only states, the sign-in seam's filter applied, a
client that falls behind starting over from a snapshot), and the page and stream served by Starlette."""

from __future__ import annotations

import asyncio
import json
import re
import urllib.request
from pathlib import Path

import pytest

from engine.config import ConfigError, load_site
from engine.live.bus import Bus, Change
from engine.web.actor import anyone, everything
from engine.web.app import create_app
from engine.web.i18n import pick_language
from engine.web.server import HttpServer
from engine.web.wallboard.routes import static_route, wallboard_routes
from engine.web.wallboard.settings import WallboardSettings
from engine.web.wallboard.stream import events, frame

ROOT = Path(__file__).resolve().parent.parent


def _site(tmp_path: Path, section: str | None) -> Path:
    text = (ROOT / "examples" / "lab-site.toml").read_text()
    if section is not None:
        text += f"\n[wallboard]\n{section}\n"
    f = tmp_path / "site.toml"
    f.write_text(text)
    return f


def test_wallboard_section_defaults_values_and_problems_with_file_and_line(tmp_path):
    assert WallboardSettings.of(load_site(_site(tmp_path, None))["wallboard"]) == WallboardSettings()
    s = WallboardSettings.of(load_site(_site(tmp_path, "waiting_over = 30\npause_limits = {lunch = 3600}\n"
                                                       "sl_goal = 0.9"))["wallboard"])  # fmt: skip
    assert (s.waiting_over, dict(s.pause_limits), s.sl_goal, s.abandon_limit) == (30.0, {"lunch": 3600.0}, 0.9, 0.03)
    problems = (("waiting_over = -1", "wallboard.waiting_over: must be greater than 0"),
                ("sl_goal = 80", "wallboard.sl_goal: must be a fraction 0-1"),
                ('pause_limits = {lunch = "1h"}', "wallboard.pause_limits: reason 'lunch': the limit must be"),
                ("waitng_over = 5", "wallboard.waitng_over: unknown key (did you mean 'waiting_over'?)"))
    for bad, says in problems:
        f = _site(tmp_path, bad)
        line = f.read_text().splitlines().index(bad) + 1
        with pytest.raises(ConfigError) as err:
            load_site(f)
        assert f"site.toml:{line}: {says}" in str(err.value), str(err.value)


@pytest.mark.parametrize(("header", "lang"), [
    ("", "en"), ("zh-CN,zh;q=0.9,en;q=0.8", "zh"), ("en-US,en;q=0.9,zh;q=0.8", "en"), ("fr, zh-TW;q=0.5", "zh"),
    ("zh;q=0.4, en;q=0.6", "en"), ("de", "en"), ("zh;q=0, en;q=0.1", "en"), ("zh;q=bad", "en"),
])  # fmt: skip
def test_language_by_accept_language(header, lang):
    assert pick_language(header) == lang


def _data(text: str) -> tuple[str, dict]:  # type: ignore[type-arg]
    event, data = text.strip().split("\n")
    return event.removeprefix("event: "), json.loads(data.removeprefix("data: "))


def test_frames_snapshot_first_states_only_and_the_seam_filter():
    bus = Bus()
    bus.publish(Change("agent", "a1", 10.0, {"status": "available", "state": "idle", "since": 5.0}))
    bus.publish(Change("agent", "a2", 10.0, {"status": "paused", "state": "idle", "since": 6.0}))
    sub = bus.subscribe(10)
    everyone = lambda actor, change: True  # noqa: E731
    event, body = _data(frame(sub.get_nowait(), 12.0, 99.0, None, everyone))
    assert event == "snapshot" and body["now"] == 12.0 and body["wall"] == 99.0
    assert [(s["topic"], s["key"]) for s in body["states"]] == [("agent", "a1"), ("agent", "a2")]
    bus.publish(Change("call", "c1", 11.0, {"kind": "channel.new"}, retained=False))
    bus.publish(Change("service", "hotline", 11.0, {"waiting": 1}))
    assert frame(sub.get_nowait(), 12.0, 99.0, None, everyone) == "", "call events are not shown"
    event, body = _data(frame(sub.get_nowait(), 12.0, 99.0, None, everyone))
    assert (event, body["topic"], body["key"], body["data"]) == ("change", "service", "hotline", {"waiting": 1})
    assert _data(frame(None, 13.0, 99.0, None, everyone))[0] == "tick"
    only_a1 = lambda actor, change: change.topic != "agent" or change.key == "a1"  # noqa: E731
    _, body = _data(frame(bus.snapshot(), 12.0, 99.0, None, only_a1))
    assert [s["key"] for s in body["states"] if s["topic"] == "agent"] == ["a1"]
    assert frame(Change("agent", "a2", 1.0, {}), 12.0, 99.0, None, only_a1) == ""


async def test_a_client_that_falls_behind_starts_over_from_a_snapshot_and_the_engine_never_waits():
    bus = Bus()
    sub = bus.subscribe(3)
    stream = events(sub, lambda: 1.0, None, lambda a, c: True, heartbeat=0.05)
    assert (await anext(stream)).startswith("retry:")
    assert _data(await anext(stream))[0] == "snapshot"
    for i in range(10):  # the browser reads nothing meanwhile: publish returns at once every time
        assert bus.publish(Change("service", "hotline", float(i), {"waiting": i}))
    assert sub.resnapshots == 1
    event, body = _data(await anext(stream))
    assert event == "snapshot", "it lost its queue: the next message is the whole state again"
    assert body["states"][0]["data"] == {"waiting": 9}
    assert _data(await anext(stream))[0] == "tick", "nothing new: a heartbeat"
    await stream.aclose()
    assert bus.subscribers == 0, "the browser went away: its subscription is gone"


def _get(url: str, lang: str = "") -> tuple[int, str]:
    req = urllib.request.Request(url, headers={"Accept-Language": lang} if lang else {})
    with urllib.request.urlopen(req, timeout=5) as r:
        return r.status, r.read().decode()


async def test_page_in_each_language_and_its_static_files():
    bus = Bus()
    routes = wallboard_routes(bus, lambda: 0.0, WallboardSettings(waiting_over=45), "Asia/Shanghai", gate=anyone,
                              visible=everything)  # fmt: skip
    server = HttpServer(create_app(routes=[*routes, static_route()]), "127.0.0.1", 0)
    server.bind()
    task = asyncio.create_task(server.serve())
    try:
        status, en = await asyncio.to_thread(_get, f"{server.url}/wallboard")
        assert status == 200 and '<html lang="en">' in en and "<h1>Wallboard</h1>" in en
        _, zh = await asyncio.to_thread(_get, f"{server.url}/wallboard", "zh-CN,zh;q=0.9")
        assert '<html lang="zh-CN">' in zh and "<h1>实时看板</h1>" in zh
        boot = json.loads(zh.split('<script id="boot" type="application/json">')[1].split("</script>")[0])
        assert boot["thresholds"]["waiting_over"] == 45 and boot["timezone"] == "Asia/Shanghai"
        assert boot["texts"]["paused"] == "暂停"
        status, js = await asyncio.to_thread(_get, f"{server.url}/static/wallboard.js")
        assert status == 200 and "EventSource" in js
        assert (await asyncio.to_thread(_get, f"{server.url}/static/console.css"))[0] == 200
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def test_changes_gathered_go_out_in_one_write_a_state_once_each_encoded_once():
    from engine.web.wallboard import stream as wb

    bus = Bus()
    subs = [bus.subscribe(100), bus.subscribe(100)]
    streams = [events(s, lambda: 1.0, None, lambda a, c: True, heartbeat=0.05, gather=0.05) for s in subs]
    for st in streams:
        assert (await anext(st)).startswith("retry:")
        assert _data(await anext(st))[0] == "snapshot"
    for topic, key, data in (("service", "hotline", {"waiting": 0}), ("agent", "a1", {"state": "ringing"}),
                             ("service", "hotline", {"waiting": 1}), ("service", "hotline", {"waiting": 2}),
                             ("agent", "a1", {"state": "on_call"})):  # fmt: skip
        bus.publish(Change(topic, key, 1.0, data))
    chunks = [await anext(st) for st in streams]
    for chunk in chunks:
        messages = [json.loads(m.split("data: ")[1]) for m in chunk.split("\n\n") if m]
        assert [(m["key"], m["data"]) for m in messages] == [("hotline", {"waiting": 2}), ("a1", {"state": "on_call"})]
    strip_wall = [re.sub(r'"wall":[0-9.e+-]+', "", c) for c in chunks]  # each read the real time itself
    assert strip_wall[0] == strip_wall[1]
    last = bus.state("service", "hotline")
    assert wb._ENCODED[id(last)][0] is last, "encoded once, kept for the next stream"
    for st in streams:
        await st.aclose()


def test_coalescing_keeps_from_the_last_snapshot_and_each_states_last_change():
    from engine.web.wallboard.stream import coalesced

    a1, a2, b1 = Change("agent", "a", 1.0, {"n": 1}), Change("agent", "a", 2.0, {"n": 2}), Change("agent", "b", 1.0, {})
    snap = Bus().snapshot()
    assert coalesced([a1, b1, a2]) == [b1, a2]
    assert coalesced([a1, snap, a2, b1]) == [snap, a2, b1]
    assert coalesced([]) == []
