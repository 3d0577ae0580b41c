"""A caller can arrive while Asterisk lists its channels for a resync (at the engine's start, at every AMI
reconnect). The listing is then older than the caller's first events, which reach the engine before the listing
does: the resync must not take the caller for gone. Seen on the virtual PBX under load: the engine wrote the
caller's hang-up at the resync, the IVR's hand-over found no channel and the caller waited with nobody to route it.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from types import SimpleNamespace

from engine.asterisk.ami_codec import Frame
from engine.asterisk.ami_link import Resync, ResyncBegun
from engine.model.calls import CallModel
from sim.vtime import MemoryStore

CALLER = "1796200000.7"
OLD = "1796199990.1"


def ev(name: str, uid: str, **kw: str) -> Frame:
    fields = {"Event": name, "Uniqueid": uid, "Linkedid": uid, "Channel": f"PJSIP/trunk-{uid[-1]}",
              "ChannelState": "6", "Context": "from-trunk", "Exten": "4001234567", "CallerIDNum": "13800138000",
              **kw}  # fmt: skip
    return Frame(list(fields.items()))


def listed(uid: str, **kw: str) -> Frame:
    return ev("CoreShowChannel", uid, **kw)


def test_events_after_the_listing_was_asked_for_win_over_it():
    m = CallModel()
    m.apply(ev("Newchannel", OLD), 1.0)  # known before; gone from the listing and silent since: it ended unseen
    m.apply(ev("Newchannel", "1796199995.2", Context="from-trunk"), 1.0)  # listed, then hangs up before the resync
    m.apply(Frame([("Event", "DeviceStateChange"), ("Device", "PJSIP/agent1001"), ("State", "INUSE")]), 1.0)
    m.begin_resync()
    m.apply(ev("Newchannel", CALLER), 2.0)  # born after the listing was made
    m.apply(ev("Newexten", CALLER, Context="engine-wait", Exten="s"), 2.1)
    m.apply(ev("Hangup", "1796199995.2", Cause="16"), 2.2)
    m.apply(Frame([("Event", "DeviceStateChange"), ("Device", "PJSIP/agent1002"), ("State", "RINGING")]), 2.3)
    listing = [listed("1796199995.2")]
    devices = [Frame([("Event", "DeviceStateChange"), ("Device", d), ("State", "NOT_INUSE")])
               for d in ("PJSIP/agent1001", "PJSIP/agent1002")]  # fmt: skip
    assert m.live(listing) == {CALLER}
    facts = m.resync(listing, 3.0, devices)
    assert sorted(m.channels) == [CALLER] and m.channels[CALLER].context == "engine-wait"
    assert [(f.kind, f.uniqueid) for f in facts] == [("channel.hangup", OLD)]  # the silent one only, no ghost
    assert m.devices == {"PJSIP/agent1001": "NOT_INUSE", "PJSIP/agent1002": "RINGING"}
    # the next resync weighs nothing against its listing unless it too was begun
    m.resync([], 4.0)
    assert m.channels == {}


def test_an_originates_answer_during_a_resync_is_kept_and_leaves_the_listing_its_channel():
    # an agent leg born while the link was down: only the listing knows it. Its OriginateResponse, arriving
    # after the listing was asked for, says how the Originate ended and nothing of the channel's state
    leg = "hl-0123456789abcdef0123"
    m = CallModel()
    m.begin_resync()
    m.apply(ev("OriginateResponse", leg, Response="Success", Reason="4"), 2.0)
    m.apply(ev("OriginateResponse", "hl-refused", Response="Failure", Reason="0"), 2.0)
    m.apply(ev("OriginateResponse", "<unknown>", Response="Failure", Reason="0"), 2.0)
    m.resync([listed(leg)], 3.0)
    assert sorted(m.channels) == [leg]
    assert dict(m.originated) == {leg: True, "hl-refused": False}


def test_without_a_begun_resync_the_listing_is_the_whole_truth():
    m = CallModel()
    m.apply(ev("Newchannel", CALLER), 2.0)
    assert m.live([]) == set()
    assert [f.kind for f in m.resync([], 3.0)] == ["channel.hangup"] and m.channels == {}


def _run(tmp_path: Path, begun: bool) -> tuple[set[str], list[str], list[str]]:
    """The engine's own loop and its recovery hook, fed what the link queues when a caller arrives between the
    listing and the resync (``begun``: the link said when it asked for the listing)."""
    from engine.app import Engine
    from engine.clock import VirtualClock
    from engine.config import load_site
    from engine.recovery import Recovery

    site = load_site(Path(__file__).parents[1] / "examples" / "lab-site.toml")
    eng = Engine(site, VirtualClock(start=1796200000.0), None, None, MemoryStore())  # type: ignore[arg-type]
    eng.link = SimpleNamespace(queue=asyncio.Queue())  # type: ignore[assignment]
    rec = Recovery(actions=eng, calls=eng, ledger=eng, records=eng.store, ends=eng, spawner=eng, clock=eng.clock,
                   cel_file=None, cdr_file=None, agents_by_endpoint={})  # fmt: skip
    eng.resync_hooks.append(rec.on_resync)

    async def go() -> tuple[set[str], list[str], list[str]]:
        if begun:
            eng.link.queue.put_nowait(ResyncBegun(1, "login"))
        eng.link.queue.put_nowait(ev("Newchannel", CALLER, Timestamp="1796200000.5"))
        eng.link.queue.put_nowait(ev("Newexten", CALLER, Context="engine-wait", Exten="s"))
        eng.link.queue.put_nowait(Resync([], 1, "login"))
        loop = asyncio.create_task(eng.consume())
        try:
            assert await eng.caught_up(5.0)
            await asyncio.sleep(0.05)  # the last batch's write
        finally:
            loop.cancel()
        facts = [f.kind for f in await eng.store.facts(CALLER)]
        return set(eng.model.channels), facts, await eng.store.open_calls(0)

    return asyncio.run(go())


def test_the_engine_keeps_a_caller_who_came_while_asterisk_listed_its_channels(tmp_path):
    channels, facts, still_open = _run(tmp_path, begun=True)
    assert channels == {CALLER}
    assert "channel.new" in facts and "channel.hangup" not in facts and "call.end" not in facts
    assert still_open == [CALLER]
    # the same queue without the mark: the listing wins and the caller is taken for gone (what the mark prevents)
    channels, facts, still_open = _run(tmp_path, begun=False)
    assert channels == set() and "call.end" in facts and still_open == []
