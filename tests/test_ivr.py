"""The IVR's brains without Asterisk: the interpreter walked by scripted digits, the menu checks (each class
of error with file and line), reload keeping the running menu, the degraded script and the CDR reader."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from engine.config import load_site
from ivr.classic import run as classic_run
from ivr.degraded import parse_cdr
from ivr.interpreter import (
    CallbackRequest,
    Handover,
    Hangup,
    Interpreter,
    Play,
    RecordMessage,
    SayDigits,
    SetLanguage,
    SetVariables,
    Step,
    Transfer,
    WaitDigit,
    survey,
)
from ivr.menu import MenuError, load_menu
from ivr.places import IvrPlaces
from ivr.report import ivr_report
from ivr.session import IvrService
from ivr.settings import IvrSettings
from ivr.site_menu import SiteMenu

ROOT = Path(__file__).resolve().parents[1]
MENU = ROOT / "menus" / "hotline.toml"
SERVICES = ["hotline", "sales", "support"]
SKILLS = {"hotline", "sales", "support", "accounts"}
SH = dt.timezone(dt.timedelta(hours=8))
OPEN = dt.datetime(2026, 11, 23, 10, 0, tzinfo=SH)  # a Monday, 10:00 in Shanghai
CLOSED = dt.datetime(2026, 11, 23, 21, 0, tzinfo=SH)
SUNDAY = dt.datetime(2026, 11, 22, 10, 0, tzinfo=SH)
HOLIDAY = dt.datetime(2026, 10, 1, 10, 0, tzinfo=SH)


def menu():
    return load_menu(MENU, services=SERVICES, skills=SKILLS)


def walk(now: dt.datetime, script: list[str | None], m=None):
    """Run the interpreter; digits (or None for silence) answer each command that can take one."""
    it = Interpreter(m or menu(), now, case="case-1")
    cmds = []
    cmd = it.start()
    script = list(script)
    while True:
        cmds.append(cmd)
        if it.done:
            return cmd, cmds, it
        reply = None
        if isinstance(cmd, WaitDigit | SayDigits) or (isinstance(cmd, Play) and cmd.escape):
            reply = script.pop(0) if script else None
        elif isinstance(cmd, RecordMessage):
            reply = 12.0
        cmd = it.send(reply)


def steps(cmds):
    return [(c.node, c.kind, c.detail) for c in cmds if isinstance(c, Step)]


def test_ascending_path_reaches_sales_in_english():
    end, cmds, it = walk(OPEN, ["2", "1"])
    assert end == Handover("sales", 0, {}, True, "sales")
    assert SetLanguage("en") in cmds
    plays = [c for c in cmds if isinstance(c, Play)]
    assert plays[0] == Play("welcome", "zh", "0123456789*#", 4.0)
    assert plays[1].language == "en" and plays[1].prompt == "main_menu"
    assert ("language", "digit", "2") in steps(cmds) and ("main", "digit", "1") in steps(cmds)


def test_descending_and_repeated_digits_collect_an_account():
    # 1 (Mandarin), 3 (account), then 9 8 7 7 7 6 # : descending and repeated digits are all kept
    end, cmds, it = walk(OPEN, ["1", "3", "9", "8", "7", "7", "7", "6", "#"])
    assert end == Handover("support", 2, {"accounts": 50}, True, "account_support")
    assert it.variables["ACCOUNT"] == "987776"
    assert SetVariables({"ACCOUNT": "987776"}) in cmds
    assert SetVariables({"SEGMENT": "account"}, ("identified",)) in cmds
    assert ("account", "collected", "6") in steps(cmds)


def test_account_stops_at_max_length_without_terminator():
    end, _, it = walk(OPEN, ["1", "3", *"12345678"])
    assert it.variables["ACCOUNT"] == "12345678" and end.service == "support" and end.priority == 2


def test_invalid_digit_then_valid_uses_reprompt():
    end, cmds, _ = walk(OPEN, ["1", "7", "2"])
    assert end.service == "support" and end.node == "support"
    assert ("main", "invalid", "7") in steps(cmds)
    plays = [c.prompt for c in cmds if isinstance(c, Play)]
    assert plays == ["welcome", "main_menu", "invalid", "main_short"]


def test_silence_follows_the_retry_rules_then_default_service():
    # language menu: 2 tries then default 'main'; main: 3 tries (retries = 2) then the default service
    end, cmds, _ = walk(OPEN, [])
    assert end == Handover("hotline", 0, {}, False, "main")
    st = steps(cmds)
    assert [s for s in st if s[1] == "timeout"] == [
        ("language", "timeout", "1"), ("language", "timeout", "2"),
        ("main", "timeout", "1"), ("main", "timeout", "2"), ("main", "timeout", "3"),
    ]  # fmt: skip
    assert ("language", "default", "main") in st and ("main", "default", "hotline") in st
    plays = [c.prompt for c in cmds if isinstance(c, Play)]
    assert plays == ["welcome", "language_short", "main_menu", "no_input", "main_short", "no_input", "main_short"]
    # each prompt and the wait after it are one command (GET OPTION): no gap where a digit could be lost
    assert [c.wait for c in cmds if isinstance(c, Play) and c.escape] == [4, 4, 5, 5, 5]
    assert not any(isinstance(c, WaitDigit) for c in cmds)


def test_invalid_three_times_goes_to_default_service():
    end, cmds, _ = walk(OPEN, ["1", "7", "8", "*"])
    assert end.service == "hotline" and [s[2] for s in steps(cmds) if s[1] == "invalid"] == ["7", "8", "*"]


def test_short_account_is_invalid_and_retried():
    end, cmds, it = walk(OPEN, ["1", "3", "1", "2", "#", "5", "5", "5", "5", "5", "5", "#"])
    assert ("account", "invalid", "1") in steps(cmds) and it.variables["ACCOUNT"] == "555555"


def test_closed_hours_take_a_voicemail_and_hang_up():
    for now, node in ((CLOSED, "closed"), (SUNDAY, "closed"), (HOLIDAY, "holiday")):
        end, cmds, _ = walk(now, [])
        assert end == Hangup(node)
        assert RecordMessage("voicemail", "case-1", 120) in cmds
        assert ("hours", node if node == "holiday" else "closed", "") in steps(cmds)


def test_callback_captures_and_confirms_a_number():
    end, cmds, _ = walk(OPEN, ["1", "4", *"13800138000", "#", None, "1"])
    assert CallbackRequest("13800138000", "hotline") in cmds
    assert SayDigits("13800138000", "12") in cmds
    assert isinstance(end, Hangup)


def test_callback_reenter_with_2():
    end, cmds, _ = walk(OPEN, ["1", "4", *"1380013", "#", "2", *"13900139000", "#", "1"])
    assert CallbackRequest("13900139000", "hotline") in cmds


def test_transfer_and_complaint():
    end, _, _ = walk(OPEN, ["1", "9"])
    assert end == Transfer("4008000000", "partner")
    end, cmds, _ = walk(OPEN, ["1", "5"])
    assert end == Hangup("complaint") and RecordMessage("complaint", "case-1", 120) in cmds
    assert ("complaint", "recorded", "complaint") in steps(cmds)


def test_hangup_is_recorded_at_the_current_node():
    it = Interpreter(menu(), OPEN)
    cmd = it.start()
    while not (isinstance(cmd, Play) and cmd.prompt == "main_menu"):
        cmd = it.send("1" if isinstance(cmd, Play) and cmd.escape else None)
    assert it.hung_up() == Step("main", "hangup")
    assert it.done


def test_survey_scores_and_retries():
    m = menu()

    def run(replies):
        g = survey(m, "zh")
        cmd = next(g)
        replies = list(replies)
        try:
            while True:
                r = None
                if isinstance(cmd, WaitDigit) or (isinstance(cmd, Play) and cmd.escape):
                    r = replies.pop(0) if replies else None
                cmd = g.send(r)
        except StopIteration as s:
            return s.value

    assert run(["5"]) == 5
    assert run(["9", "4"]) == 4
    assert run([None, None, None, None]) is None


# ---- menu checks: each class of error, with file and line ----------------------------------------------
BAD = """\
[menu]
start = "main"
languages = ["zh", "en"]
default_service = "hotline"

[hours]
mon = "18:00-09:00"
funday = "09:00-10:00"
holidays = ["2026-13-01"]

[prompts.hello]
zh = "你好"

[nodes.main]
type = "menu"
prompt = "hello"
options = { "1" = "sales", "1" = "support" }
"""


def problems(tmp: Path, text: str) -> list[str]:
    f = tmp / "menu.toml"
    f.write_text(text)
    with pytest.raises(MenuError) as e:
        load_menu(f, services=SERVICES, skills=SKILLS)
    return e.value.problems


def test_duplicate_digits_named_with_line(tmp_path):
    (p,) = problems(tmp_path, BAD)
    assert p == f"{tmp_path / 'menu.toml'}:17: nodes.main.options: duplicate digit '1'"


GOOD_HEAD = """\
[menu]
start = "main"
languages = ["zh", "en"]
default_service = "hotline"

[prompts.hello]
zh = "你好"
en = "hello"
"""


def test_each_class_of_menu_error_with_file_and_line(tmp_path):
    text = (
        GOOD_HEAD
        + """
[hours]
mon = "18:00-09:00"
funday = "09:00-10:00"
holidays = ["2026-13-01"]

[nodes.main]
type = "menu"
prompt = "hello"
options = { "1" = "sales", "2" = "loop_a", "3" = "vip", "4" = "nowhere" }

[nodes.sales]
type = "route"
service = "slaes"

[nodes.vip]
type = "route"
service = "support"
skills = { klingon = 50 }

[nodes.loop_a]
type = "play"
prompt = "hello"
next = "loop_b"

[nodes.loop_b]
type = "play"
prompt = "goodbye"
next = "loop_a"

[nodes.orphan]
type = "hangup"
"""
    )
    f = str(tmp_path / "menu.toml")
    got = problems(tmp_path, text)
    expect = [
        f"{f}:11: hours.mon: '18:00-09:00' ends before it starts",
        f"{f}:12: hours.funday: unknown day",
        f"{f}:13: hours.holidays: '2026-13-01' is not a date",
        f"{f}:18: nodes.main.options: option 4 leads to unknown node 'nowhere'",
        f"{f}:22: nodes.sales.service: route to unknown service 'slaes' (did you mean 'sales'?)",
        f"{f}:27: nodes.vip.skills: unknown skill 'klingon'",
        f"{f}:36: nodes.loop_b.prompt: prompt 'goodbye' is not defined in [prompts]",
        f"{f}:39: nodes.orphan: node 'orphan' is unreachable from menu.start",
        f"{f}:29: nodes.loop_a: node 'loop_a' has no exit",
        f"{f}:34: nodes.loop_b: node 'loop_b' has no exit",
    ]
    for e in expect:
        assert any(p.startswith(e) for p in got), f"missing {e!r} in:\n" + "\n".join(got)
    assert not any("nodes.sales:" in p and "no exit" in p for p in got)


def test_missing_prompt_file_for_a_language(tmp_path):
    text = GOOD_HEAD.replace('en = "hello"\n', "") + '\n[nodes.main]\ntype = "hangup"\nprompt = "hello"\n'
    (p,) = problems(tmp_path, text)
    assert p.startswith(f"{tmp_path / 'menu.toml'}:6: prompts.hello: missing prompt file: 'hello' has no en text")
    # a studio recording for the language fills the gap
    (tmp_path / "studio" / "en").mkdir(parents=True)
    (tmp_path / "studio" / "en" / "hello.wav").write_bytes(b"RIFF")
    f = tmp_path / "menu.toml"
    f.write_text(text.replace('default_service = "hotline"', 'default_service = "hotline"\nstudio_dir = "studio"'))
    assert load_menu(f, services=SERVICES, skills=SKILLS).studio_dir.endswith("studio")


def test_check_command_reports_menu_errors(tmp_path, capsys):
    from engine.cli import main

    (tmp_path / "menu.toml").write_text(BAD)
    site = tmp_path / "site.toml"
    site.write_text(SITE.format(menu="menu.toml"))
    assert main(["check", str(site)]) == 1
    assert f"{tmp_path / 'menu.toml'}:17: nodes.main.options: duplicate digit '1'" in capsys.readouterr().out


SITE = """\
[site]
name = "t"
[asterisk]
lab = true
[hotline]
number = "4001234567"
agent = "1001"
[ivr]
menu = "{menu}"
[[agents]]
id = "1001"
skills = {{ hotline = 90, sales = 80, support = 80, accounts = 60 }}
[[services]]
name = "hotline"
[[services]]
name = "sales"
[[services]]
name = "support"
"""


def test_reload_keeps_the_running_menu_when_the_new_file_is_invalid(tmp_path):
    f = tmp_path / "menu.toml"
    f.write_text(MENU.read_text().replace('studio_dir = "../prompts/studio"', ""))
    site_file = tmp_path / "site.toml"
    site_file.write_text(SITE.format(menu="menu.toml"))
    site = load_site(site_file)
    snap = tmp_path / "menu.json"
    settings = IvrSettings.of(site["ivr"])
    svc = IvrService(settings, SiteMenu.of(site, settings), IvrPlaces("/p", None, snap, None), ledger=None,
                     calls=None, spawner=None, clock=None, on_queued=None)  # type: ignore[arg-type]
    first = svc.menu
    assert json.loads(snap.read_text())["menu"]["start"] == "hours"
    f.write_text(f.read_text().replace('service = "sales"', 'service = "nosuch"'))
    got = svc.reload()
    assert got and "route to unknown service 'nosuch'" in got[0]
    assert svc.menu is first  # still running the old one
    assert json.loads(snap.read_text())["menu"]["nodes"]["sales"]["service"] == "sales"
    f.write_text(f.read_text().replace('service = "nosuch"', 'service = "support"'))
    assert svc.reload() == [] and svc.menu.nodes["sales"]["service"] == "support"


# ---- degraded mode: the classic script's walk and the CDR reader ----------------------------------------
class FakePyst:
    """pyst2's AGI methods, answering from a script."""

    def __init__(self, digits):
        self.digits = list(digits)
        self.env = {"agi_uniqueid": "1.1"}
        self.vars: dict[str, str] = {}
        self.played: list[str] = []

    def stream_file(self, f, escape=""):
        self.played.append(f)
        return self.digits.pop(0) if escape and self.digits else ""

    def get_option(self, f, escape="", timeout=0):
        return self.stream_file(f, escape)

    def wait_for_digit(self, timeout):
        return self.digits.pop(0) if self.digits else ""

    def say_digits(self, d, escape=""):
        return ""

    def set_variable(self, k, v):
        self.vars[k] = v

    def record_file(self, *a):
        return None

    def hangup(self):
        self.vars["hung_up"] = "1"


def test_classic_script_ends_every_route_at_the_hotline_agent():
    snap = {"menu": menu().to_dict(), "prompt_dir": "/snd/hotline", "agent_endpoint": "agent1001"}
    snap = json.loads(json.dumps(snap))  # exactly what the engine writes and the script reads
    agi = FakePyst(["2", "1"])
    assert classic_run(agi, snap, OPEN) == "PJSIP/agent1001"
    assert agi.vars["HOTLINE_DEGRADED_TARGET"] == "PJSIP/agent1001"
    assert agi.vars["CHANNEL(language)"] == "en"
    assert agi.played[:2] == ["/snd/hotline/zh/welcome", "/snd/hotline/en/main_menu"]
    agi = FakePyst(["1", "9"])
    assert classic_run(agi, snap, OPEN) == "PJSIP/4008000000@trunk"


def test_cdr_reader_counts_degraded_calls_once():
    rows = [
        '"","13800138000","4001234567","engine-degraded","""Caller"" <13800138000>","PJSIP/trunk-00000001",'
        '"PJSIP/agent1001-00000002","Dial","PJSIP/agent1001,30","2026-11-22 10:00:00","2026-11-22 10:00:09",'
        '"2026-11-22 10:00:20",20,11,"ANSWERED","DOCUMENTATION","1763805600.1","hotline-degraded"',
        '"","13800138001","4001234567","from-trunk","","PJSIP/trunk-00000003","","AGI","x","2026-11-22 10:01:00",'
        '"2026-11-22 10:01:00","2026-11-22 10:01:20",20,20,"ANSWERED","DOCUMENTATION","1763805660.3",""',
    ]
    calls = parse_cdr("\n".join(rows) + "\n")
    assert len(calls) == 1
    c = calls[0]
    assert (c.uniqueid, c.agent_channel, c.billsec, c.disposition) == (
        "1763805600.1", "PJSIP/agent1001-00000002", 11, "ANSWERED")  # fmt: skip


def test_report_counts_per_node():
    from engine.model.facts import Fact

    def step(call, node, kind, detail=""):
        return Fact("ivr.step", 0.0, call, call, f"{call}{node}{kind}{detail}", {"node": node, "step": kind,
                                                                                  "detail": detail})  # fmt: skip

    facts = [step("a", "main", "enter"), step("a", "main", "digit", "1"), step("b", "main", "enter"),
             step("b", "main", "timeout", "1"), step("b", "main", "hangup"),
             Fact("ivr.overflow", 0.0, "c", "c", "o", {}),
             Fact("ivr.survey", 0.0, "a", "a", "s", {"score": 5, "agent": "1001"}),
             Fact("ivr.survey", 0.0, "d", "d", "s2", {"score": 3, "agent": "1001"})]  # fmt: skip
    r = ivr_report(facts)
    assert r["nodes"]["main"] == {"entered": 2, "timeout": 1, "hangup": 1, "options": {"1": 1}}
    assert r["over_limit"] == 1
    assert r["survey"]["by_agent"]["1001"] == {"responses": 2, "mean": 4.0, "top2": 0.5}


def test_prompts_build_text_and_studio_files(tmp_path):
    """espeak-ng + sox give 8 kHz mono files in three formats; a studio file wins; a second run skips."""
    import subprocess
    import wave

    from ivr.model import Menu
    from ivr.prompts import build_prompts

    studio = tmp_path / "studio"
    (studio / "en").mkdir(parents=True)
    subprocess.run(["sox", "-n", "-r", "44100", "-c", "2", str(studio / "en" / "hello.wav"), "synth", "1.5",
                    "sine", "440"], check=True)  # fmt: skip
    m = Menu("x", ("zh", "en"), "hotline", {}, {"hello": {"zh": "你好", "en": "hello"}})
    built = build_prompts(m, tmp_path / "out", studio)
    assert {(b.language, b.source, b.skipped) for b in built} == {("zh", "text", False), ("en", "studio", False)}
    for lang in ("zh", "en"):
        with wave.open(str(tmp_path / "out" / lang / "hello.wav")) as w:
            assert (w.getframerate(), w.getnchannels(), w.getsampwidth()) == (8000, 1, 2)
            assert w.getnframes() > 4000
        for ext in ("ulaw", "alaw"):
            assert (tmp_path / "out" / lang / f"hello.{ext}").stat().st_size > 4000
    with wave.open(str(tmp_path / "out" / "en" / "hello.wav")) as w:
        assert abs(w.getnframes() / 8000 - 1.5) < 0.05  # the studio file's length, not speech
    assert all(b.skipped for b in build_prompts(m, tmp_path / "out", studio))


def test_run_refuses_a_bad_menu_with_file_and_line(tmp_path, capsys):
    from engine.cli import main

    (tmp_path / "menu.toml").write_text(BAD)
    site = tmp_path / "site.toml"
    site.write_text(SITE.format(menu="menu.toml"))
    assert main(["run", str(site), "--seconds", "1"]) == 2
    assert f"{tmp_path / 'menu.toml'}:17: nodes.main.options: duplicate digit '1'" in capsys.readouterr().err


def test_wrong_shapes_are_named_not_crashed_on(tmp_path):
    # a section that is not a table, and survey values of the wrong type
    text = (
        'hours = "always"\n'
        + GOOD_HEAD
        + """
[survey]
prompt = "hello"
timeout = "five"
retries = 2.5

[nodes.main]
type = "hangup"
"""
    )
    got = problems(tmp_path, text)
    f = str(tmp_path / "menu.toml")
    assert f"{f}:1: hours: [hours] must be a table" in got
    assert any(p.startswith(f"{f}:13: survey.timeout: must be seconds") for p in got), got
    assert any(p.startswith(f"{f}:14: survey.retries: must be an integer") for p in got), got
