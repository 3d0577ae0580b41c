"""The recorder's start across an AMI cut: retried once the link is back while the caller is there, not doubled
when the lost action had reached Asterisk, given up when the caller left."""

from __future__ import annotations

import asyncio
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from engine.asterisk.ami_link import AmiDisconnected, AmiError
from engine.model.calls import CallModel, Channel
from engine.model.facts import Fact
from recording.finalize import Recorder

CALL = "1796143868.0"
CHANNEL = "PJSIP/trunk-00000001"


class Actions:
    """Replies in order: an exception is raised, anything else returned; the link comes back ``back_after``."""

    def __init__(self, replies: list[Any], back_after: float = 0.05) -> None:
        self.replies = replies
        self.sent: list[dict[str, Any]] = []
        self.ready = asyncio.Event()
        self.back_after = back_after

    async def action(self, headers: dict[str, Any], **_: Any) -> Any:
        self.sent.append(headers)
        reply = self.replies.pop(0)
        if isinstance(reply, Exception):
            if isinstance(reply, AmiDisconnected):
                self.ready.clear()
                asyncio.get_running_loop().call_later(self.back_after, self.ready.set)
            raise reply
        return reply


class Ledger:
    def __init__(self) -> None:
        self.written: list[Fact] = []

    async def fact(self, kind: str, call_id: str, uniqueid: str, key: str, **data: Any) -> None:
        self.written.append(Fact(kind, 0.0, call_id, uniqueid, key, data))


def recorder(actions: Actions, *, caller_there: bool = True, wait: float = 2.0) -> tuple[Recorder, Ledger]:
    model = CallModel()
    if caller_there:
        model.channels[CALL] = Channel(CALL, CALL, CHANNEL, role="caller")
    ledger = Ledger()
    rec = Recorder(actions=actions, calls=SimpleNamespace(model=model), ledger=ledger, records=SimpleNamespace(),
                   asterisk_dir="/var/spool/asterisk/monitor", local_dir=Path("/nonexistent"), settle=0.01,
                   wait=wait)  # type: ignore[arg-type]  # fmt: skip
    return rec, ledger


def kinds(actions: Actions) -> list[str]:
    return [h["Action"] for h in actions.sent]


def test_a_recording_refused_during_an_ami_cut_starts_when_the_link_is_back() -> None:
    actions = Actions([AmiDisconnected("AMI link is down"), {"Value": ""}, {}])
    rec, ledger = recorder(actions)
    asyncio.run(rec.start(CALL, CHANNEL))
    assert kinds(actions) == ["MixMonitor", "Getvar", "MixMonitor"]
    assert [f.kind for f in ledger.written] == ["recording.started"]
    assert CALL in rec.active


def test_a_mixmonitor_that_reached_asterisk_before_the_cut_is_not_started_twice() -> None:
    running = {"Value": "/var/spool/asterisk/monitor/1796143868.0-mix.wav"}
    actions = Actions([AmiDisconnected("AMI connection lost: reset"), running])
    rec, ledger = recorder(actions)
    asyncio.run(rec.start(CALL, CHANNEL))
    assert kinds(actions) == ["MixMonitor", "Getvar"]
    assert [f.kind for f in ledger.written] == ["recording.started"]


def test_no_retry_when_the_caller_left_during_the_cut() -> None:
    actions = Actions([AmiDisconnected("AMI link is down")])
    rec, ledger = recorder(actions, caller_there=False)
    asyncio.run(rec.start(CALL, CHANNEL))
    assert kinds(actions) == ["MixMonitor"]
    assert ledger.written == [] and CALL not in rec.active


def test_gives_up_when_the_link_stays_down() -> None:
    actions = Actions([AmiDisconnected("AMI link is down")], back_after=5.0)
    rec, ledger = recorder(actions, wait=0.2)
    asyncio.run(rec.start(CALL, CHANNEL))
    assert kinds(actions) == ["MixMonitor"]
    assert ledger.written == []


def test_an_error_response_is_not_retried() -> None:
    actions = Actions([AmiError("No such channel")])
    rec, ledger = recorder(actions)
    asyncio.run(rec.start(CALL, CHANNEL))
    assert kinds(actions) == ["MixMonitor"] and ledger.written == []
