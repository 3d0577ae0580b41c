import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.asterisk.agi_codec import (
    AgiConnection,
    AgiParseError,
    Environment,
    HangupNotice,
    Malformed,
    Response,
    State,
    quote_arg,
)

ENV = (
    b"agi_network: yes\nagi_network_script: ivr?x=1\nagi_request: agi://127.0.0.1:4573/ivr?x=1\n"
    b"agi_channel: PJSIP/trunk-00000001\nagi_uniqueid: 1795373618.1\nagi_callerid: 13800138000\n"
    b"agi_arg_1: 4001234567\nagi_arg_2: two words\n\n"
)


def started() -> AgiConnection:
    c = AgiConnection()
    (env,) = c.feed(ENV)
    assert isinstance(env, Environment)
    return c


def test_environment():
    c = AgiConnection()
    (env,) = c.feed(ENV)
    assert env.script == "ivr" and env.query == "x=1"
    assert env.args == ["4001234567", "two words"]
    assert env["uniqueid"] == "1795373618.1"
    assert c.state is State.IDLE


@pytest.mark.parametrize(
    "line,expected",
    [
        (b"200 result=0\n", Response(200, "0")),
        (b"200 result=1 (bar baz)\n", Response(200, "1", "bar baz")),
        (b"200 result=-1 endpos=12000\n", Response(200, "-1", None, 12000)),
        (b"200 result=49 endpos=4000\n", Response(200, "49", None, 4000)),
        (b"200 result= (timeout)\n", Response(200, "", "timeout")),
        (b"200 result=12 (timeout)\n", Response(200, "12", "timeout")),
        (b"510 Invalid or unknown command\n", Response(510, message="Invalid or unknown command")),
    ],
)
def test_responses(line, expected):
    c = started()
    c.send_command("NOOP")
    assert c.feed(line) == [expected]
    assert c.state is State.IDLE


def test_digit_helper():
    assert Response(200, "49").digit == "1"
    assert Response(200, "35").digit == "#"
    assert Response(200, "0").digit is None


def test_hangup_out_of_band_before_response():
    c = started()
    c.send_command('STREAM FILE x ""')
    events = c.feed(b"HANGUP\n511 Command Not Permitted on a dead channel or intercept routine\n")
    assert isinstance(events[0], HangupNotice)
    assert events[1].code == 511
    assert c.hung_up and c.state is State.IDLE


def test_hangup_while_idle():
    c = started()
    assert c.feed(b"HANGUP\n") == [HangupNotice()]
    assert c.hung_up


def test_multiline_520():
    c = started()
    c.send_command("STREAM FILE")
    events = c.feed(
        b"520-Invalid command syntax.  Proper usage follows:\n"
        b" Usage: STREAM FILE <literal>filename</literal>\n"
        b" more text\n"
        b"520 End of proper usage.\n"
    )
    assert len(events) == 1 and events[0].code == 520
    assert events[0].usage[-1] == " more text"
    assert c.state is State.IDLE


def test_split_at_every_byte_boundary():
    stream = ENV + b"HANGUP\n200 result=1 (a b)\n"
    for cut in range(1, len(stream)):
        c = AgiConnection()
        out = c.feed(stream[:cut])
        if c.state is State.IDLE:
            c.send_command("GET VARIABLE X")
        out += c.feed(stream[cut:])
        if c.state is State.IDLE and not any(isinstance(e, Response) for e in out):
            c.send_command("GET VARIABLE X")
            out += c.feed(b"")
        kinds = [type(e).__name__ for e in out]
        assert kinds[0] == "Environment", cut
        assert "HangupNotice" in kinds, cut


def test_malformed_lines_are_skipped():
    c = AgiConnection()
    out = c.feed(b"garbage line\nagi_channel: X\n\n")
    assert isinstance(out[0], Malformed) and isinstance(out[1], Environment)
    c.send_command("NOOP")
    out = c.feed(b"20x nonsense\n200 result=0\n")
    assert isinstance(out[0], Malformed) and out[1] == Response(200, "0")


def test_line_too_long_is_a_parse_error():
    with pytest.raises(AgiParseError):
        AgiConnection().feed(b"a" * 10_000)


def test_one_command_at_a_time():
    c = started()
    c.send_command("NOOP")
    with pytest.raises(RuntimeError):
        c.send_command("NOOP")


def test_quote_arg():
    assert quote_arg("") == '""'
    assert quote_arg("hello") == "hello"
    assert quote_arg('a "b"') == '"a \\"b\\""'


@settings(max_examples=400, deadline=None)
@given(st.lists(st.binary(max_size=60), max_size=10), st.booleans())
def test_fuzz_only_own_error(chunks, send_first):
    c = AgiConnection()
    try:
        for chunk in chunks:
            for ev in c.feed(chunk):
                assert isinstance(ev, Environment | Response | HangupNotice | Malformed)
            if send_first and c.state is State.IDLE:
                c.send_command("NOOP")
    except AgiParseError:
        pass
