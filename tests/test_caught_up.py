"""A deadline met while the model loop lags behind Asterisk's events is checked against those events first."""

import asyncio
from types import SimpleNamespace

from engine.app import Engine
from engine.asterisk.ami_codec import Frame
from engine.clock import RealClock
from engine.model.calls import CallModel
from sim.vtime import MemoryStore


def _frame(event: str, **headers: str) -> Frame:
    return Frame(tuple({"Event": event, **headers}.items()))


def test_caught_up_returns_once_every_received_event_is_in_the_model():
    async def go() -> None:
        link = SimpleNamespace(queue=asyncio.Queue())
        eng = Engine(None, RealClock(), link, None, MemoryStore(), CallModel())  # type: ignore[arg-type]
        # the answer arrived while the model loop was busy elsewhere: it waits in the queue
        link.queue.put_nowait(_frame("Newchannel", Channel="PJSIP/agent1001-00000001", Uniqueid="leg1",
                                     Linkedid="leg1", ChannelState="6", ChannelStateDesc="Up",
                                     CallerIDNum="1001", Context="agents", Exten="s"))  # fmt: skip
        assert "leg1" not in eng.model.channels
        consumer = asyncio.create_task(eng.consume())
        assert await eng.caught_up(2.0)
        assert "leg1" in eng.model.channels, "the waiting event was applied before the answer"
        consumer.cancel()

    asyncio.run(go())
