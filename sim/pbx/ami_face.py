"""The virtual PBX's AMI side: a server the unchanged engine logs in to, as it does to Asterisk.

Fidelity points (docs/asterisk.md#ami-framing, #fidelity): banner without a blank line; CRLF out, LF accepted in;
Permission denied before login; a failed login waits 1 s, answers Error and closes; plain and MD5
login; FullyBooted right after login; ActionID right after Response; list responses with lowercase
``EventList: start`` and a ``...Complete`` event with ``EventList: Complete`` and ``ListItems``; list
items without Privilege; responses never split by events.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import secrets

from engine.asterisk.ami_codec import AmiDecoder, AmiParseError, Banner, Frame, encode_frame
from sim.pbx.model import Headers, VirtualPbx

log = logging.getLogger("hotline.vpbx.ami")

BANNER = b"Asterisk Call Manager/11.0.0\r\n"


class AmiFace:
    def __init__(self, pbx: VirtualPbx, host: str, port: int, username: str, secret: str) -> None:
        self.pbx = pbx
        self.host = host
        self.port = port
        self.username = username
        self.secret = secret
        self.sessions: set[_Session] = set()
        self.server: asyncio.Server | None = None

    async def start(self) -> int:
        self.server = await asyncio.start_server(self._client, self.host, self.port)
        self.port = self.server.sockets[0].getsockname()[1]
        return self.port

    async def close(self) -> None:
        if self.server is not None:
            self.server.close()
        for s in list(self.sessions):
            s.writer.close()

    def drop_all(self) -> None:
        """Cut every AMI connection (tests of the engine's reconnect)."""
        for s in list(self.sessions):
            s.writer.transport.abort()

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        session = _Session(self, writer)
        self.sessions.add(session)
        writer.write(BANNER)
        decoder = AmiDecoder(expect_banner=False, require=())
        try:
            while data := await reader.read(65536):
                for item in decoder.feed(data):
                    if isinstance(item, Frame):
                        if not await session.handle(item):
                            return
                    elif isinstance(item, AmiParseError):
                        session.send([("Response", "Error"), ("Message", "Failed to parse message: line too long")])
                    elif isinstance(item, Banner):  # pragma: no cover - clients send none
                        pass
                await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            session.close()
            self.sessions.discard(session)
            try:
                writer.close()
            except RuntimeError:
                pass


class _Session:
    def __init__(self, face: AmiFace, writer: asyncio.StreamWriter) -> None:
        self.face = face
        self.pbx = face.pbx
        self.writer = writer
        self.authenticated = False
        self.events = True
        self.challenge: str | None = None

    def send(self, headers: Headers) -> None:
        if not self.writer.is_closing():
            self.writer.write(encode_frame(headers))

    def _event(self, headers: Headers) -> None:
        if self.events:
            self.send(headers)

    def close(self) -> None:
        if self._event in self.pbx.listeners:
            self.pbx.listeners.remove(self._event)

    def respond(self, frame: Frame, ok: bool, message: str = "", *extra: tuple[str, str]) -> None:
        h: Headers = [("Response", "Success" if ok else "Error")]
        if frame.action_id:
            h.append(("ActionID", frame.action_id))
        if message:
            h.append(("Message", message))
        h += list(extra)
        self.send(h)

    async def handle(self, frame: Frame) -> bool:
        """Answer one action; False closes the connection."""
        action = frame.get("Action").lower()
        if not action:
            self.respond(frame, False, "Missing action in request")
            return True
        if not self.authenticated and action not in ("login", "challenge", "logoff"):
            self.respond(frame, False, "Permission denied")
            return True
        handler = getattr(self, "_" + action, None)
        if handler is None:
            self.respond(frame, False, f"Invalid/unknown command: {frame.get('Action')}. Use Action: ListCommands "
                                       "to show available commands.")  # fmt: skip
            return True
        return await handler(frame) is not False

    async def _challenge(self, frame: Frame) -> None:
        if frame.get("AuthType").lower() != "md5":
            self.respond(frame, False, "Must specify AuthType")
            return
        self.challenge = str(secrets.randbelow(10**9))
        self.respond(frame, True, "", ("Challenge", self.challenge))

    async def _login(self, frame: Frame) -> bool:
        if self.authenticated:
            self.respond(frame, True, "Already authenticated")
            return True
        user_ok = frame.get("Username") == self.face.username
        if frame.get("AuthType").lower() == "md5" and self.challenge is not None:
            want = hashlib.md5((self.challenge + self.face.secret).encode()).hexdigest()
            ok = user_ok and frame.get("Key").lower() == want
        else:
            ok = user_ok and secrets.compare_digest(frame.get("Secret"), self.face.secret)
        if not ok:
            await asyncio.sleep(1.0)  # as Asterisk does, then close
            self.respond(frame, False, "Authentication failed")
            return False
        self.authenticated = True
        self.events = frame.get("Events", "on").lower() != "off"
        self.respond(frame, True, "Authentication accepted")
        if self.events:
            up = self.pbx.clock.now() - self.pbx.booted
            self.send([("Event", "FullyBooted"), ("Privilege", "system,all"),
                       ("Timestamp", f"{self.pbx.clock.now():.6f}"), ("Uptime", str(int(up))),
                       ("LastReload", str(int(up))), ("Status", "Fully Booted")])  # fmt: skip
        self.pbx.listeners.append(self._event)
        return True

    async def _logoff(self, frame: Frame) -> bool:
        h: Headers = [("Response", "Goodbye")]
        if frame.action_id:
            h.append(("ActionID", frame.action_id))
        self.send([*h, ("Message", "Thanks for all the fish.")])
        return False

    async def _ping(self, frame: Frame) -> None:
        self.respond(frame, True, "", ("Ping", "Pong"), ("Timestamp", f"{self.pbx.clock.now():.6f}"))

    async def _events(self, frame: Frame) -> None:
        mask = frame.get("EventMask").lower()
        self.events = mask != "off"
        self.respond(frame, True, "", ("Events", "On" if self.events else "Off"))

    async def _coreshowchannels(self, frame: Frame) -> None:
        aid = [("ActionID", frame.action_id)] if frame.action_id else []
        rows = self.pbx.show_channels()
        self.send([("Response", "Success"), *aid, ("EventList", "start"), ("Message", "Channels will follow")])
        for row in rows:
            self.send([("Event", "CoreShowChannel"), *aid, *row])
        self.send([("Event", "CoreShowChannelsComplete"), *aid, ("EventList", "Complete"),
                   ("ListItems", str(len(rows)))])  # fmt: skip

    async def _devicestatelist(self, frame: Frame) -> None:
        aid = [("ActionID", frame.action_id)] if frame.action_id else []
        rows = self.pbx.device_states()
        self.send(
            [("Response", "Success"), *aid, ("EventList", "start"), ("Message", "Device State Changes will follow")]
        )
        for device, state in rows:
            self.send([("Event", "DeviceStateChange"), *aid, ("Device", device), ("State", state)])
        self.send(
            [("Event", "DeviceStateListComplete"), *aid, ("EventList", "Complete"), ("ListItems", str(len(rows)))]
        )

    async def _originate(self, frame: Frame) -> None:
        params = {k.lower(): v for k, v in frame.headers if k.lower() != "variable"}
        variables = dict(v.partition("=")[::2] for k, v in frame.headers if k.lower() == "variable")
        error = self.pbx.originate(params, frame.action_id, variables)
        if error:
            self.respond(frame, False, error)
        else:
            self.respond(frame, True, "Originate successfully queued")

    async def _hangup(self, frame: Frame) -> None:
        try:
            cause = int(frame.get("Cause") or 16)
        except ValueError:
            cause = 16
        if self.pbx.hangup_action(frame.get("Channel"), cause):
            self.respond(frame, True, "Channel Hungup")
        else:
            self.respond(frame, False, "No such channel")

    async def _redirect(self, frame: Frame) -> None:
        if self.pbx.redirect_action(frame.get("Channel"), frame.get("Context"), frame.get("Exten")):
            self.respond(frame, True, "Redirect successful")
        else:
            self.respond(frame, False, f"Channel does not exist: {frame.get('Channel')}")

    async def _setvar(self, frame: Frame) -> None:
        if self.pbx.setvar_action(frame.get("Channel"), frame.get("Variable"), frame.get("Value")):
            self.respond(frame, True, "Variable Set")
        else:
            self.respond(frame, False, "No such channel")

    async def _mixmonitor(self, frame: Frame) -> None:
        ok = self.pbx.mixmonitor(frame.get("Channel"), frame.get("File"), frame.get("Options"))
        if ok:
            self.respond(frame, True)
        else:
            self.respond(frame, False, "No such channel")

    async def _command(self, frame: Frame) -> None:
        self.respond(frame, False, "Permission denied")  # the engine's AMI user has no `command` class
