"""Working days on the site's calendar (pure): weekends, the country's public holidays and its make-up working
days (a weekend day worked to bridge a holiday), from the ``holidays`` library, with the site file's own extra
holidays and extra working days on top (an extra working day wins over a holiday on the same date).

A due time counts whole working days after the day a case was opened (that day itself never counts, however
early it began): a complaint opened on any moment of a day with 5 working days to answer is due at the end of
the fifth working day after it, midnight in the site's time zone.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays

WEEKEND = (5, 6)  # Saturday, Sunday
MAX_SCAN = 400  # days looked at before giving up: a calendar of nothing but holidays is a mistake, not a wait


@lru_cache(maxsize=64)
def public_days(country: str, year: int) -> tuple[frozenset[dt.date], frozenset[dt.date]]:
    """The country's public holidays and make-up working days of one year (none for country "")."""
    if not country:
        return frozenset(), frozenset()
    h = holidays.country_holidays(country, years=year)
    # the library keeps make-up days of every year it knows on the class: only this year's belong here
    workdays = frozenset(d for d in getattr(h, "weekend_workdays", ()) or () if d.year == year)
    return frozenset(d for d in h if d.year == year), workdays


def parse_dates(values: Iterable[str]) -> frozenset[dt.date]:
    """``YYYY-MM-DD`` strings as dates; ValueError names the one that is not."""
    out = set()
    for v in values:
        try:
            out.add(dt.date.fromisoformat(v))
        except ValueError:
            raise ValueError(f"{v!r} is not a date (YYYY-MM-DD)") from None
    return frozenset(out)


class WorkCalendar:
    def __init__(self, tz: str | ZoneInfo, country: str = "CN", extra_holidays: Iterable[dt.date] = (),
                 extra_workdays: Iterable[dt.date] = ()) -> None:  # fmt: skip
        self.tz = tz if isinstance(tz, ZoneInfo) else ZoneInfo(tz)
        self.country = country
        self.extra_holidays = frozenset(extra_holidays)
        self.extra_workdays = frozenset(extra_workdays)

    def is_working(self, day: dt.date) -> bool:
        if day in self.extra_workdays:
            return True
        if day in self.extra_holidays:
            return False
        off, made_up = public_days(self.country, day.year)
        if day in made_up:
            return True
        return day.weekday() not in WEEKEND and day not in off

    def day_of(self, t: float) -> dt.date:
        return dt.datetime.fromtimestamp(t, self.tz).date()

    def end_of(self, day: dt.date) -> float:
        """Midnight after ``day``, site time, as epoch seconds."""
        nxt = day + dt.timedelta(days=1)
        return dt.datetime(nxt.year, nxt.month, nxt.day, tzinfo=self.tz).timestamp()

    def working_day_after(self, day: dt.date, n: int) -> dt.date:
        """The ``n``-th working day after ``day`` (``n`` 0: ``day`` itself)."""
        d, left = day, n
        for _ in range(MAX_SCAN + n):
            if left == 0:
                return d
            d += dt.timedelta(days=1)
            if self.is_working(d):
                left -= 1
        raise ValueError(f"no {n} working days within {MAX_SCAN + n} days after {day}: check the calendar")

    def due(self, opened: float, days: int) -> float:
        """When something opened at ``opened`` with ``days`` working days to it is due (epoch seconds)."""
        return self.end_of(self.working_day_after(self.day_of(opened), days))


def due_label(t: float, tz: ZoneInfo) -> str:
    """A due time as people read it: one due by the end of a day (the next midnight) is that day's 24:00, not the
    next day's 00:00, which reads as a day later than promised."""
    local = dt.datetime.fromtimestamp(t, tz)
    if (local.hour, local.minute, local.second) == (0, 0, 0):
        return f"{(local.date() - dt.timedelta(days=1)).isoformat()} 24:00"
    return local.strftime("%Y-%m-%d %H:%M")
