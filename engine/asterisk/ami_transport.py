"""What the AMI link needs of the far end, so the same link drives Asterisk over TCP or an in-process PBX.

The link keeps the protocol's logic (login, FullyBooted, resync, keepalive, reconnect, the event queue); a
transport only opens sessions, and a session carries actions and hands back their responses, events and its own
end. The default is TCP (``engine.asterisk.ami_link.TcpTransport``); the virtual PBX's virtual-time face plugs
in one that calls the PBX's AMI handlers directly (``sim.vtime.VirtualAmiTransport``).
"""

from __future__ import annotations

from typing import Any, Protocol

from engine.asterisk.ami_codec import AmiParseError, Frame


class AmiSink(Protocol):
    """What a session reports to its link (the link implements it), synchronously, in the loop."""

    def on_banner(self, version: str) -> None: ...

    def on_events(self, frames: list[Frame]) -> None: ...  # one read's events, in order

    def on_malformed(self, error: AmiParseError) -> None: ...

    def on_lost(self, reason: str) -> None: ...

    def on_skipped(self, count: int) -> None: ...  # events passed over unparsed: not among ``events``

    @property
    def events(self) -> set[str] | None: ...  # the event names the link's reader uses (None: all)


class AmiSession(Protocol):
    """One open connection to the AMI server."""

    # False when the far end cannot go silent without the session ending (in-process): no keepalive pings
    keepalive: bool

    @property
    def closed(self) -> bool: ...

    async def request(self, headers: dict[str, Any], as_list: bool, timeout: float) -> Frame | list[Frame]:
        """Send one action and return its response (a list for list actions), whatever it says: the link judges
        ``Response: Error``. Raises ``AmiTimeout`` or ``AmiDisconnected``."""
        ...

    def close(self) -> None: ...  # orderly: after a Logoff

    def abort(self) -> None: ...  # cut at once (a failed keepalive, tests)


class AmiTransport(Protocol):
    """Opens sessions; ``where`` names the far end in logs."""

    @property
    def where(self) -> str: ...

    async def open(self, sink: AmiSink) -> AmiSession:
        """A new session reporting to ``sink``; OSError when the server cannot be reached."""
        ...
