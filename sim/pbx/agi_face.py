"""The virtual PBX's FastAGI side: connect to the engine like Asterisk's res_agi and run its commands.

Wire behaviour as recorded (docs/asterisk.md#agi-wire): environment lines end in ``\\n``; one response line per
command; the out-of-band ``HANGUP`` line when the caller hangs up or the channel is pulled into a
bridge (after the response of a command the hang-up ended, as res_agi notices it only back in its
loop); dead mode answers 511 except for the commands allowed there; the session ends when the
engine closes the socket.
"""

from __future__ import annotations

import asyncio
import logging
import re
import shlex
from collections.abc import Awaitable, Callable
from typing import Any

from sim.pbx.model import DEFAULT_PROMPT_SECONDS, PROMPT_SECONDS, VChannel, VirtualPbx

log = logging.getLogger("hotline.vpbx.agi")

DEAD_OK = {"EXEC", "GET VARIABLE", "GET FULL VARIABLE", "SET VARIABLE", "VERBOSE", "NOOP", "DATABASE GET",
           "DATABASE PUT", "DATABASE DEL", "DATABASE DELTREE", "ASYNCAGI BREAK"}  # fmt: skip
TWO_WORD = {"STREAM", "WAIT", "SET", "GET", "CHANNEL", "SAY", "DATABASE", "CONTROL", "RECORD", "ASYNCAGI"}


class AgiFace:
    def __init__(self, pbx: VirtualPbx, host: str, port: int, version: str = "22.10.1") -> None:
        self.pbx = pbx
        self.host = host
        self.port = port
        self.version = version
        self.sessions = 0
        # how to reach the engine: TCP by default; the virtual-time face plugs in an in-memory pipe
        self.connect: Callable[[], Awaitable[tuple[Any, Any]]] | None = None

    async def __call__(self, ch: VChannel, script: str, args: list[str]) -> str:
        """Run one AGI session for ``ch``; return the AGISTATUS it ends with."""
        try:
            if self.connect is not None:
                reader, writer = await self.connect()
            else:
                reader, writer = await asyncio.wait_for(asyncio.open_connection(self.host, self.port), 2.0)
        except (OSError, TimeoutError) as exc:
            log.warning("FastAGI connect to %s:%s failed: %s", self.host, self.port, exc)
            return "FAILURE"
        self.sessions += 1
        env = [
            ("agi_network", "yes"), ("agi_network_script", script),
            ("agi_request", f"agi://{self.host}:{self.port}/{script}"), ("agi_channel", ch.name),
            ("agi_language", "en"), ("agi_type", "PJSIP"), ("agi_uniqueid", ch.uniqueid),
            ("agi_version", self.version), ("agi_callerid", ch.caller_num or "unknown"),
            ("agi_calleridname", ch.caller_name or "unknown"), ("agi_callingpres", "0"),
            ("agi_callingani2", "0"), ("agi_callington", "0"), ("agi_callingtns", "0"), ("agi_dnid", ch.exten),
            ("agi_rdnis", "unknown"), ("agi_context", ch.context), ("agi_extension", ch.exten),
            ("agi_priority", str(ch.priority)), ("agi_enhanced", "0.0"), ("agi_accountcode", ""),
            ("agi_threadid", str(140000000000000 + self.sessions)),
            *[(f"agi_arg_{i}", a) for i, a in enumerate(args, start=1)],
        ]  # fmt: skip
        writer.write("".join(f"{k}: {v}\n" for k, v in env).encode() + b"\n")
        status = "SUCCESS"
        hangup_sent = False
        try:
            while True:
                line_task = asyncio.ensure_future(reader.readline())
                while not line_task.done():
                    if not hangup_sent and (not ch.alive or ch.agi_dead):
                        writer.write(b"HANGUP\n")
                        hangup_sent = True
                    ch.events.clear()
                    poke = asyncio.ensure_future(ch.events.wait())
                    await asyncio.wait([line_task, poke], return_when=asyncio.FIRST_COMPLETED)
                    poke.cancel()
                raw = line_task.result()
                if not raw:
                    break  # the engine closed the session: the AGI ends
                # HANGUP goes before the response only on a channel dead already; a hang-up during the command
                # follows its response (-1), sent at the loop's top as res_agi does (recorded in the lab)
                dead_before = not ch.alive or ch.agi_dead
                reply = await self._command(ch, raw.decode(errors="replace").strip())
                if not hangup_sent and dead_before:
                    writer.write(b"HANGUP\n")  # out of band, before the response (as observed)
                    hangup_sent = True
                writer.write(reply.encode() + b"\n")
                await writer.drain()
        except (ConnectionError, OSError):
            status = "FAILURE"
        finally:
            if hangup_sent or not ch.alive:
                status = "HANGUP"
            try:
                writer.write(b"HANGUP\n")  # res_agi writes this once more at the end; harmless
                writer.close()
            except (ConnectionError, OSError, RuntimeError):
                pass
        return status

    async def _command(self, ch: VChannel, line: str) -> str:
        try:
            words = shlex.split(line)
        except ValueError:
            return "520 Invalid command syntax.  Proper usage not available."
        if not words:
            return "510 Invalid or unknown command"
        name = words[0].upper()
        if name in TWO_WORD and len(words) > 1:
            name = f"{name} {words[1].upper()}"
            args = words[2:]
        else:
            args = words[1:]
        if name == "GET FULL" and args[:1] and args[0].upper() == "VARIABLE":
            name, args = "GET FULL VARIABLE", args[1:]  # three words: allowed on a dead channel
        dead = not ch.alive or ch.agi_dead
        if dead and name not in DEAD_OK:
            return "511 Command Not Permitted on a dead channel or intercept routine"
        pbx = self.pbx
        if name == "ANSWER":
            pbx._set_state(ch, 6)
            return "200 result=0"
        if name in ("STREAM FILE", "GET OPTION", "CONTROL STREAM"):
            if not args:
                return "520 End of proper usage."
            escape = args[1] if len(args) > 1 else ""
            digit, played = await self._play(ch, args[0], escape)
            if digit is None and name == "GET OPTION" and len(args) > 2:
                digit = await self._digit(ch, int(args[2]) / 1000, escape or "0123456789*#")
            if not ch.alive or ch.agi_dead:
                return f"200 result=-1 endpos={played}"
            return f"200 result={ord(digit) if digit else 0} endpos={played}"
        if name == "WAIT FOR":
            timeout = int(args[1]) if len(args) > 1 and args[0].upper() == "DIGIT" else 0
            digit = await self._digit(ch, None if timeout < 0 else timeout / 1000, "0123456789*#ABCD")
            if not ch.alive or ch.agi_dead:
                return "200 result=-1"
            return f"200 result={ord(digit) if digit else 0}"
        if name == "GET DATA":
            timeout = int(args[1]) / 1000 if len(args) > 1 else 5.0
            maxd = int(args[2]) if len(args) > 2 else 1024
            first, _ = await self._play(ch, args[0] if args else "", "0123456789*#")
            digits = first or ""
            while len(digits) < maxd and ch.alive:
                d = await self._digit(ch, timeout, "0123456789*#")
                if d is None or d == "#":
                    break
                digits += d
            if not ch.alive:
                return "200 result=-1"
            return f"200 result={digits}" + ("" if len(digits) >= maxd else " (timeout)")
        if name == "SET VARIABLE":
            if len(args) >= 2:
                ch.variables[args[0]] = args[1]
                pbx._varset(ch, args[0], args[1])
            return "200 result=1"
        if name == "GET VARIABLE" and args and args[0] in ch.variables:
            return f"200 result=1 ({ch.variables[args[0]]})"
        if name == "GET FULL VARIABLE":
            # evaluated like a dialplan expression: always result=1, unknown names and functions empty
            return f"200 result=1 ({_substitute(ch, args[0] if args else '')})"
        if name == "GET VARIABLE":
            return "200 result=0"
        if name in ("SET CONTEXT", "SET EXTENSION", "SET PRIORITY"):
            ctx, ext, pri = ch.agi_goto or (ch.context, ch.exten, str(ch.priority + 1))
            value = args[0] if args else ""
            if name == "SET CONTEXT":
                ctx = value
            elif name == "SET EXTENSION":
                ext = value
            else:
                pri = value
            ch.agi_goto = (ctx, ext, pri)
            return "200 result=0"
        if name == "HANGUP":
            pbx._hangup(ch, 16, requested_by_far_end=False)
            return "200 result=1"
        if name in ("VERBOSE",):
            return "200 result=1"
        if name == "EXEC" and args and args[0].lower() == "stopmixmonitor":
            pbx.stop_amd_sample(ch)
            return "200 result=0"
        if name == "EXEC" and args and args[0].lower() == "bridge":
            return f"200 result={await pbx.exec_bridge(ch, args[1] if len(args) > 1 else '')}"
        if name in ("NOOP", "SET MUSIC", "EXEC", "SET CALLERID", "SET AUTOHANGUP"):
            return "200 result=0"
        if name == "CHANNEL STATUS":
            return f"200 result={ch.state}"
        return "510 Invalid or unknown command"

    async def _play(self, ch: VChannel, prompt: str, escape: str) -> tuple[str | None, int]:
        seconds = PROMPT_SECONDS.get(prompt, DEFAULT_PROMPT_SECONDS)
        start = self.pbx.clock.monotonic()
        got = await self.pbx._wait(ch, seconds, lambda: not ch.alive or ch.agi_dead or _has(ch, escape))
        played = int(min(seconds, self.pbx.clock.monotonic() - start) * 8000)
        if got and ch.alive and not ch.agi_dead:
            return _take(ch, escape), played
        return None, played

    async def _digit(self, ch: VChannel, timeout: float | None, accept: str) -> str | None:
        got = await self.pbx._wait(ch, timeout, lambda: not ch.alive or ch.agi_dead or _has(ch, accept))
        if got and ch.alive and not ch.agi_dead:
            return _take(ch, accept)
        return None


_VAR = re.compile(r"\$\{([^{}]*)\}")


def _substitute(ch: VChannel, expr: str) -> str:
    builtin = {"CHANNEL": ch.name, "UNIQUEID": ch.uniqueid, "CONTEXT": ch.context, "EXTEN": ch.exten,
               "CALLERID(num)": ch.caller_num, "CALLERID(name)": ch.caller_name}  # fmt: skip
    return _VAR.sub(lambda m: ch.variables.get(m.group(1), builtin.get(m.group(1), "")), expr)


def _has(ch: VChannel, accept: str) -> bool:
    return any(d in accept for d in ch.digits)


def _take(ch: VChannel, accept: str) -> str | None:
    # digits not in the escape set are consumed and ignored, as a playback ignores them
    while ch.digits:
        d = ch.digits.pop(0)
        if d in accept:
            return d
    return None
