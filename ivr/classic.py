"""The degraded menu: the same interpreter as a classic stdin/stdout AGI script, through pyst2's AGI class.

The dialplan runs it when the engine's FastAGI server is unreachable. It reads the last valid menu
snapshot the engine wrote (``menu.json`` next to it), walks the caller through the menu, and then every
route ends at the hotline agent's phone: it sets HOTLINE_DEGRADED_TARGET and the dialplan dials it. No
ledger here: the dialplan tags the CDR and the engine counts these calls when it comes back
(``ivr/degraded.py``). Standard library + pyst2 only; it runs inside the Asterisk host.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path
from typing import Any

from ivr.interpreter import (
    Handover,
    Hangup,
    Interpreter,
    Play,
    RecordMessage,
    SayDigits,
    SetLanguage,
    SetVariables,
    Transfer,
    WaitDigit,
)
from ivr.model import Menu

TRUNK = "trunk"


def target_for(cmd: Any, snapshot: dict[str, Any]) -> str:
    """What the dialplan dials at the end of the degraded menu."""
    if isinstance(cmd, Transfer):
        return f"PJSIP/{cmd.number}@{snapshot.get('trunk', TRUNK)}"
    if isinstance(cmd, Handover):
        return f"PJSIP/{snapshot['agent_endpoint']}"
    return ""


def run(agi: Any, snapshot: dict[str, Any], now: dt.datetime) -> str:
    """Walk the menu on ``agi`` (pyst2's AGI or anything with its methods); return the dial target."""
    menu = Menu.from_dict(snapshot["menu"])
    prompt_dir = str(snapshot.get("prompt_dir", "")).rstrip("/")

    def path(prompt: str, language: str) -> str:
        return f"{prompt_dir}/{language}/{prompt}" if menu.prompts.get(prompt) else prompt

    it = Interpreter(menu, now, case=f"case-{agi.env.get('agi_uniqueid', '')}")
    cmd: Any = it.start()
    while not it.done:
        reply: str | float | None = None
        if isinstance(cmd, Play) and cmd.wait > 0:
            reply = agi.get_option(path(cmd.prompt, cmd.language), cmd.escape, int(cmd.wait * 1000)) or None
        elif isinstance(cmd, Play):
            reply = agi.stream_file(path(cmd.prompt, cmd.language), cmd.escape) or None
        elif isinstance(cmd, WaitDigit):
            reply = agi.wait_for_digit(int(cmd.seconds * 1000)) or None
        elif isinstance(cmd, SayDigits):
            reply = agi.say_digits(cmd.digits, cmd.escape) or None
        elif isinstance(cmd, SetLanguage):
            agi.set_variable("CHANNEL(language)", cmd.language)
        elif isinstance(cmd, SetVariables):
            for k, v in cmd.values.items():
                agi.set_variable(k, v)
        elif isinstance(cmd, RecordMessage):
            messages = str(snapshot.get("messages_dir", "/var/spool/asterisk/monitor/messages")).rstrip("/")
            agi.record_file(f"{messages}/{cmd.case}", "wav", "#", cmd.max_seconds * 1000)
            reply = float(cmd.max_seconds)  # pyst2 does not report the length; the interpreter only needs "recorded"
        cmd = it.send(reply)
    target = target_for(cmd, snapshot)
    if isinstance(cmd, Hangup):
        agi.hangup()
    elif target:
        agi.set_variable("HOTLINE_DEGRADED_TARGET", target)
    return target


def self_test(here: Path) -> int:
    """Import everything a call needs and walk the snapshot's first step, with no channel: a site whose
    Asterisk host lacks a working Python learns it when the bundle is installed, not from a lost caller."""
    try:
        import asterisk.agi  # noqa: F401 - pyst2, and through it the standard library it needs

        import ivr.interpreter  # noqa: F401
    except Exception as exc:  # any import failure is the finding
        print(f"self-test FAILED: python {sys.version.split()[0]} cannot import the bundle: {exc!r}")
        return 1
    version = f"python {sys.version.split()[0]}"
    snap = here / "menu.json"
    if not snap.exists():
        print(f"self-test ok: {version}, pyst2 imported; no menu snapshot yet (the engine writes {snap})")
        return 0
    try:
        snapshot = json.loads(snap.read_text(encoding="utf-8"))
        menu = Menu.from_dict(snapshot["menu"])
        first = Interpreter(menu, dt.datetime.now(dt.timezone.utc)).start()  # noqa: UP017 - older Pythons
    except Exception as exc:  # a snapshot the degraded script could not use is the finding
        print(f"self-test FAILED: {version}: menu snapshot {snap} unusable: {exc!r}")
        return 1
    print(f"self-test ok: {version}, pyst2 imported, menu snapshot {snap}: {len(menu.nodes)} node(s), "
          f"first step {type(first).__name__}")
    return 0


def main() -> int:
    here = Path(__file__).resolve().parent.parent
    if sys.argv[1:] == ["--self-test"]:
        return self_test(here)
    from asterisk.agi import AGI, AGIException  # pyst2

    agi = AGI()
    try:
        snapshot = json.loads((here / "menu.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        agi.verbose(f"hotline degraded menu: no snapshot ({exc}); straight to the dialplan's fallback")
        return 0
    try:
        run(agi, snapshot, dt.datetime.now(dt.timezone.utc))  # noqa: UP017 - also runs on older Pythons
    except AGIException as exc:  # the caller hung up (pyst2 raises on result=-1 / 511)
        sys.stderr.write(f"hotline degraded menu ended: {exc}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
