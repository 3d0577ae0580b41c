"""Where a site and its numbers are: IANA time zones and ISO 3166 country codes, as site-file checks (the
message, or None when the value is good)."""

from __future__ import annotations

from typing import Any


def timezone_problem(v: Any) -> str | None:
    try:
        from zoneinfo import ZoneInfo

        ZoneInfo(v)
    except Exception:
        return f"unknown time zone {v!r}"
    return None


def region_problem(v: Any) -> str | None:
    """A country the phone-number data knows: numbers written without '+' are read as that country's."""
    import phonenumbers

    if v in phonenumbers.SUPPORTED_REGIONS:
        return None
    hint = f" (did you mean '{v.upper()}'?)" if v.upper() in phonenumbers.SUPPORTED_REGIONS else ""
    return f"unknown country code {v!r}{hint}: an ISO 3166 code such as CN, US, GB"
