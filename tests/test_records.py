"""Call model and record derivation on a recorded-shape AMI event sequence (docs/asterisk.md#flow-inbound)."""

import asyncio

from engine.asterisk.ami_codec import Frame
from engine.model.calls import CallModel
from engine.model.facts import Fact
from engine.model.records import derive
from engine.store.store import Store, migrate


def ev(name, t, **kw):
    return Frame([("Event", name), ("Timestamp", f"{t:.6f}"), *[(k, str(v)) for k, v in kw.items()]])


C = dict(
    Channel="PJSIP/trunk-00000001",
    Uniqueid="100.1",
    Linkedid="100.1",
    Context="from-trunk",
    Exten="4001234567",
    CallerIDNum="13800138000",
)
A = dict(
    Channel="PJSIP/agent1001-00000002",
    Uniqueid="hl-a1",
    Linkedid="hl-a1",
    Context="agents",
    Exten="s",
    CallerIDNum="13800138000",
)


def scenario(model: CallModel) -> list[Fact]:
    facts: list[Fact] = []
    facts += model.apply(ev("Newchannel", 100.0, ChannelState=4, **C), 0)
    facts += model.apply(ev("Newstate", 100.5, ChannelState=6, **C), 0)
    facts.append(Fact("call.queued", 103.0, "100.1", "100.1", "queued:100.1"))
    model.associate("hl-a1", "100.1", "agent", "1001")
    facts.append(Fact("agent.offer", 103.1, "100.1", "hl-a1", "offer:hl-a1", {"agent": "1001", "leg": "hl-a1"}))
    facts += model.apply(ev("Newchannel", 103.2, ChannelState=0, **A), 0)
    facts += model.apply(ev("DialBegin", 103.2, **{"Dest" + k: v for k, v in A.items()}, DialString="agent1001"), 0)
    facts += model.apply(ev("Newstate", 106.2, ChannelState=6, **A), 0)
    facts += model.apply(ev("BridgeEnter", 106.3, BridgeUniqueid="b1", **C), 0)
    facts += model.apply(ev("BridgeEnter", 106.3, BridgeUniqueid="b1", **{**A, "Linkedid": "100.1"}), 0)
    facts += model.apply(ev("Hold", 108.0, **C), 0)
    facts += model.apply(ev("Unhold", 110.0, **C), 0)
    facts += model.apply(ev("HangupRequest", 116.3, Cause=16, **C), 0)
    facts += model.apply(ev("BridgeLeave", 116.31, BridgeUniqueid="b1", **C), 0)
    facts += model.apply(ev("Hangup", 116.4, Cause=16, **A), 0)
    facts += model.apply(ev("Hangup", 116.4, Cause=16, **C), 0)
    facts.append(Fact("call.end", 116.4, "100.1", "100.1", "end:100.1"))
    return facts


def test_model_and_record():
    model = CallModel()
    facts = scenario(model)
    assert model.channels == {}
    assert {f.call_id for f in facts} == {"100.1"}, "agent leg facts belong to the caller's call"
    (rec,) = derive(facts)
    assert rec.outcome == "answered" and rec.agent_id == "1001"
    assert rec.answered_at == 100.5
    assert rec.ring_time == 3.0
    assert rec.queue_wait == 3.3
    assert rec.hold_time == 2.0
    assert rec.talk_time == 8.0  # 10 s connected, 2 s of it on hold
    assert rec.handle_time == 10.0
    assert rec.hangup_side == "caller"


def test_resync_closes_vanished_and_learns_new_channels():
    model = CallModel()
    model.apply(ev("Newchannel", 1.0, ChannelState=4, **C), 0)
    listing = [
        Frame([("Event", "CoreShowChannel"), *[(k, v) for k, v in A.items()], ("ChannelState", "6"), ("BridgeId", "")])
    ]
    facts = model.resync(listing, 50.0)
    kinds = sorted((f.kind, f.uniqueid) for f in facts)
    assert ("channel.hangup", "100.1") in kinds
    assert ("channel.new", "hl-a1") in kinds and ("channel.up", "hl-a1") in kinds
    assert set(model.channels) == {"hl-a1"}


def test_ledger_is_idempotent_and_rebuild_gives_same_rows(tmp_path):
    url = f"sqlite+aiosqlite:///{tmp_path / 'h.db'}"
    migrate(url)

    async def go():
        store = Store(url)
        facts = scenario(CallModel())
        assert await store.append(facts, 0) == len(facts)
        assert await store.append(facts, 1) == 0, "the same facts again are not stored twice"
        await store.update_record("100.1")
        before = await store.records()
        assert len(before) == 1
        assert await store.rebuild_records() == 1
        assert await store.records() == before
        await store.close()

    asyncio.run(go())


def test_device_state_marks_an_agent_busy_even_without_a_channel_we_saw():
    model = CallModel()
    assert not model.agent_busy("agent1001")
    model.apply(ev("DeviceStateChange", 1.0, Device="PJSIP/agent1001", State="INUSE"), 0)
    assert model.agent_busy("agent1001")
    model.apply(ev("DeviceStateChange", 2.0, Device="PJSIP/agent1001", State="NOT_INUSE"), 0)
    assert not model.agent_busy("agent1001")
    devices = [Frame([("Event", "DeviceStateChange"), ("Device", "PJSIP/agent1002"), ("State", "RINGING")])]
    model.resync([], 3.0, devices)
    assert model.agent_busy("agent1002") and not model.agent_busy("agent1001")


def test_an_engine_stopped_mid_write_leaves_the_database_writable(tmp_path):
    """Cancelling a caller in the middle of a ledger write must neither lose the facts nor leave SQLite's
    write lock behind (the next engine start would find the database locked)."""
    import asyncio

    from engine.model.facts import Fact
    from engine.store.store import Store, migrate

    url = f"sqlite+aiosqlite:///{tmp_path / 'lock.db'}"
    migrate(url)

    async def main() -> int:
        store = Store(url)
        facts = [Fact("test.fact", 1.0, f"c{i}", "u", f"k{i}", {"i": i}) for i in range(3000)]
        writer = asyncio.create_task(store.append(facts, 1.0))
        await asyncio.sleep(0.05)  # inside the transaction
        writer.cancel()
        try:
            await writer
        except asyncio.CancelledError:
            pass
        await store.close()
        again = Store(url)
        try:
            await asyncio.wait_for(again.append([Fact("test.fact", 2.0, "x", "u", "after", {})], 2.0), 20)
            return len(await again.facts(None, ("test.fact",)))  # the ledger also holds its store.created fact
        finally:
            await again.close()

    assert asyncio.run(main()) == 3001
