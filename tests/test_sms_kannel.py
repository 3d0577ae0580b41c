"""Bulk SMS through a real Kannel: bearerbox and smsbox on loopback with Kannel's fakesmsc as the operator's SMSC,
the engine as the composition root builds it (its HTTP listener takes the delivery reports and replies; the
virtual PBX stands in for Asterisk, which SMS does not touch), and `hotline sms send` as a person runs it.

What the operator received (fakesmsc's own output) is the truth every test checks against."""

import asyncio
import datetime as dt
import json
import subprocess
import sys
import threading
import time
from collections import Counter, defaultdict
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from engine.asterisk.fastagi import FastAgiServer
from engine.clock import ScaledClock
from engine.config import load_site
from engine.store.store import Store, migrate
from sim import world
from sim.pbx.model import VirtualPbx
from sim.ports import tcp_free_port
from sim.vtime import MemoryAgiTransport, virtual_link
from sms.encoding import encode
from sms.routes import mo_query
from tests.kannel import Kannel

pytestmark = pytest.mark.gateway
ROOT = Path(__file__).resolve().parent.parent
TOKEN = "cb-secret-for-tests"


class Site:
    """Kannel, and the engine serving its callbacks in a thread of its own, on one site file."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.kannel = Kannel(tmp / "kannel")
        http = tcp_free_port()
        callback = f"http://127.0.0.1:{http}"
        self.kannel.configure(mo_query(callback, TOKEN))
        (tmp / "ami_secret").write_text("virtual\n")
        (tmp / "kannel_password").write_text(self.kannel.password + "\n")
        (tmp / "sms_token").write_text(TOKEN + "\n")
        self.url = f"sqlite+aiosqlite:///{tmp / 'h.db'}"
        text = world.site_text(ami_port=5038, agi_port=4573, secret_file=tmp / "ami_secret", store_url=self.url,
                               recordings=tmp / "rec", queue_log=tmp / "queue_log",
                               http=f"127.0.0.1:{http}")  # fmt: skip
        text += (f'\n[sms]\ngateway = "{self.kannel.send_url}"\nusername = "{self.kannel.username}"\n'
                 f'password_file = "kannel_password"\nsender = "10690"\ncallback_url = "{callback}"\n'
                 f'token_file = "sms_token"\nwindow = "00:00-24:00"\nrate = 50\nretry_for = 60\n'
                 f'confirm_wait = 5\n'
                 '\n[[sms.after]]\nname = "complaint-ack"\non = "complaint"\ntemplate = "complaint.txt"\n')  # fmt: skip
        (tmp / "complaint.txt").write_text("您的投诉已受理，编号 {case}，我们将于 {due} 前答复。\n", encoding="utf-8")
        self.file = tmp / "site.toml"
        self.file.write_text(text)
        self.kannel.start()
        self.stop = threading.Event()
        self.up = threading.Event()
        self.thread = threading.Thread(target=lambda: asyncio.run(self._engine()), name="engine", daemon=True)
        self.thread.start()
        assert self.up.wait(30), "the engine did not start"

    async def _engine(self) -> None:
        import composition

        site = load_site(self.file)
        await asyncio.to_thread(migrate, self.url)
        clock = ScaledClock(1.0)  # the engine on real time, as `hotline run` (its facts carry the real time)
        pbx = VirtualPbx(clock)
        store = Store(self.url)
        eng = composition.build(site, clock, link=virtual_link(pbx, clock),
                                agi=FastAgiServer(transport=MemoryAgiTransport()), store=store,
                                finish_recordings=False)  # fmt: skip
        task = asyncio.create_task(eng.run(), name="engine")
        self.engine, self.loop = eng, asyncio.get_running_loop()
        self.up.set()
        while not self.stop.is_set() and not task.done():
            await asyncio.sleep(0.1)
        await eng.stop()
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await pbx.close()
        await store.close()

    def record(self, facts: list) -> None:  # type: ignore[type-arg]
        """Facts written by the engine itself, in its own loop (as its features write them)."""
        asyncio.run_coroutine_threadsafe(self.engine.record(facts), self.loop).result(10)

    def hotline(self, *args: str, timeout: float = 240) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "engine.cli", *args, "--site", str(self.file)], cwd=ROOT,
                              capture_output=True, text=True, timeout=timeout)  # fmt: skip

    def facts(self, kind: str) -> list[dict]:
        async def read() -> list[dict]:
            store = Store(self.url)
            try:
                return [dict(f.data, call=f.call_id) for f in await store.facts(None, (kind,))]
            finally:
                await store.close()

        return asyncio.run(read())

    def wait_facts(self, kind: str, n: int, timeout: float = 60) -> list[dict]:
        end = time.monotonic() + timeout
        while True:
            got = self.facts(kind)
            if len(got) >= n or time.monotonic() > end:
                return got
            time.sleep(0.5)

    def close(self) -> None:
        self.stop.set()
        self.thread.join(30)
        self.kannel.close()


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    s = Site(tmp_path_factory.mktemp("sms"))
    yield s
    s.close()


def messages(kannel: Kannel) -> dict[str, list[tuple[bytes, str]]]:
    """Per recipient, the whole messages the operator received (long ones put together from their parts), each
    with the type fakesmsc gave it (``text``, ``ucs-2``, or ``data`` for a long text's parts)."""
    out: dict[str, list[tuple[bytes, str]]] = defaultdict(list)
    parts: dict[tuple[str, int], dict[int, bytes]] = defaultdict(dict)
    for d in kannel.delivered():
        if d.part is None:
            out[d.to].append((d.data, d.coding))
            continue
        ref, total, no = d.part
        parts[(d.to, ref)][no] = d.data
        if len(parts[(d.to, ref)]) == total:
            whole = parts.pop((d.to, ref))
            out[d.to].append((b"".join(whole[i] for i in range(1, total + 1)), d.coding))
    return out


def as_sent(text: str) -> tuple[bytes, str]:
    """What the operator should receive for ``text``: its bytes in its coding, and fakesmsc's type for it."""
    enc = encode(text)
    data = text.encode("utf-16-be") if enc.coding == "ucs2" else text.encode("latin-1")
    return data, "data" if enc.parts > 1 else "ucs-2" if enc.coding == "ucs2" else "text"


def write_list(path: Path, rows: list[tuple[str, str, str]]) -> None:
    path.write_text("phone,name,note\n" + "".join(f"{p},{n},{x}\n" for p, n, x in rows), encoding="utf-8")


def test_a_thousand_messages_arrive_once_with_their_text_and_coding_and_every_report_reaches_the_ledger(site):
    rows = []
    for i in range(1000):
        phone = f"+86137{i:08d}"
        if i % 2:
            rows.append((phone, f"张{i}", "您的积分即将到期" * (9 if i % 10 == 1 else 1)))  # one in ten: 2 parts
        else:
            rows.append((phone, f"Li {i}", "your points expire soon"))
    write_list(site.tmp / "thousand.csv", rows)
    (site.tmp / "t1.txt").write_text("{name}: {note}\n", encoding="utf-8")
    t0 = time.monotonic()
    r = site.hotline("sms", "send", "--campaign", "thousand", "--template", str(site.tmp / "t1.txt"),
                     "--list", str(site.tmp / "thousand.csv"), "--rate", "200/s")  # fmt: skip
    took = time.monotonic() - t0
    assert r.returncode == 0, r.stderr
    summary = json.loads(r.stdout)
    assert summary["sent"] == 1000 and summary["parts"] == 1000 + 100 and summary["skipped"] == {}
    assert took >= 999 / 200  # the rate holds: no faster than 200 a second
    got = site.kannel
    deadline = time.monotonic() + 60
    while sum(len(v) for v in messages(got).values()) < 1000 and time.monotonic() < deadline:
        time.sleep(0.5)
    by = messages(got)
    want = {p: f"{n}: {x}" for p, n, x in rows}
    assert set(by) == set(want)
    for phone, text in want.items():
        (received,) = by[phone]  # exactly once
        assert received == as_sent(text)
    reports = site.wait_facts("sms.dlr", 2000)  # each message: taken by the SMSC, then delivered
    delivered = {d["phone"] for d in reports if d["status"] == "delivered"}
    assert delivered == set(want)
    rep = site.hotline("sms", "report", "--campaign", "thousand", "--json")
    (row,) = json.loads(rep.stdout)
    assert (row["sent"], row["parts"], row["delivered"], row["pending"], row["failed"]) == (1000, 1100, 1000, 0, 0)


def wait_for(what, timeout: float = 30):  # type: ignore[no-untyped-def]
    end = time.monotonic() + timeout
    while not (got := what()) and time.monotonic() < end:
        time.sleep(0.3)
    return got


def test_an_opt_out_reply_in_either_coding_stops_the_next_message(site):
    x, y, z = "+8613600000001", "+8613600000002", "+8613600000003"
    write_list(site.tmp / "first.csv", [(x, "甲", "-"), (y, "乙", "-")])
    write_list(site.tmp / "second.csv", [(x, "甲", "-"), (y, "乙", "-"), (z, "丙", "-")])
    (site.tmp / "t2.txt").write_text("{name}您好，回复TD退订\n", encoding="utf-8")
    first = site.hotline("sms", "send", "--campaign", "first", "--template", str(site.tmp / "t2.txt"),
                         "--list", str(site.tmp / "first.csv"))  # fmt: skip
    assert first.returncode == 0, first.stderr
    assert wait_for(lambda: len(messages(site.kannel).get(x, [])) and len(messages(site.kannel).get(y, [])))
    # the operator hands over the customers' replies: x writes "td" in 7-bit text, y "退订" in UCS-2
    # (fakesmsc sends one of its messages at random: one restart a reply)
    site.kannel.smsc(f"{x} 10690 text td")
    site.wait_facts("sms.opt_out", 1)
    site.kannel.smsc(f"{y} 10690 ucs2 %90%00%8B%A2")
    outs = site.wait_facts("sms.opt_out", 2)
    assert sorted((o["phone"], o["word"]) for o in outs) == [(x, "TD"), (y, "退订")]
    replies = {r["phone"]: r["text"] for r in site.facts("sms.in")}
    assert replies[x] == "td" and replies[y] == "退订"
    second = site.hotline("sms", "send", "--campaign", "second", "--template", str(site.tmp / "t2.txt"),
                          "--list", str(site.tmp / "second.csv"))  # fmt: skip
    assert second.returncode == 0, second.stderr
    summary = json.loads(second.stdout)
    assert summary["sent"] == 1 and summary["skipped"] == {"opted_out": 2}
    assert wait_for(lambda: messages(site.kannel).get(z))
    time.sleep(1)
    assert [len(messages(site.kannel)[n]) for n in (x, y, z)] == [1, 1, 1]  # the second campaign reached z only
    rep = json.loads(site.hotline("sms", "report", "--campaign", "second", "--json").stdout)
    assert sum(r["opted_out"] for r in rep) == 2


def test_a_gateway_restart_mid_batch_loses_and_doubles_nothing(site):
    rows = [(f"+86135{i:08d}", f"Wang {i}", "see you") for i in range(300)]
    write_list(site.tmp / "restart.csv", rows)
    (site.tmp / "t3.txt").write_text("{name}, {note}\n", encoding="utf-8")
    before = sum(len(v) for v in messages(site.kannel).values())
    send = subprocess.Popen([sys.executable, "-m", "engine.cli", "sms", "send", "--campaign", "restart",
                             "--template", str(site.tmp / "t3.txt"), "--list", str(site.tmp / "restart.csv"),
                             "--rate", "60/s", "--site", str(site.file)], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)  # fmt: skip
    try:
        assert wait_for(lambda: sum(len(v) for v in messages(site.kannel).values()) - before >= 100)
        site.kannel.stop()  # as its init script stops it: smsbox, then bearerbox, then the operator's side
        time.sleep(2)
        site.kannel.start()
        out, err = send.communicate(timeout=180)
    finally:
        send.kill()
    assert send.returncode == 0, err
    assert "the gateway is down" in err  # the batch saw the restart, and waited it out
    summary = json.loads(out)
    assert summary["sent"] == 300 and summary["stopped"] == ""
    assert wait_for(lambda: all(messages(site.kannel).get(p) for p, _, _ in rows), 60)
    time.sleep(2)  # a double would come now
    by = messages(site.kannel)
    assert Counter(len(by[p]) for p, _, _ in rows) == {1: 300}
    sent = [f for f in site.facts("sms.sent") if f["call"] == "sms:restart"]
    assert len(sent) == 300


def test_a_complaint_gets_its_case_number_by_sms_once_per_case(site):
    from cases.notifier import CaseNotifier

    number = "+8613400000001"
    due = time.time() + 5 * 86400
    opened = []

    async def open_case(case: str) -> None:
        class Keep:  # the case notifier's ledger: the facts go to the engine, as the cases service's do
            async def record(self, facts):  # type: ignore[no-untyped-def]
                opened.extend(facts)

        await CaseNotifier(Keep()).opened(case, time.time(), kind="complaint", source="agent", number=number,
                                          call="", lead="", owner="1001", team="front", due_at=due,
                                          note="")  # fmt: skip

    for case in ("c901", "c902"):
        asyncio.run(open_case(case))
    site.record(opened[:1])
    assert wait_for(lambda: messages(site.kannel).get(number))
    site.record(opened[:1])  # the same fact again (a restart reading it twice): no second message
    site.record(opened[1:])  # a second complaint: a second message
    assert wait_for(lambda: len(messages(site.kannel).get(number, [])) >= 2)
    time.sleep(1.5)
    texts = sorted(data.decode("utf-16-be") for data, _ in messages(site.kannel)[number])
    tz = ZoneInfo(load_site(site.file)["site"]["timezone"])
    when = dt.datetime.fromtimestamp(due, tz).strftime("%Y-%m-%d %H:%M")
    assert texts == [f"您的投诉已受理，编号 {c}，我们将于 {when} 前答复。" for c in ("c901", "c902")]
    sent = [f for f in site.facts("sms.sent") if f["call"] == "sms:complaint-ack"]
    assert sorted(f["ref"] for f in sent) == ["c901", "c902"]
