"""The AMI events the engine passes over: most of what Asterisk sends (VarSet, AGIExec, Cdr...) has no reader in
the engine, so the decoder skips it after its first line, unparsed. What it must never skip: an event some reader
uses (the call model, a feature's hook), an event answering an action (its ActionID), the link's own."""

from __future__ import annotations

import ast
from pathlib import Path

from engine.asterisk.ami_codec import AmiDecoder, Frame, encode_frame
from engine.asterisk.ami_link import AmiLink
from engine.asterisk.fastagi import FastAgiServer
from engine.clock import VirtualClock
from engine.config import load_site
from engine.model.calls import CallModel
from sim import world
from sim.pbx.model import VirtualPbx
from sim.vtime import MemoryAgiTransport, MemoryStore, virtual_link

ROOT = Path(__file__).resolve().parent.parent


def _wire(*frames: list[tuple[str, str]]) -> bytes:
    return b"Asterisk Call Manager/11.0.0\r\n" + b"".join(encode_frame(f) for f in frames)


VARSET = [("Event", "VarSet"), ("Channel", "PJSIP/a-1"), ("Variable", "X"), ("Value", "1")]
HANGUP = [("Event", "Hangup"), ("Channel", "PJSIP/a-1"), ("Uniqueid", "1.1"), ("Cause", "16")]
LISTED = [("Event", "CoreShowChannel"), ("ActionID", "7"), ("Channel", "PJSIP/a-1")]
BOOTED = [("Event", "FullyBooted"), ("Status", "Fully Booted")]


def _events(items: list[object]) -> list[str]:
    return [i.event for i in items if isinstance(i, Frame)]


def test_the_decoder_passes_over_unused_events_and_keeps_the_used_ones_and_every_answer():
    wanted = {"Hangup"}
    d = AmiDecoder(events=wanted)
    out = d.feed(_wire(VARSET, HANGUP, LISTED, VARSET))
    assert _events(out) == ["Hangup", "CoreShowChannel"], "a listed event answers an action: never skipped"
    assert d.skipped == 2
    wanted.add("VarSet")  # the reader's own set: a name added later counts at once
    assert _events(d.feed(encode_frame(VARSET))) == ["VarSet"] and d.skipped == 2
    everything = AmiDecoder()
    assert _events(everything.feed(_wire(VARSET, HANGUP))) == ["VarSet", "Hangup"] and everything.skipped == 0


def test_frames_off_the_fast_path_are_filtered_the_same_way():
    # LF-only lines take the frame-by-frame path
    d = AmiDecoder(events={"Hangup"})
    lf = b"".join(encode_frame(f).replace(b"\r\n", b"\n") for f in (VARSET, HANGUP))
    assert _events(d.feed(b"Asterisk Call Manager/11.0.0\n" + lf)) == ["Hangup"] and d.skipped == 1


def test_the_link_always_hears_fully_booted():
    link = AmiLink("x", 0, "u", "s", VirtualClock(0.0), only={"Hangup"})
    assert link.events is not None and {"Hangup", "FullyBooted"} <= link.events
    d = AmiDecoder(events=link.events)
    assert _events(d.feed(_wire(BOOTED, VARSET))) == ["FullyBooted"]


def _engine(tmp_path: Path):  # type: ignore[no-untyped-def]
    import composition

    secret = tmp_path / "secret"
    secret.write_text("virtual\n")
    text = world.site_text(ami_port=5038, agi_port=4573, secret_file=secret,
                           store_url="sqlite+aiosqlite:///:memory:", recordings=tmp_path / "rec",
                           queue_log=tmp_path / "queue_log", outbound_agents=2)  # fmt: skip
    (tmp_path / "site.toml").write_text(text)
    site = load_site(tmp_path / "site.toml")
    assert site.campaigns, "the dialer's hooks must be wired too"
    clock = VirtualClock(1_800_000_000.0)
    return composition.build(site, clock, link=virtual_link(VirtualPbx(clock), clock),
                             agi=FastAgiServer(transport=MemoryAgiTransport()), store=MemoryStore(),
                             finish_recordings=False, http=False)  # fmt: skip


def _names_read_by_hooks() -> dict[str, str]:
    """Every event name a feature's code compares an event with (``frame.event == "X"``, ``ev in (...)``),
    with where: the readers of the engine's frames live in these folders."""
    found: dict[str, str] = {}
    for folder in ("acd", "dialer", "ivr", "recording", "engine/live", "engine/web", "engine/mqtt"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            for n in ast.walk(ast.parse(path.read_text())):
                if not isinstance(n, ast.Compare):
                    continue
                left = n.left
                if not ((isinstance(left, ast.Attribute) and left.attr == "event")
                        or (isinstance(left, ast.Name) and left.id == "ev")):  # fmt: skip
                    continue
                for comp in n.comparators:
                    consts = comp.elts if isinstance(comp, ast.Tuple | ast.Set | ast.List) else [comp]
                    for c in consts:
                        if isinstance(c, ast.Constant) and isinstance(c.value, str):
                            found.setdefault(c.value, f"{path.relative_to(ROOT)}:{n.lineno}")
    return found


def test_every_event_a_feature_reads_reaches_it(tmp_path):
    eng = _engine(tmp_path)
    used = eng.link.events
    assert used is not None and used is eng.events, "the engine's link filters with the engine's own set"
    assert CallModel().events <= used
    read = _names_read_by_hooks()
    assert {"DTMFEnd", "OriginateResponse", "DialEnd"} <= set(read), "the scan finds the hooks' reads"
    missing = {name: where for name, where in read.items() if name not in used}
    assert not missing, f"read by a feature but passed over by the link: {missing}"
    assert not {"VarSet", "AGIExecStart", "AGIExecEnd", "Cdr", "NewConnectedLine"} & used
