"""Repeat callers in the simulated traffic: with ``repeat_p`` a share of callers call from an earlier caller's
number (one of the last ``REPEAT_BACK``), the other draws of every caller stay as they were, and without it
every caller has a number of its own as before."""

from __future__ import annotations

from dataclasses import replace

from sim import traffic


def test_repeat_callers_reuse_an_earlier_number_and_shift_no_other_draw():
    plain = traffic.InboundModel(calls_per_day=2000)
    repeats = replace(plain, repeat_p=0.2)
    a = traffic.day(plain, 7, 8, 13)
    b = traffic.day(repeats, 7, 8, 13)
    assert len(a) == len(b) > 1000
    assert len({c.number for c in a}) == len(a), "no repeats without repeat_p"
    # everything but the number is the same caller
    assert [replace(c, number="") for c in a] == [replace(c, number="") for c in b]
    again = [i for i, c in enumerate(b) if c.number != a[i].number]
    share = len(again) / len(b)
    assert 0.15 < share < 0.25, share
    first_seen: dict[str, int] = {}
    for i, c in enumerate(b):
        first_seen.setdefault(c.number, i)
    for i in again:
        earlier = first_seen[b[i].number]
        assert earlier < i and b[earlier].number == a[earlier].number, "an earlier caller's own number"
    # the chain of a repeat of a repeat stays within reach: at most REPEAT_BACK callers back per step
    assert all(i - first_seen[b[i].number] <= traffic.REPEAT_BACK * 4 for i in again)
