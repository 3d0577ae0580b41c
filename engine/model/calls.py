"""Call model: channels by Uniqueid, calls by Linkedid, bridges; a pure projection of AMI events.

``apply`` takes one AMI event frame and the time, updates the picture and returns the facts it
learned (for the ledger). ``resync`` reconciles the picture with a CoreShowChannels listing after a
(re)connect; what the events applied since ``begin_resync`` say of a channel or a device is newer than the
listing and wins over it. No I/O, no clock: times come from the event's ``Timestamp`` or the caller.

Roles: the engine tells the model which channels are its own agent legs (``associate``) because an
agent leg's Linkedid only becomes the caller's when it enters the bridge.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

from engine.asterisk.ami_codec import Frame
from engine.dialplan import TRUNK_CONTEXT
from engine.model.facts import Fact, fact_key


@dataclass
class Channel:
    uniqueid: str
    linkedid: str
    name: str
    state: int = 0
    context: str = ""
    exten: str = ""
    caller_num: str = ""
    role: str = "other"
    agent_id: str = ""
    call_id: str = ""
    bridge: str = ""
    holds: int = 0
    on_hold: bool = False
    up: bool = False
    hangup_requested: bool = False


@dataclass
class Bridge:
    id: str
    members: set[str] = field(default_factory=set)


@dataclass
class Association:
    call_id: str
    role: str
    agent_id: str = ""


BUSY_DEVICE_STATES = {"INUSE", "BUSY", "RINGING", "RINGINUSE", "ONHOLD"}


def _ts(frame: Frame, fallback: float) -> float:
    raw = frame.get("Timestamp")
    try:
        return float(raw) if raw else fallback
    except ValueError:
        return fallback


ENDED_KEPT = 4096  # far more legs than end within one ring timeout
# events that say nothing of a channel's state: a resync's listing still wins over the model for their channel
NOT_CHANNEL_STATE = frozenset({"OriginateResponse"})


class CallModel:
    def __init__(self, trunk_contexts: tuple[str, ...] = (TRUNK_CONTEXT,)) -> None:
        self.channels: dict[str, Channel] = {}
        self.bridges: dict[str, Bridge] = {}
        self.associations: dict[str, Association] = {}
        self.trunk_contexts = trunk_contexts
        self.unknown_events = 0
        self.devices: dict[str, str] = {}  # "PJSIP/agent1001" -> NOT_INUSE, INUSE, RINGING, ...
        # channels that hung up lately: a leg a busy phone refuses can come and go while its originator is
        # still awaiting its own actions, before it starts watching the model
        self.ended: OrderedDict[str, float] = OrderedDict()
        # when each channel last entered a bridge, kept after it ends: an offer waiting on its own actions may look
        # only after a whole short conversation is over, and must still see it was one
        self.entered: OrderedDict[str, float] = OrderedDict()
        # how each async Originate with our ChannelId ended (True: answered, False: failed), kept after its channel
        # ends: Asterisk itself may lag, creating the channel after the engine's deadline, or never when it fails
        self.originated: OrderedDict[str, bool] = OrderedDict()
        # channels and devices some event spoke of since the listing was asked for (None: no resync under way)
        self._since: set[str] | None = None
        # event name -> its ``_on_<name>`` method: one look-up per event (most events have none)
        self._handlers = {name[4:]: getattr(self, name) for name in dir(self) if name.startswith("_on_")}

    @property
    def events(self) -> frozenset[str]:
        """The AMI event names the model learns from."""
        return frozenset(self._handlers)

    # ---- queries ------------------------------------------------------------------------------
    def entered_bridge(self, uniqueid: str, since: float) -> float | None:
        """When ``uniqueid`` last entered a bridge, if it did at ``since`` or later (ended channels too)."""
        at = self.entered.get(uniqueid)
        return at if at is not None and at >= since else None

    def calls(self) -> dict[str, list[Channel]]:
        out: dict[str, list[Channel]] = {}
        for ch in self.channels.values():
            out.setdefault(ch.call_id or ch.linkedid, []).append(ch)
        return out

    def by_name(self, name: str) -> Channel | None:
        for ch in self.channels.values():
            if ch.name == name:
                return ch
        return None

    def agent_busy(self, endpoint: str) -> bool:
        """True if any live channel belongs to that PJSIP endpoint (inbound, outbound or direct), or if
        Asterisk's device state says the phone is in use (it may know of calls we never saw)."""
        prefix = f"PJSIP/{endpoint}-"
        if any(ch.name.startswith(prefix) for ch in self.channels.values()):
            return True
        return self.devices.get(f"PJSIP/{endpoint}", "NOT_INUSE") in BUSY_DEVICE_STATES

    def _on_OriginateResponse(self, frame: Frame, at: float) -> list[Fact]:
        uid = frame.get("Uniqueid")  # our ChannelId, on a failure too ("<unknown>" only without one)
        if uid and uid != "<unknown>":
            self.originated[uid] = frame.get("Response").lower() == "success"
            self.originated.move_to_end(uid)
            while len(self.originated) > ENDED_KEPT:
                self.originated.popitem(last=False)
        return []

    def _on_DeviceStateChange(self, frame: Frame, at: float) -> list[Fact]:
        device = frame.get("Device")
        if device.startswith("PJSIP/"):
            self.devices[device] = frame.get("State")
        return []

    # ---- engine input -------------------------------------------------------------------------
    def associate(self, uniqueid: str, call_id: str, role: str, agent_id: str = "") -> None:
        self.associations[uniqueid] = Association(call_id, role, agent_id)
        ch = self.channels.get(uniqueid)
        if ch is not None:
            ch.call_id, ch.role, ch.agent_id = call_id, role, agent_id

    # ---- AMI input ----------------------------------------------------------------------------
    def apply(self, frame: Frame, at: float) -> list[Fact]:
        handler = self._handlers.get(frame.event)
        if handler is None:
            return []
        if self._since is not None and frame.event not in NOT_CHANNEL_STATE:
            self._since.add(frame.get("Device") if frame.event == "DeviceStateChange" else frame.get("Uniqueid"))
        return handler(frame, _ts(frame, at))

    def _fact(self, kind: str, ch: Channel, at: float, *key_parts: object, **data: Any) -> Fact:
        """A fact about ``ch``, keyed by its kind and ``key_parts``: the keys ``reconstruct`` gives Asterisk's CEL."""
        return Fact(kind=kind, at=at, call_id=ch.call_id or ch.linkedid, uniqueid=ch.uniqueid,
                    key=fact_key(kind, *key_parts), data=data)  # fmt: skip

    def _new(self, frame: Frame, at: float, approx: bool = False) -> tuple[Channel, list[Fact]]:
        uid = frame.get("Uniqueid")
        ch = Channel(
            uniqueid=uid,
            linkedid=frame.get("Linkedid") or uid,
            name=frame.get("Channel"),
            context=frame.get("Context"),
            exten=frame.get("Exten"),
            caller_num=frame.get("CallerIDNum"),
        )
        assoc = self.associations.get(uid)
        if assoc is not None:
            ch.call_id, ch.role, ch.agent_id = assoc.call_id, assoc.role, assoc.agent_id
        elif ch.context in self.trunk_contexts and ch.linkedid == uid:
            ch.role = "caller"
            ch.call_id = uid
        self.channels[uid] = ch
        data: dict[str, Any] = {
            "channel": ch.name,
            "role": ch.role,
            "caller": ch.caller_num if ch.caller_num != "<unknown>" else "",
            "exten": ch.exten,
            "context": ch.context,
        }
        if ch.agent_id:
            data["agent"] = ch.agent_id
        if approx:
            data["approx"] = True
        return ch, [self._fact("channel.new", ch, at, uid, **data)]

    def _get(self, frame: Frame, at: float) -> tuple[Channel | None, list[Fact]]:
        uid = frame.get("Uniqueid")
        if not uid or uid == "none":
            return None, []
        ch = self.channels.get(uid)
        if ch is None:
            # first sight after a gap (e.g. the link came up mid-call): learn it from this event
            return self._new(frame, at, approx=True)
        return ch, []

    def _on_Newchannel(self, frame: Frame, at: float) -> list[Fact]:
        if frame.get("Uniqueid") in self.channels:
            return []
        ch, facts = self._new(frame, at)
        return facts + self._state(ch, frame, at)

    def _state(self, ch: Channel, frame: Frame, at: float) -> list[Fact]:
        try:
            state = int(frame.get("ChannelState", "0"))
        except ValueError:
            return []
        ch.state = state
        if state == 6 and not ch.up:
            ch.up = True
            return [self._fact("channel.up", ch, at, ch.uniqueid)]
        return []

    def _on_Newstate(self, frame: Frame, at: float) -> list[Fact]:
        ch, facts = self._get(frame, at)
        if ch is None:
            return facts
        return facts + self._state(ch, frame, at)

    def _on_Newexten(self, frame: Frame, at: float) -> list[Fact]:
        ch, facts = self._get(frame, at)
        if ch is not None:
            ch.context = frame.get("Context") or ch.context
            ch.exten = frame.get("Exten") or ch.exten
        return facts

    def _on_DialBegin(self, frame: Frame, at: float) -> list[Fact]:
        uid = frame.get("DestUniqueid")
        ch = self.channels.get(uid)
        if ch is None:
            return []
        return [self._fact("dial.begin", ch, at, uid, dialstring=frame.get("DialString"))]

    def _on_DialEnd(self, frame: Frame, at: float) -> list[Fact]:
        uid = frame.get("DestUniqueid")
        ch = self.channels.get(uid)
        if ch is None:
            return []
        status = frame.get("DialStatus")
        return [self._fact("dial.end", ch, at, uid, status, status=status)]

    def _on_BridgeEnter(self, frame: Frame, at: float) -> list[Fact]:
        ch, facts = self._get(frame, at)
        bid = frame.get("BridgeUniqueid")
        if ch is None or not bid:
            return facts
        bridge = self.bridges.setdefault(bid, Bridge(bid))
        bridge.members.add(ch.uniqueid)
        ch.bridge = bid
        self.entered[ch.uniqueid] = at
        self.entered.move_to_end(ch.uniqueid)
        while len(self.entered) > ENDED_KEPT:
            self.entered.popitem(last=False)
        ch.linkedid = frame.get("Linkedid") or ch.linkedid
        if ch.role == "other" and not ch.call_id:
            ch.call_id = ch.linkedid
        peers = sorted(bridge.members - {ch.uniqueid})
        return facts + [self._fact("bridge.enter", ch, at, ch.uniqueid, bid, bridge=bid, peers=peers)]

    def _on_BridgeLeave(self, frame: Frame, at: float) -> list[Fact]:
        ch = self.channels.get(frame.get("Uniqueid"))
        bid = frame.get("BridgeUniqueid")
        if ch is None or not bid:
            return []
        bridge = self.bridges.get(bid)
        if bridge is not None:
            bridge.members.discard(ch.uniqueid)
        ch.bridge = ""
        return [self._fact("bridge.leave", ch, at, ch.uniqueid, bid, bridge=bid)]

    def _on_BridgeDestroy(self, frame: Frame, at: float) -> list[Fact]:
        self.bridges.pop(frame.get("BridgeUniqueid"), None)
        return []

    def _on_Hold(self, frame: Frame, at: float) -> list[Fact]:
        ch, facts = self._get(frame, at)
        if ch is None or ch.on_hold:
            return facts
        ch.on_hold = True
        ch.holds += 1
        return facts + [self._fact("hold", ch, at, ch.uniqueid, ch.holds)]

    def _on_Unhold(self, frame: Frame, at: float) -> list[Fact]:
        ch = self.channels.get(frame.get("Uniqueid"))
        if ch is None or not ch.on_hold:
            return []
        ch.on_hold = False
        return [self._fact("unhold", ch, at, ch.uniqueid, ch.holds)]

    def _on_HangupRequest(self, frame: Frame, at: float) -> list[Fact]:
        ch = self.channels.get(frame.get("Uniqueid"))
        if ch is None or ch.hangup_requested:
            return []
        ch.hangup_requested = True
        return [self._fact("hangup.request", ch, at, ch.uniqueid, cause=frame.get("Cause"))]

    # SoftHangupRequest is Asterisk ending a channel itself (dialplan Hangup(), AMI Hangup, the end of an
    # AGI): not a party hanging up, so it does not decide the hang-up side.

    def _end(self, uid: str, at: float) -> None:
        self.ended[uid] = at
        while len(self.ended) > ENDED_KEPT:
            self.ended.popitem(last=False)

    def _on_Hangup(self, frame: Frame, at: float) -> list[Fact]:
        self._end(frame.get("Uniqueid"), at)
        ch = self.channels.pop(frame.get("Uniqueid"), None)
        if ch is None:
            return []
        if ch.bridge and ch.bridge in self.bridges:
            self.bridges[ch.bridge].members.discard(ch.uniqueid)
        self.associations.pop(ch.uniqueid, None)
        cause = frame.get("Cause")
        return [self._fact("channel.hangup", ch, at, ch.uniqueid, cause=cause, cause_txt=frame.get("Cause-txt"))]

    # ---- resync -------------------------------------------------------------------------------
    def begin_resync(self) -> None:
        """A listing was asked for: from now on, an event's word on its channel or device is newer than it."""
        self._since = set()

    def drop_resync(self) -> None:
        """The link went down before the listing came: nothing to weigh it against."""
        self._since = None

    def live(self, listing: list[Frame]) -> set[str]:
        """The channels Asterisk has as of now: the listing's, but for those events since spoke of (born after
        it, or gone since), whose word is the model's."""
        since = self._since or set()
        return {u for f in listing if (u := f.get("Uniqueid")) not in since} | (since & self.channels.keys())

    def resync(self, listing: list[Frame], at: float, devices: list[Frame] | None = None) -> list[Fact]:
        """Make the picture match Asterisk: add unseen channels, close vanished ones, take device states. A channel
        or device some event spoke of since ``begin_resync`` keeps the model's picture: the listing is older."""
        since, self._since = self._since or set(), None
        if devices is not None:
            kept = {d: state for d, state in self.devices.items() if d in since}
            self.devices = {f.get("Device"): f.get("State") for f in devices if f.get("Device").startswith("PJSIP/")}
            self.devices |= kept
        facts: list[Fact] = []
        live = {f.get("Uniqueid") for f in listing}
        for uid in [u for u in self.channels if u not in live and u not in since]:
            ch = self.channels.pop(uid)
            self.associations.pop(uid, None)
            self._end(uid, at)
            facts.append(self._fact("channel.hangup", ch, at, uid, cause="", approx=True))
        self.bridges = {}
        for uid in since & self.channels.keys():
            if bid := self.channels[uid].bridge:
                self.bridges.setdefault(bid, Bridge(bid)).members.add(uid)
        for f in listing:
            uid = f.get("Uniqueid")
            if uid in since:
                continue
            ch = self.channels.get(uid)
            if ch is None:
                ch, new = self._new(f, at, approx=True)
                facts += new
            facts += self._state(ch, f, at)
            bid = f.get("BridgeId")
            ch.bridge = bid
            if bid:
                self.bridges.setdefault(bid, Bridge(bid)).members.add(uid)
        return facts
