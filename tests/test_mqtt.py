"""MQTT out: the [mqtt] settings, the topic of each bus change, the backoff, and the publisher against a real
mosquitto (retained states, call events, a clean stop, the last will of a killed engine, a broker that never
answers)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import aiomqtt
import pytest

from engine.config import ConfigError, load_site
from engine.live.bus import Bus, Change
from engine.mqtt.backoff import Backoff
from engine.mqtt.out import MqttOut
from engine.mqtt.settings import Broker, parse_url, prefix_problem, topic_prefix, url_problem
from engine.mqtt.topics import level, message
from tests.mosquitto import Mosquitto, retained

ROOT = Path(__file__).resolve().parents[1]
LAB_SITE = ROOT / "examples" / "lab-site.toml"


# ---- settings ------------------------------------------------------------------------------------------------
def test_broker_urls():
    assert parse_url("mqtt://127.0.0.1") == Broker("127.0.0.1", 1883)
    assert parse_url("mqtts://broker.example:8884") == Broker("broker.example", 8884, tls=True)
    b = parse_url("mqtt://board:p%40ss@10.0.0.5:1884/")
    assert (b.username, b.password, b.port) == ("board", "p@ss", 1884)
    assert "p@ss" not in str(b), "a logged broker never shows its password"
    assert url_problem("") is None, "empty: MQTT off"


@pytest.mark.parametrize("url, words", [
    ("http://127.0.0.1:1883", "scheme must be mqtt:// or mqtts://"),
    ("127.0.0.1:1883", "scheme must be mqtt://"),
    ("mqtt://:1883", "no broker host"),
    ("mqtt://host:99999", "not a broker URL"),
    ("mqtt://host/topic", "no path, query or fragment"),
])  # fmt: skip
def test_a_bad_broker_url_says_why(url, words):
    assert words in (url_problem(url) or "")


@pytest.mark.parametrize("prefix, bad", [("hotline/site-a", False), ("a", False), ("a/+/b", True), ("a/#", True),
                                         ("/a", True), ("a/", True), ("a//b", True), ("$SYS/x", True)])  # fmt: skip
def test_topic_prefixes(prefix, bad):
    assert (prefix_problem(prefix) is not None) is bad


def _site_with(tmp_path: Path, mqtt: str) -> Path:
    text = LAB_SITE.read_text().replace("[asterisk]", f"{mqtt}\n[asterisk]", 1)
    f = tmp_path / "site.toml"
    f.write_text(text)
    return f


def test_the_site_files_mqtt_section_defaults_and_problems_with_file_and_line(tmp_path):
    site = load_site(LAB_SITE)
    assert site["mqtt"] == {"url": "", "topic_prefix": ""}
    assert topic_prefix(site["mqtt"], site["site"]["name"]) == f"hotline/{site['site']['name']}"
    ok = load_site(_site_with(tmp_path, '[mqtt]\nurl = "mqtt://127.0.0.1:1884"\ntopic_prefix = "floor/3"\n'))
    assert topic_prefix(ok["mqtt"], "x") == "floor/3"

    f = _site_with(tmp_path, '[mqtt]\nurl = "tcp://127.0.0.1"\ntopic_prefix = "a/#"\n')
    with pytest.raises(ConfigError) as exc:
        load_site(f)
    lines = f.read_text().splitlines()
    url_line = lines.index('url = "tcp://127.0.0.1"') + 1
    assert exc.value.problems[0].startswith(f"{f}:{url_line}: mqtt.url: 'tcp://127.0.0.1': the scheme must be")
    assert exc.value.problems[1].startswith(f"{f}:{url_line + 1}: mqtt.topic_prefix: no '+', '#'")


# ---- topics and backoff (pure) -----------------------------------------------------------------------------
def test_each_bus_change_has_its_topic_and_retain_flag():
    p = "hotline/demo"
    agent = message(p, Change("agent", "1001", 5.0, {"state": "idle", "status": "available"}))
    assert (agent.topic, agent.retain) == ("hotline/demo/agent/1001", True)
    assert json.loads(agent.payload) == {"topic": "agent", "key": "1001", "at": 5.0, "state": "idle",
                                         "status": "available"}  # fmt: skip
    assert message(p, Change("service", "sales/en", 1.0, {})).topic == "hotline/demo/service/sales_en"
    assert message(p, Change("campaign", "renewals", 1.0, {})).retain
    call = message(p, Change("call", "1700000000.12", 2.0, {"kind": "channel.new"}, retained=False))
    assert (call.topic, call.retain) == ("hotline/demo/calls/1700000000.12", False)
    status = message(p, Change("engine", "status", 3.0, {"ami": "up"}))
    assert (status.topic, status.retain, status.qos) == ("hotline/demo/status", True, 1)
    assert json.loads(status.payload) == {"topic": "engine", "key": "status", "state": "online", "at": 3.0,
                                          "ami": "up"}  # fmt: skip
    assert [level(k) for k in ("a+b", "a#", "", "x.y-z")] == ["a_b", "a_", "_", "x.y-z"]


def test_backoff_doubles_to_its_limit_and_starts_over_once_connected():
    b = Backoff(1.0, 30.0)
    assert [b.next() for _ in range(7)] == [1.0, 2.0, 4.0, 8.0, 16.0, 30.0, 30.0]
    b.reset()
    assert b.next() == 1.0


# ---- against a real mosquitto ------------------------------------------------------------------------------
@pytest.fixture
def broker(tmp_path):
    b = Mosquitto(tmp_path)
    b.start()
    yield b
    b.stop()


def _floor(bus: Bus, agents: int = 4) -> None:
    for i in range(agents):
        bus.publish(Change("agent", f"a{i}", 1.0, {"state": "idle"}))
    bus.publish(Change("service", "hotline", 1.0, {"offered": 3}))


async def test_states_retained_events_not_and_a_clean_stop_says_offline(broker):
    bus = Bus()
    _floor(bus)
    out = MqttOut(bus, parse_url(broker.url), "t/site", lambda: 100.0)
    task = asyncio.create_task(out.run())
    want = {f"t/site/agent/a{i}" for i in range(4)} | {"t/site/service/hotline", "t/site/status"}
    got = await retained(broker.port, "t/site/#", lambda g: want <= set(g))
    assert set(got) == want
    assert got["t/site/status"]["state"] == "online"

    async with aiomqtt.Client("127.0.0.1", broker.port) as watcher:
        await watcher.subscribe("t/site/#")
        bus.publish(Change("call", "c1", 2.0, {"kind": "channel.new"}, retained=False))
        bus.publish(Change("agent", "a1", 2.0, {"state": "ringing"}))
        seen = []
        async with asyncio.timeout(10):
            async for m in watcher.messages:
                if not m.retain:  # live messages (a subscriber's retained copies come first)
                    seen.append((str(m.topic), json.loads(bytes(m.payload))))
                if len(seen) == 2:
                    break
    assert seen == [("t/site/calls/c1", {"topic": "call", "key": "c1", "at": 2.0, "kind": "channel.new"}),
                    ("t/site/agent/a1", {"topic": "agent", "key": "a1", "at": 2.0, "state": "ringing"})]  # fmt: skip

    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    after = await retained(broker.port, "t/site/#", lambda g: len(g) >= len(want))
    assert after["t/site/status"] == {"topic": "engine", "key": "status", "state": "offline", "reason": "stopped",
                                      "at": 100.0}  # fmt: skip
    assert after["t/site/agent/a1"]["state"] == "ringing", "the last states stay on the broker"
    assert bus.subscribers == 0


WILL_SCRIPT = """
import asyncio, sys, time
from engine.live.bus import Bus, Change
from engine.mqtt.out import MqttOut
from engine.mqtt.settings import parse_url

async def main():
    bus = Bus()
    bus.publish(Change("agent", "a1", 1.0, {"state": "idle"}))
    await MqttOut(bus, parse_url(sys.argv[1]), "will/site", time.time, keepalive=60).run()

asyncio.run(main())
"""


async def test_an_engine_killed_uncleanly_leaves_offline_through_its_last_will(broker):
    proc = subprocess.Popen([sys.executable, "-c", WILL_SCRIPT, broker.url], cwd=ROOT,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})  # fmt: skip
    try:
        online = await retained(broker.port, "will/site/status", lambda g: g.get("will/site/status", {}).get(
            "state") == "online")  # fmt: skip
        assert online["will/site/status"]["state"] == "online"
        proc.send_signal(signal.SIGKILL)  # no DISCONNECT: the broker sees the connection drop
        proc.wait(10)
        t0 = time.monotonic()
        gone = await retained(broker.port, "will/site/status", lambda g: g.get("will/site/status", {}).get(
            "state") == "offline")  # fmt: skip
        assert gone["will/site/status"] == {"topic": "engine", "key": "status", "state": "offline",
                                            "reason": "connection lost"}  # fmt: skip
        # the kernel closed the socket, so the broker need not wait for the keepalive (60 s) to run out
        assert time.monotonic() - t0 < 60
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)


async def test_a_broker_that_never_answers_holds_nothing_of_the_engines(tmp_path):
    """TCP accepted, no CONNACK ever: the attempt times out in aiomqtt, the publisher holds no subscription
    meanwhile (the bus's changes pile up nowhere) and tries again after its backoff."""
    accepted: list[asyncio.StreamWriter] = []

    async def mute(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        accepted.append(writer)
        await reader.read()  # reads the CONNECT, answers nothing

    server = await asyncio.start_server(mute, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    bus = Bus()
    out = MqttOut(bus, Broker("127.0.0.1", port), "m/site", time.time, timeout=0.5, backoff=Backoff(0.1, 0.2))
    task = asyncio.create_task(out.run())
    try:
        async with asyncio.timeout(10):
            while len(accepted) < 3:
                for i in range(100):
                    bus.publish(Change("agent", f"a{i % 7}", time.time(), {"n": i}))
                assert bus.subscribers == 0 and not out.connected
                await asyncio.sleep(0.05)
        assert out.connects == 0 and "timed out" in out.last_error
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        server.close()
        for w in accepted:
            w.close()


async def test_a_publisher_behind_the_bus_starts_over_with_every_state_as_it_is_now(broker):
    bus = Bus()
    _floor(bus)
    out = MqttOut(bus, parse_url(broker.url), "b/site", time.time, limit=5)
    task = asyncio.create_task(out.run())
    try:
        await retained(broker.port, "b/site/status", bool)
        first = out.snapshots
        for n in range(200):  # all at once: far more than the 5 changes the publisher may have queued
            bus.publish(Change("agent", f"a{n % 4}", 3.0, {"state": "idle", "n": n}))
        want = {f"b/site/agent/a{i}": 196 + i for i in range(4)}  # each agent's last change
        got = await retained(broker.port, "b/site/agent/+", lambda g: {t: p.get("n") for t, p in g.items()} == want)
        assert {t: p["n"] for t, p in got.items()} == want
        assert out.snapshots > first, "it fell behind and started over from a snapshot"
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def test_a_retained_state_the_engine_no_longer_has_is_cleared_from_the_broker(broker):
    # a previous run's agent a9 (since taken out of the site file) and service "old" are still on the broker
    async with aiomqtt.Client("127.0.0.1", broker.port) as old:
        for topic in ("t/sweep/agent/a9", "t/sweep/service/old", "t/sweep/agent/a1"):
            await old.publish(topic, b'{"state":"idle"}', qos=1, retain=True)
    bus = Bus()
    _floor(bus)
    out = MqttOut(bus, parse_url(broker.url), "t/sweep", lambda: 100.0, sweep_wait=0.5)
    task = asyncio.create_task(out.run())
    try:
        async with asyncio.timeout(15):
            while out.cleared < 2:
                await asyncio.sleep(0.05)
        want = {f"t/sweep/agent/a{i}" for i in range(4)} | {"t/sweep/service/hotline", "t/sweep/status"}
        # a clearing is sent at QoS 0: counted once queued, so the broker may still hold it for a moment
        got = await retained(broker.port, "t/sweep/#", lambda g: set(g) == want)
        assert set(got) == want, "the stale ones are gone, the engine's own are there"
        assert got["t/sweep/agent/a1"]["topic"] == "agent", "a1 is the engine's own state, not the old one"
        assert out.cleared == 2
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


class _SweepClient:
    """What the sweep uses of aiomqtt's client: the broker's retained copies arrive on subscribing; ``during``
    runs inside each publish (the engine going on meanwhile)."""

    def __init__(self, out: MqttOut, held: list[str], during) -> None:  # type: ignore[no-untyped-def]
        self.out, self.held, self.during = out, held, during
        self.cleared: list[str] = []

    async def subscribe(self, topic: str, qos: int = 0) -> None:
        kind = topic.rsplit("/", 2)[-2]
        self.out._found |= {t for t in self.held if t.rsplit("/", 2)[-2] == kind}

    async def unsubscribe(self, topic: str) -> None:
        return None

    async def publish(self, topic: str, payload: bytes, qos: int = 0, retain: bool = False) -> None:
        if payload == b"":
            self.cleared.append(topic)
        self.during(topic)
        await asyncio.sleep(0)


async def test_the_sweep_leaves_a_state_the_engine_published_while_it_was_clearing():
    # a2 had a retained state from the last run and is the engine's again by the time the sweep reaches it:
    # clearing it then would wipe the state the pump has just sent
    bus = Bus()
    out = MqttOut(bus, Broker("127.0.0.1", 1), "t/race", lambda: 100.0, sweep_wait=0)
    held = ["t/race/agent/a1", "t/race/agent/a2"]

    def engine_goes_on(topic: str) -> None:
        if topic == "t/race/agent/a1":
            bus.publish(Change("agent", "a2", 2.0, {"state": "idle"}))

    client = _SweepClient(out, held, engine_goes_on)
    await out._sweep(client)  # type: ignore[arg-type]
    assert client.cleared == ["t/race/agent/a1"], "a2 is the engine's own now"
    assert out.cleared == 1


class _SwallowingClient:
    """A publish that returns normally when cancelled, as aiomqtt's does on Python 3.11 when the broker's
    acknowledgement lands in the same turn of the loop as the cancellation (asyncio.wait_for)."""

    def __init__(self) -> None:
        self.publishing = asyncio.Event()

    async def publish(self, *args: object, **kwargs: object) -> None:
        self.publishing.set()
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            return


async def test_a_stop_during_a_publish_ends_the_pump_even_if_the_publish_swallows_it():
    # the engine's stop hung for good this way: the pump went on to wait for the next bus change
    bus = Bus()
    out = MqttOut(bus, Broker("127.0.0.1", 1), "t/stop", lambda: 100.0)
    client = _SwallowingClient()
    sub = bus.subscribe(10, name="mqtt")
    pump = asyncio.create_task(out._pump(client, sub))  # type: ignore[arg-type]
    await asyncio.wait_for(client.publishing.wait(), 5)  # the status "online"
    pump.cancel()
    done, _ = await asyncio.wait([pump], timeout=5)
    assert done and pump.cancelled(), "the pump went on after its stop"
