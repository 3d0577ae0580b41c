"""The lab tests' RTP phone on loopback: it speaks once spoken to, from the port it listens on, and what it hears
decodes back to the tone that was sent (the share of energy at a frequency is what the barge test reads)."""

import asyncio
import struct
from pathlib import Path

import numpy as np
import pytest

from sim.rtp_phone import RATE, open_phone, share_at, ulaw_decode, ulaw_tone
from sim.sipp import external_media, ivr_caller_scenario, uas_scenario


def test_a_decoded_tone_has_its_energy_at_its_frequency_and_nowhere_else():
    samples = ulaw_decode(ulaw_tone(1000))
    assert len(samples) == RATE and 0.25 * 32768 < np.abs(samples).max() < 0.35 * 32768  # sox's vol 0.3
    assert share_at(samples, 1000) > 0.95
    assert share_at(samples, 440) < 0.001 and share_at(np.zeros(RATE), 1000) == 0.0


async def test_two_phones_hear_each_other_once_one_is_spoken_to():
    a, b = await open_phone(ulaw_tone(440)), await open_phone(ulaw_tone(1000))
    try:
        loop = asyncio.get_running_loop()
        start = loop.time()
        assert a.transport is not None
        # one packet of silence from a to b: b learns where a is and speaks; a, spoken to, speaks back
        a.transport.sendto(struct.pack("!BBHII", 0x80, 0, 0, 0, 1) + b"\xff" * 160, ("127.0.0.1", b.port))
        await asyncio.sleep(0.6)
        a_heard, b_heard = a.between(start, loop.time()), b.between(start, loop.time())
        assert len(a_heard) >= 0.4 * RATE and len(b_heard) >= 0.4 * RATE, (len(a_heard), len(b_heard))
        assert share_at(a_heard, 1000) > 0.9 and share_at(b_heard[160:], 440) > 0.9
        assert len(a.between(loop.time(), loop.time() + 1)) == 0
    finally:
        a.close()
        b.close()


def test_a_scenario_handed_to_the_test_phone_names_its_port_and_plays_nothing_itself():
    speaking = uas_scenario("answer", 0.3, audio=Path("lead.wav"))
    assert '<exec rtp_stream="lead.wav,-1,0"/>' in speaking  # a UAS may speak, from the ACK on
    assert speaking.index("rtp_stream") > speaking.index('<recv request="ACK"')
    for scenario in (speaking, ivr_caller_scenario(caller="1", tag="t", audio=Path("c.wav"), steps=[("bye",)])):
        moved = external_media(scenario, 41234)
        assert "m=audio 41234 RTP/AVP 0" in moved and "[media_port]" not in moved and "rtp_stream" not in moved
    with pytest.raises(ValueError, match="no SDP media line"):
        external_media(uas_scenario("busy"), 41234)
