"""Messages after calls, pure: the [[sms.after]] rules as `hotline check` reads them (file, line, key), and which
facts and call records call for a message, to whom, about what."""

import subprocess
import sys
from pathlib import Path
from zoneinfo import ZoneInfo

from engine.model.facts import Fact
from sms.notices import notices_of_fact, notices_of_record, read_rules

ROOT = Path(__file__).resolve().parent.parent
GOOD = (ROOT / "examples" / "lab-site.toml").read_text()
TZ = ZoneInfo("Asia/Shanghai")


def _check(tmp_path: Path, sms: str) -> subprocess.CompletedProcess[str]:
    (tmp_path / "pw").write_text("secret\n")
    f = tmp_path / "site.toml"
    f.write_text(GOOD + "\n" + sms)
    return subprocess.run([sys.executable, "-m", "engine.cli", "check", str(f)], capture_output=True, text=True,
                          cwd=ROOT)  # fmt: skip


def test_rules_are_checked_with_file_line_and_key(tmp_path):
    (tmp_path / "ack.txt").write_text("编号 {case}，{due} 前答复\n", encoding="utf-8")
    (tmp_path / "survey.txt").write_text("请评价本次服务 {case}\n", encoding="utf-8")
    gateway = ('[sms]\ngateway = "http://127.0.0.1:13013/cgi-bin/sendsms"\npassword_file = "pw"\n'
               'callback_url = "http://127.0.0.1:8080"\ntoken_file = "pw"\n')  # fmt: skip
    good = gateway + '[[sms.after]]\nname = "ack"\non = "complaint"\ntemplate = "ack.txt"\n'
    assert _check(tmp_path, good).returncode == 0
    bad = (gateway + '[[sms.after]]\nname = "ack"\non = "complain"\ntemplate = "ack.txt"\n'
           '[[sms.after]]\nname = "survey"\non = "call"\ntemplate = "survey.txt"\n'
           '[[sms.after]]\nname = "x y"\non = "callback"\ntemplate = "gone.txt"\n')  # fmt: skip
    r = _check(tmp_path, bad)
    lines = (GOOD + "\n" + bad).splitlines()
    assert r.returncode == 1, r.stdout
    line = lines.index('on = "complain"') + 1
    assert f":{line}: sms.after[0].on: must be one of complaint, callback, call" in r.stdout
    assert "sms.after[1].template: survey.txt uses case: a 'call' message has agent, call, service" in r.stdout
    assert "sms.after[2].name: required: 1-60 letters" in r.stdout
    assert "sms.after[2].template: " in r.stdout and "gone.txt: file not found" in r.stdout
    no_listener = _check(tmp_path, '[http]\nlisten = ""\n' + good)
    assert no_listener.returncode == 1 and "sms.gateway: needs http.listen" in no_listener.stdout
    no_gateway = _check(tmp_path, '[[sms.after]]\nname = "ack"\non = "complaint"\ntemplate = "ack.txt"\n')
    assert no_gateway.returncode == 1 and "sms.after: messages after calls need sms.gateway" in no_gateway.stdout


def _rules(tmp_path: Path) -> list:  # type: ignore[type-arg]
    (tmp_path / "a.txt").write_text("编号 {case}，{due} 前答复", encoding="utf-8")
    (tmp_path / "b.txt").write_text("第 {position} 位，稍后回电", encoding="utf-8")
    (tmp_path / "c.txt").write_text("请为 {agent} 的服务打分", encoding="utf-8")
    return read_rules([{"name": "ack", "on": "complaint", "template": "a.txt"},
                       {"name": "cb", "on": "callback", "service": "hotline", "template": "b.txt"},
                       {"name": "survey", "on": "call", "service": "hotline", "template": "c.txt"}],
                      tmp_path)  # fmt: skip


def test_which_facts_call_for_a_message(tmp_path):
    rules = _rules(tmp_path)
    due = 1_800_000_000.0  # 2027-01-15 08:00 UTC: 16:00 in Shanghai
    case = Fact(
        "case.opened",
        due - 86400,
        "c7",
        "",
        "case.opened:c7",
        {"kind": "complaint", "number": "+8613800138000", "due_at": due},
    )
    (n,) = notices_of_fact(rules, case, TZ)
    assert (n.rule.name, n.to.phone, n.to.ref) == ("ack", "+8613800138000", "c7")
    assert n.rule.template.render(n.to.fields) == "编号 c7，2027-01-15 16:00 前答复"
    follow_up = Fact("case.opened", 0, "c8", "", "k", {"kind": "follow_up", "number": "+8613800138000"})
    anonymous = Fact("case.opened", 0, "c9", "", "k", {"kind": "complaint", "number": ""})
    assert notices_of_fact(rules, follow_up, TZ) == [] and notices_of_fact(rules, anonymous, TZ) == []
    chosen = Fact("acd.callback", 0, "call:1", "u1", "k", {"number": "+8613800138001", "service": "hotline",
                                                           "position": 3})  # fmt: skip
    (cb,) = notices_of_fact(rules, chosen, TZ)
    assert cb.to.ref == "call-1" and cb.rule.template.render(cb.to.fields) == "第 3 位，稍后回电"
    other = Fact("acd.callback", 0, "call2", "u2", "k", {"number": "+8613800138001", "service": "sales"})
    assert notices_of_fact(rules, other, TZ) == []


def test_which_call_records_call_for_a_survey(tmp_path):
    rules = _rules(tmp_path)
    talked = {"call_id": "a1", "caller": "13800138000", "service": "hotline", "agent_id": "1001",
              "connected_at": 10.0, "ended_at": 70.0}  # fmt: skip
    (n,) = notices_of_record(rules, talked, "CN")
    assert n.to.phone == "+8613800138000" and n.rule.template.render(n.to.fields) == "请为 1001 的服务打分"
    assert notices_of_record(rules, {**talked, "connected_at": None}, "CN") == []  # never reached an agent
    assert notices_of_record(rules, {**talked, "service": "sales"}, "CN") == []
    assert notices_of_record(rules, {**talked, "caller": "anonymous"}, "CN") == []


def test_the_engine_sends_for_triggers_from_when_it_first_had_the_rule(tmp_path):
    import asyncio

    import httpx2 as httpx

    from sms.kannel import KannelGateway
    from sms.sender import NoticeSender
    from tests.test_sms_units import NOON, Clock, Ledger, accept, rules

    ledger, clock, seen = Ledger(), Clock(NOON), []

    def case(cid: str, at: float) -> Fact:
        return Fact("case.opened", at, cid, "", f"case.opened:{cid}",
                    {"kind": "complaint", "number": "+8613800138000", "due_at": at + 86400})  # fmt: skip

    ledger.rows["old"] = case("c1", NOON - 3600)  # opened an hour before the rule was added
    sender = NoticeSender(_rules(tmp_path), rules(), ledger=ledger, records=_no_records, blocked=_never,
                          clock=clock, site_tz="Asia/Shanghai", region="CN")  # fmt: skip

    async def two_passes() -> None:
        await sender.learn_rules()
        gw = KannelGateway("http://k/cgi-bin/sendsms", "u", "p", "", httpx.AsyncClient(
            transport=httpx.MockTransport(accept(seen))))  # fmt: skip
        await sender.send(gw)
        ledger.rows["new"] = case("c2", clock.now() + 5)
        clock.t += 10
        await sender.send(gw)
        await sender.send(gw)  # a third pass finds nothing new

    asyncio.run(two_passes())
    assert [p["text"] for p in seen] == [f"编号 c2，{_local(NOON + 5 + 86400)} 前答复"]
    restarted = NoticeSender(_rules(tmp_path), rules(), ledger=ledger, records=_no_records, blocked=_never,
                             clock=clock, site_tz="Asia/Shanghai", region="CN")  # fmt: skip
    asyncio.run(restarted.learn_rules())
    assert restarted.since_rule["ack"] == NOON  # the first time the engine had it, kept across a restart


async def _no_records(since: float) -> list:  # type: ignore[type-arg]
    return []


async def _never(phone: str, campaign: str) -> bool:
    return False


def _local(t: float) -> str:
    import datetime as dt

    return dt.datetime.fromtimestamp(t, TZ).strftime("%Y-%m-%d %H:%M")


def test_a_rule_with_a_menu_node_follows_only_calls_that_passed_it(tmp_path):
    import asyncio

    import httpx2 as httpx

    from sms.kannel import KannelGateway
    from sms.sender import NoticeSender
    from tests.test_sms_units import NOON, Clock, Ledger, accept, rules

    (tmp_path / "s.txt").write_text("售后满意度调查：{call}", encoding="utf-8")
    after_sales = read_rules([{"name": "survey", "on": "call", "node": "after_sales", "template": "s.txt"}], tmp_path)
    ledger, clock, seen = Ledger(), Clock(NOON), []
    calls = [{"call_id": c, "caller": f"1380013800{i}", "service": "hotline", "agent_id": "1001",
              "connected_at": NOON + 1, "ended_at": NOON + 60} for i, c in enumerate(("k1", "k2"))]  # fmt: skip
    ledger.rows["step"] = Fact("ivr.step", NOON, "k1", "u1", "ivr.step:u1:1", {"node": "after_sales"})
    ledger.rows["other"] = Fact("ivr.step", NOON, "k2", "u2", "ivr.step:u2:1", {"node": "billing"})

    async def records(since: float) -> list:  # type: ignore[type-arg]
        return calls

    sender = NoticeSender(after_sales, rules(), ledger=ledger, records=records, blocked=_never, clock=clock,
                          site_tz="Asia/Shanghai", region="CN")  # fmt: skip

    async def one_pass() -> None:
        await sender.learn_rules()
        clock.t += 120
        gw = KannelGateway("http://k/cgi-bin/sendsms", "u", "p", "", httpx.AsyncClient(
            transport=httpx.MockTransport(accept(seen))))  # fmt: skip
        await sender.send(gw)

    asyncio.run(one_pass())
    assert [(p["to"], p["text"]) for p in seen] == [("+8613800138000", "售后满意度调查：k1")]


def test_the_send_command_names_what_it_cannot_use_before_sending_anything(tmp_path):
    from sim.ports import tcp_free_port

    (tmp_path / "pw").write_text("secret\n")
    (tmp_path / "tok").write_text("0123456789abcdef0123\n")
    dead = tcp_free_port()  # nothing listens there: neither a gateway nor the engine's callbacks
    site = tmp_path / "site.toml"
    site.write_text(GOOD + f'\n[sms]\ngateway = "http://127.0.0.1:{dead}/cgi-bin/sendsms"\npassword_file = "pw"\n'
                    f'callback_url = "http://127.0.0.1:{dead}"\ntoken_file = "tok"\n')  # fmt: skip
    (tmp_path / "t.txt").write_text("{name}您好\n", encoding="utf-8")
    (tmp_path / "bad.csv").write_text("phone,name\n12,甲\nabc,乙\n", encoding="utf-8")
    (tmp_path / "good.csv").write_text("phone,name\n13800138000,甲\n", encoding="utf-8")
    (tmp_path / "t2.txt").write_text("{name} {city}\n", encoding="utf-8")

    def send(template: str, listing: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "engine.cli", "sms", "send", "--campaign", "c1", "--template",
                               str(tmp_path / template), "--list", str(tmp_path / listing), "--site", str(site)],
                              capture_output=True, text=True, cwd=ROOT, timeout=60)  # fmt: skip

    r = send("t.txt", "bad.csv")
    assert r.returncode == 2 and "bad.csv:2:" in r.stderr and "bad.csv: no row with a number" in r.stderr
    r = send("t2.txt", "good.csv")
    assert r.returncode == 2 and "t2.txt uses city, which" in r.stderr
    r = send("t.txt", "good.csv")
    assert r.returncode == 2 and f"http://127.0.0.1:{dead}/sms/kannel/ping does not answer" in r.stderr
    assert "Start the engine first" in r.stderr and r.stdout == ""
