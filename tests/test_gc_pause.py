"""The collector's pause around a report's build: nested pauses end with the outer one, a failure ends it too, and
a collector someone else turned off stays off."""

from __future__ import annotations

import gc

import pytest

from reports.gc_pause import gc_paused


def test_the_pause_ends_with_the_outer_block_even_on_failure() -> None:
    assert gc.isenabled()
    with gc_paused():
        assert not gc.isenabled()
        with gc_paused():
            assert not gc.isenabled()
        assert not gc.isenabled(), "the inner block's end does not end the outer pause"
    assert gc.isenabled()
    with pytest.raises(KeyError), gc_paused():
        raise KeyError("x")
    assert gc.isenabled()


def test_a_collector_turned_off_before_stays_off() -> None:
    gc.disable()
    try:
        with gc_paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()
