"""The calling window, pure: open between its local hours on its calling days, in the lead's zone when it has
one; a lead turned away comes back at the next opening, never sooner than a minute."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from dialer.settings import Campaign
from dialer.window import minutes, next_opening, window_left

SHANGHAI, NEW_YORK = ZoneInfo("Asia/Shanghai"), ZoneInfo("America/New_York")


def _at(zone: ZoneInfo, h: int, m: int = 0) -> float:
    return dt.datetime(2026, 3, 2, h, m, tzinfo=zone).timestamp()


def test_open_between_its_local_hours_and_closed_outside():
    c = Campaign("c", ("a",), window=(9 * 60, 18 * 60))
    assert minutes(_at(SHANGHAI, 9, 30), SHANGHAI) == 570
    assert window_left(c, _at(SHANGHAI, 17, 0), SHANGHAI) == pytest.approx(3600)
    assert window_left(c, _at(SHANGHAI, 8, 59), SHANGHAI) == 0.0
    assert window_left(c, _at(SHANGHAI, 18, 0), SHANGHAI) == 0.0, "the end is not in it"
    ten_in_shanghai = _at(SHANGHAI, 10)  # 21:00 the day before in New York
    assert window_left(c, ten_in_shanghai, SHANGHAI) > 0 and window_left(c, ten_in_shanghai, NEW_YORK) == 0.0


def test_calling_days_bound_it():
    noon = _at(SHANGHAI, 12)
    c = Campaign("c", ("a",), starts=noon + 1, ends=noon + 86400)
    assert window_left(c, noon, SHANGHAI) == 0.0, "before its first day"
    assert window_left(c, noon + 86400, SHANGHAI) == 0.0, "after its last"
    assert window_left(c, noon + 3600, SHANGHAI) == pytest.approx(8 * 3600)


def test_the_next_opening_is_the_next_start_at_least_a_minute_on():
    c = Campaign("c", ("a",), window=(9 * 60, 18 * 60))
    early = _at(SHANGHAI, 7)
    assert next_opening(c, early, SHANGHAI) == pytest.approx(early + 2 * 3600)
    late = _at(SHANGHAI, 19)
    assert next_opening(c, late, SHANGHAI) == pytest.approx(late + 14 * 3600), "tomorrow's start"
    almost = _at(SHANGHAI, 8, 59) + 30
    assert next_opening(c, almost, SHANGHAI) == almost + 60.0
