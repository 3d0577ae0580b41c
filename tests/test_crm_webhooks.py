"""Webhooks to an external CRM: signed, in the ledger's order, each event once, and none lost while the receiver
is down or the engine restarts. The receiver is a real HTTP server on loopback; the store a real SQLite file (and,
for the receiver that is down a while, a real PostgreSQL database too)."""

from __future__ import annotations

import asyncio
import json
import socket
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from sqlalchemy import insert, select

from crm import webhooks as wh
from crm.sender import WebhookSender
from crm.settings import CrmSettings
from engine.clock import RealClock
from engine.model.facts import Fact, fact_key
from engine.store.store import Store, migrate
from engine.store.tables import call_records, ledger

SECRET = b"0123456789abcdef-test-secret"
ROOT = Path(__file__).resolve().parent.parent


def test_a_signature_holds_for_its_body_and_time_only():
    raw = wh.body({"id": 7, "event": "disposition", "data": {"code": "sale"}})
    header = wh.sign(SECRET, 1_800_000_000, raw)
    assert wh.verify(SECRET, header, raw, now=1_800_000_010)
    assert not wh.verify(SECRET, header, raw.replace(b"sale", b"none"), now=1_800_000_010)  # body changed
    assert not wh.verify(b"another-secret-of-16", header, raw, now=1_800_000_010)
    assert not wh.verify(SECRET, header, raw, now=1_800_000_000 + 301)  # a replay, later
    forged = header.replace("t=1800000000", "t=1800000300")  # a new time on the old signature
    assert not wh.verify(SECRET, forged, raw, now=1_800_000_300)
    # a forged header of any shape is refused, not an error
    for bad in ("", "t=x,v1=00", "v1=abc", "t=1800000000,v1=é", "t=1800000000"):
        assert not wh.verify(SECRET, bad, raw, now=1_800_000_010), bad


def test_what_an_answer_means_and_how_long_the_next_try_waits():
    assert wh.judge(200) is wh.judge(204) is wh.Answer.DELIVERED
    assert wh.judge(422) is wh.judge(400) is wh.Answer.REFUSED  # this event's content
    # the receiver's to fix (down, wrong address, signature refused, overloaded): tried again, nothing skipped
    for status in (None, 401, 403, 404, 408, 429, 500, 503, 301):
        assert wh.judge(status) is wh.Answer.RETRY, status
    tries = wh.Tries(longest=10.0)
    assert [tries.wait() for _ in range(6)] == [1.0, 2.0, 4.0, 8.0, 10.0, 10.0]


def test_events_are_the_facts_a_crm_needs():
    end = Fact("call.end", 100.0, "c1", "u1", fact_key("call.end", "c1"), {"closed": "", "reason": ""})
    record = {"call_id": "c1", "caller": "+8613800138000", "outcome": "answered", "agent_id": "1001"}
    got = wh.event(41, end, record)
    assert got == {"id": 41, "event": "call.ended", "at": 100.0,
                   "data": {**record, "closed_by": ""}}  # fmt: skip
    assert wh.wanted(end, record) and not wh.wanted(end, None)  # an agent's own call, a session: no caller's record
    d = Fact("outbound.disposition", 101.0, "dl-x", "u2", "k", {"agent": "2001", "lead": 5, "code": "sale",
                                                              "label": "Sale"})  # fmt: skip
    assert wh.event(42, d, None)["data"] == {"call_id": "dl-x", "agent": "2001", "lead": 5, "code": "sale",
                                             "label": "Sale"}  # fmt: skip
    c = Fact("case.opened", 102.0, "C-1", "", "k2", {"kind": "complaint"})
    assert wh.event(43, c, None) == {"id": 43, "event": "case.opened", "at": 102.0,
                                     "data": {"case": "C-1", "kind": "complaint"}}  # fmt: skip
    assert wh.source_kinds({"disposition"}) == ("outbound.disposition",)
    o = Fact("sale.corrected", 103.0, "dl-x", "dl-x", "k3", {"order": "sale-dl-x", "version": 2, "amount": 29800,
                                                            "supersedes": 1, "reason": "one returned"})  # fmt: skip
    assert wh.event(44, o, None) == {"id": 44, "event": "sale.corrected", "at": 103.0,
                                     "data": {"call_id": "dl-x", **o.data}}  # fmt: skip
    assert wh.source_kinds({"sale"}) == ("sale.order", "sale.corrected")


class _Receiver:
    """A CRM's endpoint: keeps each request's event, delivery id and whether its signature held."""

    def __init__(self, port: int, refuse: frozenset[str] = frozenset()) -> None:
        self.got: list[dict] = []
        got, refusing = self.got, refuse

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                raw = self.rfile.read(int(self.headers["Content-Length"]))
                body = json.loads(raw)
                signed = wh.verify(SECRET, self.headers[wh.SIGNATURE_HEADER], raw, time.time())
                got.append({"id": body["id"], "event": body["event"], "data": body["data"],
                            "delivery": self.headers["X-Hotline-Delivery"], "signed": signed})  # fmt: skip
                status = 422 if body["event"] in refusing else 200
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _facts(n0: int, n: int, at: float) -> list[Fact]:
    out = []
    for i in range(n0, n0 + n):
        out.append(Fact("call.end", at, f"c{i}", f"u{i}", fact_key("call.end", f"c{i}"), {"closed": ""}))
        out.append(Fact("outbound.disposition", at, f"c{i}", f"u{i}", fact_key("outbound.disposition", f"c{i}"),
                        {"agent": "2001", "code": "sale", "label": "Sale"}))  # fmt: skip
        out.append(Fact("channel.new", at, f"c{i}", f"u{i}", fact_key("channel.new", f"u{i}"), {}))  # not an event
    return out


def _dial(i: int, at: float) -> list[Fact]:
    """A dial that found no one, and the end of an agent's own call (no caller's record: not an event)."""
    return [Fact("outbound.result", at, f"dl-{i}", f"dl-{i}", fact_key("outbound.result", f"dl-{i}"),
                 {"campaign": "renewals", "lead": i, "outcome": "no_answer"}),
            Fact("call.end", at, f"own-{i}", f"own-{i}", fact_key("call.end", f"own-{i}"), {"closed": ""})]  # fmt: skip


async def _records(store: Store, *calls: str) -> None:
    """The callers' records, as the engine derives them in the same step as each call's end."""
    async with store.engine.begin() as conn:
        for c in calls:
            await conn.execute(insert(call_records).values(
                call_id=c, caller="+8613800138000", dialed="400", arrived_at=1.0, agent_id="2001", hold_time=0.0,
                hangup_side="caller", outcome="answered", digit="", recording=""))  # fmt: skip


async def _wait(pred, timeout: float = 30.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not pred():
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        await asyncio.sleep(0.05)


def test_a_receiver_down_for_a_while_gets_every_event_later_once_and_in_order_across_a_restart(store_url):
    # on SQLite and on PostgreSQL (whose ledger ids are given out as rows are inserted, not as they commit)
    url = store_url
    migrate(url)
    port = _free_port()
    settings = CrmSettings(f"http://127.0.0.1:{port}/hook", SECRET, frozenset({"call", "disposition", "case"}),
                           timeout=2.0, retry_max=0.8)  # fmt: skip
    receiver: list[_Receiver] = []

    async def scenario() -> list[int]:
        store = Store(url)
        clock = RealClock()

        async def record(facts: list[Fact]) -> None:
            await store.append(facts, clock.now())

        await record(_facts(0, 1, clock.now()))  # before the webhook existed: not sent
        sender = WebhookSender(settings, store.engine, record, clock, first_wait=0.1, settle=0.2, poll=0.3)
        task = asyncio.create_task(sender.run(), name="crm-webhooks")
        await _wait(lambda: sender.mark >= 0)
        await _records(store, "c1", "c2", "c3", "c4")
        await record(_facts(1, 2, clock.now()) + _dial(3, clock.now()) + _facts(3, 1, clock.now()))  # receiver down
        await _wait(lambda: sender.failing_since is not None)
        await asyncio.sleep(1.0)  # a few tries fail
        down = sender.status()
        receiver.append(_Receiver(port))
        await _wait(lambda: sender.delivered == 7)
        # /metrics' view: how long the receiver failed the event at the head, then back to 0 once it took it
        assert down["failing_seconds"] >= 0.9 and down["delivered"] == 0, down
        assert sender.status() == {"delivered": 7.0, "refused": 0.0, "failing_seconds": 0.0}
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        # the engine starts again: it goes on after the last event it delivered
        await record(_facts(4, 1, clock.now()))
        again = WebhookSender(settings, store.engine, record, clock, first_wait=0.1, settle=0.2, poll=0.3)
        task = asyncio.create_task(again.run(), name="crm-webhooks")
        await _wait(lambda: again.delivered == 2)
        await asyncio.sleep(0.8)  # nothing more comes
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        async with store.engine.connect() as conn:
            sent = (await conn.execute(select(ledger.c.data).where(ledger.c.kind == wh.SENT))).scalars().all()
        await store.close()
        return [int(d["id"]) for d in sent]

    try:
        sent = asyncio.run(scenario())
    finally:
        for r in receiver:
            r.close()
    got = receiver[0].got
    assert [(g["event"], g["data"]["call_id"]) for g in got] == [
        ("call.ended", "c1"), ("disposition", "c1"), ("call.ended", "c2"), ("disposition", "c2"),
        ("dial.result", "dl-3"), ("call.ended", "c3"), ("disposition", "c3"),
        ("call.ended", "c4"), ("disposition", "c4")]  # fmt: skip
    assert all(g["signed"] for g in got)
    ids = [g["id"] for g in got]
    assert ids == sorted(set(ids)) and [int(g["delivery"]) for g in got] == ids  # once each, in the ledger's order
    assert got[0]["data"]["caller"] == "+8613800138000" and got[0]["data"]["outcome"] == "answered"
    assert got[4]["data"] == {"call_id": "dl-3", "campaign": "renewals", "lead": 3, "outcome": "no_answer"}
    assert sent == ids  # each delivery written down: where a restart goes on from


def test_an_event_the_receiver_refuses_is_written_down_and_the_next_ones_still_go(tmp_path):
    url = f"sqlite+aiosqlite:///{tmp_path / 'h.db'}"
    migrate(url)
    port = _free_port()
    receiver = _Receiver(port, refuse=frozenset({"call.ended"}))
    settings = CrmSettings(f"http://127.0.0.1:{port}/hook", SECRET, frozenset({"call", "disposition"}), 2.0, 1.0)

    async def scenario() -> tuple[list[str], int, int]:
        store = Store(url)
        clock = RealClock()

        async def record(facts: list[Fact]) -> None:
            await store.append(facts, clock.now())

        sender = WebhookSender(settings, store.engine, record, clock, first_wait=0.1, settle=0.2, poll=0.3)
        task = asyncio.create_task(sender.run(), name="crm-webhooks")
        await _wait(lambda: sender.mark >= 0)
        await _records(store, "c1")
        await record(_facts(1, 1, clock.now()))
        await _wait(lambda: sender.delivered + sender.refused == 2)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        async with store.engine.connect() as conn:
            kinds = (await conn.execute(select(ledger.c.kind).where(ledger.c.call_id == wh.STATE_CALL)
                                        .order_by(ledger.c.id))).scalars().all()  # fmt: skip
        await store.close()
        return list(kinds), sender.delivered, sender.refused

    try:
        kinds, delivered, refused = asyncio.run(scenario())
    finally:
        receiver.close()
    assert [g["event"] for g in receiver.got] == ["call.ended", "disposition"]  # refused once, not tried again
    assert (delivered, refused) == (1, 1)
    assert kinds == [wh.FROM, wh.REFUSED, wh.SENT]


@pytest.mark.parametrize(("crm", "problem"), [
    ('webhook_url = "http://127.0.0.1:9/hook"\n', "crm.webhook_secret_file: required with crm.webhook_url"),
    ('webhook_url = "http://127.0.0.1:9/hook"\nwebhook_secret_file = "short"\n',
     "crm.webhook_secret_file: the secret in"),
    ('webhook_url = "http://127.0.0.1:9/hook"\nwebhook_secret_file = "gone"\n', "crm.webhook_secret_file: cannot read"),
    ('webhook_url = "ftp://x"\n', "crm.webhook_url: must be an http:// or https:// URL"),
    ('webhook_events = ["calls"]\n', "crm.webhook_events: unknown event group(s) calls"),
    ('webhook_events = []\n', "crm.webhook_events: must name at least one of call, disposition, case"),
])  # fmt: skip
def test_the_site_check_names_what_is_wrong_in_crm(tmp_path, crm, problem):
    (tmp_path / "short").write_text("abc\n")
    f = tmp_path / "site.toml"
    text = (ROOT / "examples" / "lab-site.toml").read_text() + "\n[crm]\n" + crm
    f.write_text(text)
    r = subprocess.run([sys.executable, "-m", "engine.cli", "check", str(f)], capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 1 and problem in r.stdout, r.stdout
    field = problem.split(":", 1)[0].removeprefix("crm.")
    line = next((i for i, t in enumerate(text.splitlines(), 1) if t.startswith(field + " ")), None)
    if line is not None:  # the problem is on the field's own line (a missing field has none)
        assert f"site.toml:{line}: {problem}" in r.stdout, r.stdout


def test_the_composition_root_starts_the_webhooks_only_when_the_site_names_a_receiver(tmp_path):
    import composition
    from engine.asterisk.fastagi import FastAgiServer
    from engine.clock import VirtualClock
    from engine.config import load_site
    from sim import world
    from sim.pbx.model import VirtualPbx
    from sim.vtime import MemoryAgiTransport, virtual_link

    (tmp_path / "ami").write_text("virtual\n")
    (tmp_path / "hook-secret").write_text("a-secret-of-sixteen-or-more\n")
    text = world.site_text(ami_port=5038, agi_port=4573, secret_file=tmp_path / "ami",
                           store_url=f"sqlite+aiosqlite:///{tmp_path / 'h.db'}", recordings=tmp_path / "rec",
                           queue_log=tmp_path / "queue_log", outbound_agents=2)  # fmt: skip
    built = {}
    for name, crm in (("off", ""), ("on", '\n[crm]\nwebhook_url = "http://127.0.0.1:9/hook"\n'
                                          'webhook_secret_file = "hook-secret"\nwebhook_events = ["case"]\n')):
        f = tmp_path / f"{name}.toml"
        f.write_text(text.replace('listen = ""', f'listen = "127.0.0.1:{_free_port()}"', 1) + crm)
        site = load_site(f)
        clock = VirtualClock(1_800_000_000.0)
        store = Store(site["store"]["url"])
        eng = composition.build(site, clock, link=virtual_link(VirtualPbx(clock), clock),
                                agi=FastAgiServer(transport=MemoryAgiTransport()), store=store,
                                finish_recordings=False)  # fmt: skip
        built[name] = eng
        eng.features["http"].close()
        asyncio.run(store.close())
    assert "crm" not in built["off"].features
    assert "crm-webhooks" not in [n for n, _ in built["off"].feature_tasks]
    sender = built["on"].features["crm"]
    assert isinstance(sender, WebhookSender) and sender.settings.secret == b"a-secret-of-sixteen-or-more"
    assert sender.kinds == wh.CASE_KINDS
    assert "crm-webhooks" in [n for n, _ in built["on"].feature_tasks] and sender.on_facts in built["on"].fact_hooks
    # and /metrics reads its status
    assert built["on"].features["metrics"].webhooks == sender.status
    assert built["off"].features["metrics"].webhooks is None


def test_metrics_carry_the_webhooks_counts_and_how_long_the_receiver_has_failed():
    from engine.live.bus import Bus
    from engine.live.metrics import EngineMetrics
    from tests.test_metrics import scrape

    status = {"delivered": 12.0, "refused": 1.0, "failing_seconds": 42.5}
    got = scrape(EngineMetrics(Bus(), webhooks=lambda: status).registry)
    assert got["hotline_crm_webhooks_delivered"][("hotline_crm_webhooks_delivered_total", ())] == 12
    assert got["hotline_crm_webhooks_refused"][("hotline_crm_webhooks_refused_total", ())] == 1
    assert got["hotline_crm_webhook_failing_seconds"][("hotline_crm_webhook_failing_seconds", ())] == 42.5
    assert not [n for n in scrape(EngineMetrics(Bus()).registry) if "crm" in n], "none without a webhook_url"
