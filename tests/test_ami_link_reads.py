"""The AMI link queues the events of one read as one item, and the events before an action's response reach the
queue before that action's caller is told."""

from __future__ import annotations

import asyncio

from panoramisk.actions import Action
from panoramisk.ami_protocol import AMIProtocol

from engine.app import take_batch
from engine.asterisk.ami_codec import Frame, encode_frame
from engine.asterisk.ami_link import AmiLink, _Protocol
from engine.clock import RealClock

BANNER = b"Asterisk Call Manager/11.0.0\r\n"


def _event(name: str, uid: str) -> bytes:
    return encode_frame([("Event", name), ("Uniqueid", uid)])


def _link() -> tuple[AmiLink, _Protocol]:
    link = AmiLink("nowhere", 0, "engine", "", RealClock())
    proto = _Protocol(link)
    proto.connection_made(None)  # type: ignore[arg-type]  # no socket: reads are fed by hand
    return link, proto


def test_a_reads_events_are_one_queue_item_in_order_and_batches_flatten_them():
    async def main() -> tuple[list[object], list[object]]:
        link, proto = _link()
        proto.data_received(BANNER + _event("Newchannel", "1.1") + _event("Newstate", "1.1"))
        proto.data_received(_event("Hangup", "1.1"))
        raw = [link.queue.get_nowait() for _ in range(link.queue.qsize())]
        for item in raw:
            link.queue.put_nowait(item)  # type: ignore[arg-type]
        return raw, await take_batch(link.queue)

    raw, batch = asyncio.run(main())
    assert isinstance(raw[0], list) and [f.event for f in raw[0]] == ["Newchannel", "Newstate"]
    assert isinstance(raw[1], Frame) and raw[1].event == "Hangup", "a lone event goes in as it is"
    assert [f.event for f in batch] == ["Newchannel", "Newstate", "Hangup"]  # type: ignore[union-attr]


def test_events_before_a_response_are_queued_before_its_action_completes(monkeypatch):
    queued_when_answered: list[int] = []
    original = AMIProtocol.handle_message

    def handle(self, message):  # type: ignore[no-untyped-def]
        queued_when_answered.append(self.link.queue.qsize())
        return original(self, message)

    monkeypatch.setattr(AMIProtocol, "handle_message", handle)

    async def main() -> tuple[list[str], bool]:
        link, proto = _link()
        action = Action({"Action": "Ping", "ActionID": "a1"}, as_list=False)
        proto.responses[action.id] = action
        proto.data_received(BANNER + _event("Newchannel", "2.1")
                            + encode_frame([("Response", "Success"), ("ActionID", "a1"), ("Ping", "Pong")])
                            + _event("Hangup", "2.1"))  # fmt: skip
        assert action.future.done()
        return [f.event for f in await take_batch(link.queue)], link.stats.events == 2  # type: ignore[union-attr]

    events, counted = asyncio.run(main())
    assert queued_when_answered == [1], "the Newchannel before the response was already queued"
    assert events == ["Newchannel", "Hangup"] and counted
