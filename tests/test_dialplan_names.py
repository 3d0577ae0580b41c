"""The names in engine/dialplan.py against asterisk-conf/extensions.conf, and the FastAGI routes the
composition root serves against the ones the dialplan calls: a rename on one side alone breaks calls only
at run time, on a real Asterisk."""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

from acd.feature_codes import ACTIONS, OUTBOUND_ACTIONS
from engine import dialplan as dp

ROOT = Path(__file__).resolve().parent.parent
CONF = ROOT / "asterisk-conf" / "extensions.conf"
COMPOSITION = ROOT / "composition.py"


@dataclass(frozen=True)
class Line:
    exten: str
    priority: str  # "1", "n" or "n(label)" as written
    app: str
    data: str


@dataclass
class Dialplan:
    contexts: dict[str, list[Line]]
    globals: dict[str, str]

    def extens(self, context: str) -> set[str]:
        return {line.exten for line in self.contexts[context]}

    def apps(self, app: str) -> list[tuple[str, Line]]:
        return [(ctx, line) for ctx, lines in self.contexts.items() for line in lines if line.app == app]


_HEADER = re.compile(r"^\[([^\]]+)\]")
_EXTEN = re.compile(r"^(exten|same)\s*=>\s*(.*)$")
_APP = re.compile(r"^(\w+)\((.*)\)$")


def parse(text: str) -> Dialplan:
    """``[context]`` headers, ``exten => name,prio,App(data)`` and ``same => prio,App(data)`` lines; ``;``
    starts a comment. [general] and [globals] hold settings, not extensions."""
    contexts: dict[str, list[Line]] = {}
    settings: dict[str, dict[str, str]] = {}
    context, exten = "", ""
    for raw in text.splitlines():
        line = raw.split(";", 1)[0].strip()
        if not line:
            continue
        if m := _HEADER.match(line):
            context, exten = m.group(1), ""
            if context in ("general", "globals"):
                settings[context] = {}
            else:
                contexts.setdefault(context, [])
            continue
        if context in settings:
            name, _, value = line.partition("=")
            settings[context][name.strip()] = value.strip()
            continue
        m = _EXTEN.match(line)
        assert m and context, f"not a dialplan line: {raw!r}"
        if m.group(1) == "exten":
            exten, rest = m.group(2).split(",", 1)
        else:
            assert exten, f"same => with no exten before it: {raw!r}"
            rest = m.group(2)
        priority, call = rest.split(",", 1)
        app = _APP.match(call.strip())
        assert app, f"not App(data): {raw!r}"
        contexts[context].append(Line(exten.strip(), priority.strip(), app.group(1), app.group(2)))
    return Dialplan(contexts, settings.get("globals", {}))


def expand(value: str, variables: dict[str, str]) -> str:
    return re.sub(r"\$\{(\w+)\}", lambda m: variables.get(m.group(1), m.group(0)), value)


def agi_calls(plan: Dialplan) -> list[tuple[str, str, list[str]]]:
    """(context, route, arguments) of every ``AGI(agi://host:port/route,...)`` line (FastAGI only)."""
    out = []
    for ctx, line in plan.apps("AGI"):
        script, *args = expand(line.data, plan.globals).split(",")
        if script.startswith("agi://"):
            out.append((ctx, script.removeprefix("agi://").split("/", 1)[1], args))
    return out


def composition_routes() -> set[str]:
    """Route names of every ``agi.route(NAME, ...)`` (or ``engine.route``) in the composition root and the
    features' wiring (``plugin.py``), names read from engine.dialplan."""
    routes = set()
    for path in (COMPOSITION, *sorted(ROOT.glob("*/plugin.py")), *sorted(ROOT.glob("engine/*/plugin.py"))):
        tree = ast.parse(path.read_text())
        imported = {a.asname or a.name for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)
                    and n.module == "engine.dialplan" for a in n.names}  # fmt: skip
        for n in ast.walk(tree):
            if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr == "route" and n.args:
                arg = n.args[0]
                if isinstance(arg, ast.Constant):
                    routes.add(arg.value)
                else:
                    assert isinstance(arg, ast.Name) and arg.id in imported, f"{path.name}: {ast.unparse(arg)}"
                    routes.add(getattr(dp, arg.id))
    return routes


def matches(pattern: str, number: str) -> bool:
    """Asterisk's extension match: a name as is, or a ``_`` pattern (X, Z, N, [set], ``.`` and ``!``)."""
    if not pattern.startswith("_"):
        return pattern == number
    classes = {"X": "[0-9]", "Z": "[1-9]", "N": "[2-9]", ".": ".+", "!": ".*"}
    rx = "".join(classes.get(c, c if c in "[]-" else re.escape(c)) for c in pattern[1:])
    return re.fullmatch(rx, number) is not None


PLAN = parse(CONF.read_text())
CONTEXTS = {name: value for name, value in vars(dp).items() if name.endswith("_CONTEXT")}
ROUTES = {name: value for name, value in vars(dp).items() if name.endswith("_ROUTE")}


def test_the_parser_reads_contexts_extensions_and_same_lines():
    plan = parse("[globals]\nX = agi://h:1 ; where\n[a]\nexten => s,1,NoOp(x) ; y\n same => n(l),AGI(${X}/r,1,)\n"
                 "exten => _X.,1,Goto(a,s,1)\n[b]\nexten => 7,1,Hangup()\n")
    assert plan.globals == {"X": "agi://h:1"}
    assert plan.contexts == {"a": [Line("s", "1", "NoOp", "x"), Line("s", "n(l)", "AGI", "${X}/r,1,"),
                                   Line("_X.", "1", "Goto", "a,s,1")], "b": [Line("7", "1", "Hangup", "")]}
    assert agi_calls(plan) == [("a", "r", ["1", ""])]
    assert matches("_X.", "4001234567") and not matches("_X.", "+861380") and matches("_+X.", "+861380")
    assert not matches("_X.", "s") and matches("offer", "offer") and not matches("offer", "s")


def test_every_context_of_the_engine_is_in_the_dialplan():
    assert len(CONTEXTS) >= 14
    missing = {name: value for name, value in CONTEXTS.items() if value not in PLAN.contexts}
    assert not missing, f"not in {CONF.name}: {missing}"


def test_the_engine_enters_each_context_at_an_extension_it_has():
    starts = [dp.WAIT_CONTEXT, dp.ANNOUNCE_CONTEXT, dp.VOICEMAIL_CONTEXT, dp.TIMEOUT_CONTEXT, dp.DEGRADED_CONTEXT,
              dp.DONE_CONTEXT, dp.SURVEY_CONTEXT, dp.CONNECT_CONTEXT, dp.AGENT_CONTEXT]  # fmt: skip
    entries = [(ctx, dp.START) for ctx in starts] + [
        (dp.ANNOUNCE_CONTEXT, dp.OFFER_EXTEN), (dp.OUTBOUND_CONTEXT, dp.AMD_EXTEN),
        (dp.OUTBOUND_CONTEXT, dp.LIVE_EXTEN), (dp.TRUNK_CONTEXT, dp.BASELINE_EXTEN),
        # numbers: a transfer's, a call back's (in E.164, as the dialer dials) and a caller's DID
        (dp.TRANSFER_CONTEXT, "4001234567"), (dp.CALLBACK_CONTEXT, "+8613800138000"), (dp.TRUNK_CONTEXT, "4001234567"),
        (dp.FAX_IN_CONTEXT, dp.START), (dp.FAX_IN_CONTEXT, dp.FAX_BUSY_EXTEN), (dp.FAX_OUT_CONTEXT, dp.START),
        (dp.FAX_DONE_CONTEXT, "in"), (dp.FAX_DONE_CONTEXT, "out"),
    ]  # fmt: skip
    for ctx, exten in entries:
        first = [line for line in PLAN.contexts[ctx] if line.priority == dp.FIRST and matches(line.exten, exten)]
        assert first, f"{ctx} has no extension {exten} at priority {dp.FIRST}"
    # Bridge's F() option as the engine writes it is the one the dialplan itself uses
    bridges = [line.data for line in PLAN.contexts[dp.CONNECT_CONTEXT] if line.app == "Bridge"]
    assert bridges == [f"${{HOTLINE_SESSION}},{dp.bridge_return(dp.AGENT_CONTEXT)}"]


def test_fastagi_routes_served_are_the_routes_called():
    assert dp.ENGINE_AGI == PLAN.globals["ENGINE_AGI"]
    called = {route for _, route, _ in agi_calls(PLAN)}
    served = composition_routes()
    assert served == called, f"served only: {served - called}, called only: {called - served}"
    assert set(ROUTES.values()) == served
    # each route is called from the context engine/dialplan.py says
    where = {(ctx, route) for ctx, route, _ in agi_calls(PLAN)}
    assert where == {(dp.TRUNK_CONTEXT, dp.IVR_ROUTE), (dp.SURVEY_CONTEXT, dp.SURVEY_ROUTE),
                     (dp.VOICEMAIL_CONTEXT, dp.VOICEMAIL_ROUTE), (dp.ANNOUNCE_CONTEXT, dp.QUEUE_CALLBACK_ROUTE),
                     (dp.OUTBOUND_CONTEXT, dp.OUTBOUND_ROUTE), (dp.AGENTS_CONTEXT, dp.AGENT_ROUTE),
                     (dp.FAX_DONE_CONTEXT, dp.FAX_DONE_ROUTE)}  # fmt: skip
    # the fax contexts' hang-up handler is the context the route is called from, entered as "in" and "out"
    pushed = [line.data for ctx in (dp.FAX_IN_CONTEXT, dp.FAX_OUT_CONTEXT) for line in PLAN.contexts[ctx]
              if line.data.startswith("CHANNEL(hangup_handler_push)")]  # fmt: skip
    assert pushed == [f"CHANNEL(hangup_handler_push)={dp.FAX_DONE_CONTEXT},{way},{dp.FIRST}" for way in ("in", "out")]
    # the virtual PBX reports AGI's AppData as Asterisk does once ${ENGINE_AGI} is expanded
    amd = next(line for line in PLAN.contexts[dp.OUTBOUND_CONTEXT] if line.app == "AGI")
    assert expand(amd.data, PLAN.globals) == dp.agi_app_data(dp.OUTBOUND_ROUTE, "${AMDSTATUS}", "${AMDCAUSE}")


def test_every_feature_code_action_is_handled():
    called = {args[0] for _, route, args in agi_calls(PLAN) if route == dp.AGENT_ROUTE}
    assert called == set(ACTIONS) | set(OUTBOUND_ACTIONS)


def test_degraded_calls_carry_the_tag_the_engine_counts():
    sets = [line.data for line in PLAN.contexts[dp.DEGRADED_CONTEXT] if line.app == "Set"]
    assert f"CDR(userfield)={dp.DEGRADED_CDR_TAG}" in sets
    goto = [line.data for line in PLAN.contexts[dp.TRUNK_CONTEXT] if line.app == "Goto"]
    assert f"{dp.DEGRADED_CONTEXT},{dp.START},{dp.FIRST}" in goto
