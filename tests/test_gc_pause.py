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


def test_reports_overlapping_too_long_get_a_collection(monkeypatch: pytest.MonkeyPatch) -> None:
    from reports import gc_pause

    collected: list[int] = []
    monkeypatch.setattr(gc_pause.gc, "collect", lambda *a: collected.append(1) or 0)
    monkeypatch.setattr(gc_pause, "LONGEST", 0.0)
    with gc_paused():
        with gc_paused():  # another report began meanwhile and ends first: the pause has lasted "too long"
            pass
        assert collected == [1] and not gc.isenabled()
    assert gc.isenabled() and collected == [1], "the outermost end turns it back on without collecting"
