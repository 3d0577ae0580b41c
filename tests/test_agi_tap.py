"""The FastAGI server's tap: the exchange as the engine saw it, for the fidelity transcripts."""

import asyncio

import pytest

from engine.asterisk.agi_codec import AgiConnection
from engine.asterisk.fastagi import AgiChannel, FastAgiServer

ENV = b"agi_network: yes\nagi_network_script: ivr\nagi_channel: PJSIP/trunk-00000001\nagi_uniqueid: 1795373618.1\n\n"


@pytest.mark.parametrize(
    "line",
    ["200 result=0", "200 result=1 (bar baz)", "200 result=-1 endpos=12000", "200 result= (timeout)",
     "510 Invalid or unknown command", "511 Command Not Permitted on a dead channel or intercept routine"],
)  # fmt: skip
def test_response_line_is_what_asterisk_wrote(line):
    c = AgiConnection()
    c.feed(ENV)
    c.send_command("NOOP")
    (resp,) = c.feed(line.encode() + b"\n")
    assert resp.line == line


def test_tap_sees_env_commands_hangup_and_replies_in_order():
    seen: list[tuple[str, str, str]] = []

    async def handler(agi: AgiChannel) -> None:
        await agi.answer()
        await agi.stream("hello-world", "")

    async def main() -> None:
        server = FastAgiServer("127.0.0.1", 0, tap=lambda kind, env, text: seen.append((kind, env["uniqueid"], text)))
        server.route("ivr", handler)
        serving = asyncio.create_task(server.serve())
        await server.started.wait()
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        writer.write(ENV)
        assert await reader.readline() == b"ANSWER\n"
        writer.write(b"200 result=0\n")
        assert await reader.readline() == b'STREAM FILE hello-world ""\n'
        writer.write(b"HANGUP\n200 result=-1 endpos=800\n")  # the caller hung up mid-prompt
        assert await reader.read() == b""  # the engine closed the session
        writer.close()
        serving.cancel()

    asyncio.run(main())
    uid = "1795373618.1"
    assert seen == [("env", uid, "ivr"), ("command", uid, "ANSWER"), ("reply", uid, "200 result=0"),
                    ("command", uid, 'STREAM FILE hello-world ""'), ("hangup", uid, "HANGUP"),
                    ("reply", uid, "200 result=-1 endpos=800")]  # fmt: skip


def test_hangup_read_with_a_response_is_seen_with_the_next_command():
    """Asterisk answers a media command the caller hung up during with result=-1 and sends HANGUP right behind
    it; when both arrive in one read the HANGUP is not lost, and it shows where it shows when it arrives later."""
    seen: list[tuple[str, str]] = []

    async def handler(agi: AgiChannel) -> None:
        await agi.command("GET OPTION", "hello-world", "0123456789*#", "5000")
        await agi.set_variable("HOTLINE_CALL", "1795373618.1")
        await agi.stream("hello-world")  # dead: not sent

    async def main() -> None:
        server = FastAgiServer("127.0.0.1", 0, tap=lambda kind, env, text: seen.append((kind, text)))
        server.route("ivr", handler)
        serving = asyncio.create_task(server.serve())
        await server.started.wait()
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        writer.write(ENV)
        assert (await reader.readline()).startswith(b"GET OPTION")
        writer.write(b"200 result=-1 endpos=8000\nHANGUP\n")  # one write, one read
        assert (await reader.readline()).startswith(b"SET VARIABLE")
        writer.write(b"200 result=1\n")
        assert await reader.read() == b""
        writer.close()
        serving.cancel()

    asyncio.run(main())
    assert seen == [("env", "ivr"), ("command", "GET OPTION hello-world 0123456789*# 5000"),
                    ("reply", "200 result=-1 endpos=8000"), ("command", "SET VARIABLE HOTLINE_CALL 1795373618.1"),
                    ("hangup", "HANGUP"), ("reply", "200 result=1")]  # fmt: skip
