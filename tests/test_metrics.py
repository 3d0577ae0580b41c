"""The engine's /metrics: call counters from hand-made call records (each call once, split as the report splits
it), gauges from the bus's retained states, the event-lag histogram, the HTTP listener and the [http] setting."""

from __future__ import annotations

import asyncio
import socket
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from prometheus_client.exposition import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from engine.asterisk.ami_codec import Frame
from engine.config import ConfigError, load_site
from engine.live.bus import Bus, Change
from engine.live.metrics import EngineMetrics
from engine.store.stats import by_service
from engine.web.app import create_app
from engine.web.server import HttpListenError, HttpServer

ROOT = Path(__file__).resolve().parent.parent
T0 = 1_800_000_000.0
NAMES = {
    "hotline_calls_offered", "hotline_calls_answered", "hotline_calls_abandoned", "hotline_calls_short_abandoned",
    "hotline_calls_other", "hotline_callers_waiting", "hotline_agents", "hotline_ami_up", "hotline_ami_reconnects",
    "hotline_event_lag_seconds", "hotline_dialer_abandon_ratio", "hotline_dialer_lines", "hotline_agi_sessions",
}  # fmt: skip


def row(call_id: str, outcome: str, wait: float | None, service: str = "hotline", queued: bool = True) -> dict:
    arrived = T0 + 100
    return {"call_id": call_id, "service": service, "outcome": outcome, "arrived_at": arrived,
            "queued_at": arrived + 10 if queued else None, "queue_wait": wait, "ended_at": arrived + 60,
            "talk_time": 40.0 if outcome == "answered" else 0.0, "hold_time": 0.0, "wrap_up_time": 0.0}  # fmt: skip


def scrape(registry) -> dict[str, dict[tuple, float]]:  # type: ignore[no-untyped-def]
    """Metric family -> {(sample name, sorted labels): value}, parsed back from the exposition text."""
    out: dict[str, dict[tuple, float]] = {}
    for fam in text_string_to_metric_families(generate_latest(registry).decode()):
        out[fam.name] = {(s.name, tuple(sorted(s.labels.items()))): s.value for s in fam.samples}
    return out


def by_label(families: dict, name: str, label: str) -> dict[str, float]:
    return {dict(labels)[label]: v for (_, labels), v in families[name].items()}


def test_calls_are_counted_once_each_and_split_as_the_report_splits_them():
    rows = [
        row("a1", "answered", 12.0),
        row("a2", "answered", 3.0),
        row("b1", "abandoned", 40.0),  # past the 5-s short-abandon threshold
        row("s1", "abandoned", 2.0),  # within it
        row("c1", "callback", 30.0),
        row("t1", "timeout", 300.0),
        row("i1", "ivr_hangup", None, queued=False),  # never queued: not offered
        row("x1", "answered", 8.0, service="support"),
        row("x2", "abandoned", 9.0, service="support"),
    ]
    m = EngineMetrics(Bus(), services=["hotline", "support", "sales"])
    for r in rows:
        m.on_record(r)
    m.on_record(rows[0])  # a record derived again: counted already
    m.on_record({**rows[2], "queue_wait": 41.0})
    got = scrape(m.registry)
    offered = by_label(got, "hotline_calls_offered", "service")
    answered = by_label(got, "hotline_calls_answered", "service")
    abandoned = by_label(got, "hotline_calls_abandoned", "service")
    short = by_label(got, "hotline_calls_short_abandoned", "service")
    other = by_label(got, "hotline_calls_other", "service")
    assert offered == {"hotline": 6, "support": 2, "sales": 0}, "a configured service shows 0 before its first call"
    assert answered == {"hotline": 2, "support": 1, "sales": 0}
    assert abandoned == {"hotline": 1, "support": 1, "sales": 0}
    assert short == {"hotline": 1, "support": 0, "sales": 0}
    assert other == {"hotline": 2, "support": 0, "sales": 0}
    report = by_service(rows, {"hotline": 15.0, "support": 15.0})
    for service, st in report.items():
        for figure, counted in (("offered", offered), ("answered", answered), ("abandoned", abandoned),
                                ("short_abandoned", short), ("other", other)):  # fmt: skip
            assert counted[service] == st[figure], (service, figure)
    # exposed as counters: offered_total = answered_total + abandoned_total + short_abandoned_total + other_total
    assert ("hotline_calls_offered_total", (("service", "hotline"),)) in got["hotline_calls_offered"]


def test_gauges_come_from_the_buses_retained_states():
    bus = Bus()
    m = EngineMetrics(bus)
    empty = scrape(m.registry)
    assert set(empty) == NAMES, "every named metric, and no other, from the first scrape"
    assert empty["hotline_ami_up"][("hotline_ami_up", ())] == 0, "no engine status yet: AMI not known to be up"

    def agent(key: str, status: str, state: str) -> Change:
        return Change("agent", key, T0, {"status": status, "reason": "", "state": state, "since": T0,
                                          "device_busy": False, "call": None})  # fmt: skip

    for c in (agent("1001", "available", "on_call"), agent("1002", "available", "idle"),
              agent("1003", "paused", "idle"), agent("1004", "paused", "wrap_up"),
              agent("1005", "logged_out", "idle"), agent("1006", "available", "on_call")):  # fmt: skip
        bus.publish(c)
    bus.publish(Change("service", "hotline", T0, {"waiting": 3, "longest_wait": 40, "callbacks": 1}))
    bus.publish(Change("service", "support", T0, {"waiting": 0, "longest_wait": 0, "callbacks": 0}))
    bus.publish(Change("campaign", "renewals", T0, {"lines": 7, "abandon_rate": 0.025}))
    bus.publish(Change("campaign", "winback", T0, {"lines": 0, "abandon_rate": None}))
    bus.publish(Change("engine", "status", T0, {"ami": "up", "link_up_at": T0, "ami_reconnects": 2,
                                                "agi_sessions": 5, "facts_written": 99}))  # fmt: skip
    got = scrape(m.registry)
    assert by_label(got, "hotline_agents", "state") == {"on_call": 2, "idle": 1, "paused": 1, "wrap_up": 1,
                                                        "logged_out": 1}  # fmt: skip
    # campaign agents: logged out as the ACD sees them, working for the dialer as the board sees them
    for key, phase in (("2001", "talking"), ("2002", "wrap"), ("2003", "idle"), ("2004", "preview")):
        bus.publish(Change("agent", key, T0, {"status": "logged_out", "reason": "", "state": "idle", "since": T0,
                                              "device_busy": False, "call": None, "holder": "dialer",
                                              "phase": phase}))  # fmt: skip
    got = scrape(m.registry)
    assert by_label(got, "hotline_agents", "state") == {"on_call": 3, "idle": 2, "paused": 1, "wrap_up": 2,
                                                        "logged_out": 1, "preview": 1}  # fmt: skip
    assert by_label(got, "hotline_callers_waiting", "service") == {"hotline": 3, "support": 0}
    assert by_label(got, "hotline_dialer_lines", "campaign") == {"renewals": 7, "winback": 0}
    assert by_label(got, "hotline_dialer_abandon_ratio", "campaign") == {"renewals": 0.025}, "none before a live one"
    assert got["hotline_ami_up"][("hotline_ami_up", ())] == 1
    assert got["hotline_ami_reconnects"][("hotline_ami_reconnects_total", ())] == 2
    assert got["hotline_agi_sessions"][("hotline_agi_sessions", ())] == 5
    # the link drops: the next scrape says so
    bus.publish(Change("engine", "status", T0 + 1, {"ami": "down", "link_up_at": T0, "ami_reconnects": 2,
                                                    "agi_sessions": 0, "facts_written": 99}))  # fmt: skip
    assert scrape(m.registry)["hotline_ami_up"][("hotline_ami_up", ())] == 0


def test_event_lag_is_the_age_of_each_applied_event_in_real_seconds():
    now = [100.0]
    m = EngineMetrics(Bus(), monotonic=lambda: now[0])
    for received in (99.9996, 99.997, 99.997, 99.7, 88.0):  # 0.4 ms, 3 ms twice, 300 ms, 12 s
        m.on_frame(Frame([("Event", "Newstate")], received=received))
    m.on_frame(Frame([("Event", "Newstate")]))  # not read by a link (a test's, a resync's listing): no age
    lag = scrape(m.registry)["hotline_event_lag_seconds"]
    buckets = {dict(labels)["le"]: v for (name, labels), v in lag.items() if name.endswith("_bucket")}
    assert buckets["0.0005"] == 1 and buckets["0.001"] == 1
    assert buckets["0.005"] == 3 and buckets["0.25"] == 3 and buckets["0.5"] == 4
    assert buckets["10.0"] == 4 and buckets["+Inf"] == 5
    assert lag[("hotline_event_lag_seconds_count", ())] == 5
    assert lag[("hotline_event_lag_seconds_sum", ())] == pytest.approx(0.0004 + 0.003 + 0.003 + 0.3 + 12.0)


def _get(url: str) -> tuple[int, str, str]:
    with urllib.request.urlopen(url, timeout=5) as r:
        return r.status, r.headers["Content-Type"], r.read().decode()


async def test_the_listener_serves_metrics_and_lets_go_of_its_port_when_cancelled():
    m = EngineMetrics(Bus(), services=["hotline"])
    m.on_record(row("a1", "answered", 4.0))
    server = HttpServer(create_app(metrics=m.registry), "127.0.0.1", 0)
    server.bind()
    assert server.port > 0, "port 0 takes a free one, and the server knows which"
    task = asyncio.create_task(server.serve(), name="http")
    status, kind, text = await asyncio.to_thread(_get, f"{server.url}/metrics")
    assert status == 200 and kind.startswith("text/plain")
    assert 'hotline_calls_answered_total{service="hotline"} 1.0' in text
    with pytest.raises(urllib.error.HTTPError) as err:
        await asyncio.to_thread(_get, f"{server.url}/nothing")
    assert err.value.code == 404
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    with pytest.raises(OSError):
        await asyncio.to_thread(_get, f"{server.url}/metrics")
    again = HttpServer(create_app(metrics=m.registry), "127.0.0.1", server.port)
    again.bind()  # the same port at once: an engine restarted in the same process listens again
    again.close()


def test_a_taken_port_is_one_error_naming_the_setting_and_the_address():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        server = HttpServer(create_app(), "127.0.0.1", port)
        with pytest.raises(HttpListenError) as err:
            server.bind()
    assert str(err.value) == f"http.listen: cannot listen on 127.0.0.1:{port}: Address already in use"


def _site(tmp_path: Path, http: str | None) -> Path:
    text = (ROOT / "examples" / "lab-site.toml").read_text()
    if http is not None:
        text += f"\n[http]\nlisten = {http}\n"
    f = tmp_path / "site.toml"
    f.write_text(text)
    return f


def test_http_listen_setting(tmp_path):
    assert load_site(_site(tmp_path, None))["http"]["listen"] == "127.0.0.1:8080", "the default"
    assert load_site(_site(tmp_path, '""'))["http"]["listen"] == "", "none"
    assert load_site(_site(tmp_path, '"[::1]:9100"'))["http"]["listen"] == "[::1]:9100"
    for bad in ('"8080"', '"localhost:http"', '"127.0.0.1:70000"', "8080"):
        f = _site(tmp_path, bad)
        line = f.read_text().splitlines().index(f"listen = {bad}") + 1
        with pytest.raises(ConfigError) as err:
            load_site(f)
        assert f"site.toml:{line}: http.listen: must be " in str(err.value), str(err.value)
