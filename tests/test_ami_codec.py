from hypothesis import given, settings
from hypothesis import strategies as st

from engine.asterisk.ami_codec import AmiDecoder, AmiParseError, Banner, Frame, encode_action

STREAM = (
    b"Asterisk Call Manager/11.0.0\r\n"
    b"Response: Success\r\nActionID: a1\r\nMessage: Authentication accepted\r\n\r\n"
    b"Event: FullyBooted\r\nPrivilege: system,all\r\nUptime: 5\r\nStatus: Fully Booted\r\n\r\n"
    b"Response: Error\r\nActionID: a2\r\nMessage: No Contacts found\n\r\n\r\n"
    + "Event: Newchannel\r\nChannel: PJSIP/trunk-00000001\r\nCallerIDName: Zh\u00e0ng S\u0101n\r\n"
    "ChanVariable: a=1\r\nChanVariable: b=2\r\nUniqueid: 17.1\r\n\r\n".encode()
)


def _frames(items):
    return [i for i in items if isinstance(i, Frame)]


def test_whole_stream():
    items = AmiDecoder().feed(STREAM)
    assert isinstance(items[0], Banner) and items[0].version == "11.0.0"
    frames = _frames(items)
    assert [f.response or f.event for f in frames] == ["Success", "FullyBooted", "Error", "Newchannel"]
    assert frames[2].get("Message") == "No Contacts found"
    assert frames[3].get("calleridname") == "Zh\u00e0ng S\u0101n"
    assert frames[3].get_all("ChanVariable") == ["a=1", "b=2"]
    assert not [i for i in items if isinstance(i, AmiParseError)]


def test_split_at_every_byte_boundary():
    expected = AmiDecoder().feed(STREAM)
    for cut in range(1, len(STREAM)):
        d = AmiDecoder()
        got = d.feed(STREAM[:cut]) + d.feed(STREAM[cut:])
        assert got == expected, f"split at byte {cut}"


def test_one_byte_at_a_time_keeps_utf8():
    d = AmiDecoder()
    got = []
    for i in range(len(STREAM)):
        got += d.feed(STREAM[i : i + 1])
    assert _frames(got)[-1].get("CallerIDName") == "Zh\u00e0ng S\u0101n"


def test_lf_only_input_is_accepted():
    items = AmiDecoder(expect_banner=False).feed(b"Event: Hangup\nUniqueid: 1.2\nCause: 16\n\n")
    assert _frames(items)[0].get("Cause") == "16"


def test_malformed_frame_is_reported_and_skipped():
    d = AmiDecoder(expect_banner=False)
    items = d.feed(b"Event: Newstate\r\nthis is not a header\r\n\r\nEvent: Hangup\r\nUniqueid: 9.9\r\n\r\n")
    assert isinstance(items[0], AmiParseError)
    assert _frames(items)[0].event == "Hangup"


def test_frame_without_event_or_response_is_an_error():
    items = AmiDecoder(expect_banner=False).feed(b"Foo: bar\r\n\r\n")
    assert isinstance(items[0], AmiParseError)


def test_overlong_line_is_skipped_then_decoding_resumes():
    d = AmiDecoder(expect_banner=False)
    items = d.feed(b"Event: X\r\nData: " + b"x" * 300_000)
    assert any(isinstance(i, AmiParseError) for i in items)
    items = d.feed(b"\r\n\r\nEvent: Hangup\r\nUniqueid: 1.1\r\n\r\n")
    assert _frames(items)[0].event == "Hangup"


def test_first_occurrence_wins_and_lookup_is_case_insensitive():
    f = _frames(AmiDecoder(expect_banner=False).feed(b"event: A\r\nKEY: 1\r\nkey: 2\r\n\r\n"))[0]
    assert f.event == "A" and f["Key"] == "1"


def test_encode_action_rejects_header_injection():
    assert encode_action({"Action": "Ping"}) == b"Action: Ping\r\n\r\n"
    try:
        encode_action({"Action": "Originate", "Data": "x\r\nAction: Hangup"})
    except ValueError:
        pass
    else:
        raise AssertionError("a line break in a value must be refused")


@settings(max_examples=400, deadline=None)
@given(st.lists(st.binary(max_size=80), max_size=12), st.booleans())
def test_fuzz_never_raises(chunks, banner):
    d = AmiDecoder(expect_banner=banner)
    for c in chunks:
        for item in d.feed(c):
            assert isinstance(item, Banner | Frame | AmiParseError)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.from_regex(r"[A-Za-z][A-Za-z0-9-]{0,12}", fullmatch=True),
            st.text(st.characters(blacklist_characters="\r\n", blacklist_categories=["Cs"]), max_size=30),
        ),
        min_size=1,
        max_size=8,
    ),
    st.integers(min_value=1, max_value=40),
)
def test_roundtrip_any_split(headers, step):
    headers = [("Event", "X"), *headers]
    data = encode_action(headers)
    d = AmiDecoder(expect_banner=False)
    got = []
    for i in range(0, len(data), step):
        got += d.feed(data[i : i + step])
    frames = _frames(got)
    assert len(frames) == 1
    assert frames[0].headers == headers, "values survive exactly, leading and trailing blanks included"
