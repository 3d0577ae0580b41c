"""Ledger idempotency keys (engine/model/facts.py ``fact_key``): kinds cannot collide."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine.model.facts import fact_key


def test_the_kind_comes_first_and_parts_are_written_as_f_strings_write_them():
    assert fact_key("channel.up", "1796143868.0") == "channel.up:1796143868.0"
    assert fact_key("acd.session", "hl-1", "up") == "acd.session:hl-1:up"
    assert fact_key("ivr.step", "1796143868.0", 3) == "ivr.step:1796143868.0:3"
    t = 1796143868.0123
    assert fact_key("agent.paused", "1001", t) == f"agent.paused:1001:{t}"
    assert fact_key("acd.guard", "1001", f"{t:.3f}") == "acd.guard:1001:1796143868.012"
    assert fact_key("ivr.degraded_since") == "ivr.degraded_since"


def test_two_kinds_never_share_a_key():
    # these two once did: a refused menu file and a loaded one were both ``reload:<mtime>``
    assert fact_key("ivr.reload_refused", 1796143868.5) != fact_key("ivr.reloaded", 1796143868.5)
    assert fact_key("acd.session", "u", "up") != fact_key("dialer.session", "u", "up")
    assert fact_key("ivr.callback", "u") != fact_key("outbound.callback", "u")


def test_a_colon_inside_a_part_cannot_make_two_part_lists_one_key():
    assert fact_key("k", "a:b") != fact_key("k", "a", "b")
    assert fact_key("k", "a%3Ab") != fact_key("k", "a:b")
    assert fact_key("k", "a", "") != fact_key("k", "a") != fact_key("k", "a:")
    assert fact_key("k", "a:b") == "k:a%3Ab"


@pytest.mark.parametrize("kind", ["", "a:b"])
def test_a_kind_must_be_a_single_component(kind):
    with pytest.raises(ValueError, match="kind"):
        fact_key(kind, "x")


_KIND = st.text(st.characters(blacklist_characters=":"), min_size=1, max_size=8)
_PART = st.one_of(st.text(max_size=8), st.integers(), st.floats(allow_nan=False))


@given(a=st.tuples(_KIND, st.lists(_PART, max_size=4)), b=st.tuples(_KIND, st.lists(_PART, max_size=4)))
def test_equal_keys_only_for_the_same_kind_and_parts(a, b):
    same = a[0] == b[0] and [str(p) for p in a[1]] == [str(p) for p in b[1]]
    assert (fact_key(a[0], *a[1]) == fact_key(b[0], *b[1])) == same
