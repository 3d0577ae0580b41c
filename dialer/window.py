"""The calling window, pure: how long a campaign may still call now in a time zone, and when it opens next.

A campaign calls between ``window`` (minutes after local midnight, [start, end)) on its calling days
(``starts`` .. ``ends``, epoch seconds); the lead's own zone decides when it has one, else the site's.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from dialer.settings import Campaign


def minutes(now: float, zone: ZoneInfo) -> float:
    """Minutes after local midnight at epoch ``now`` in ``zone``."""
    t = dt.datetime.fromtimestamp(now, zone)
    return t.hour * 60 + t.minute + t.second / 60


def window_left(c: Campaign, now: float, zone: ZoneInfo) -> float:
    """Seconds until the calling window closes in that zone (0 when it is closed now)."""
    if (c.starts is not None and now < c.starts) or (c.ends is not None and now >= c.ends):
        return 0.0
    m = minutes(now, zone)
    start, end = c.window
    return (end - m) * 60 if start <= m < end else 0.0


def next_opening(c: Campaign, now: float, zone: ZoneInfo) -> float:
    """When to try again a lead the window turned away (at least a minute on)."""
    m = minutes(now, zone)
    start = c.window[0]
    wait = (start - m) * 60 if m < start else (24 * 60 - m + start) * 60
    return now + max(60.0, wait)
