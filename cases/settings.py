"""[cases]: due times in working days, the site's calendar, what opens a case, the overdue check and retention
(the site file's schema of the section, and its reading)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cases.calendar import WorkCalendar, parse_dates
from engine.config_fields import Field, positive


def _days(v: Any) -> str | None:
    return None if v >= 0 else "must be 0 (the same day's end) or more"


def _dates(v: Any) -> str | None:
    if not all(isinstance(d, str) for d in v):
        return "must list dates as strings (YYYY-MM-DD)"
    try:
        parse_dates(v)
    except ValueError as exc:
        return str(exc)
    return None


def _country(v: Any) -> str | None:
    if v == "":
        return None
    import holidays

    return None if v in holidays.list_supported_countries() else f"{v!r}: not a country the holidays library knows"


def _share(v: Any) -> str | None:
    return None if 0 < v <= 1 else "must be a share over 0 and at most 1 (0.6 is 60 %)"


def _codes(v: Any) -> str | None:
    return None if all(isinstance(c, str) and c for c in v) else "must list disposition codes"


CASES_FIELDS: dict[str, Field] = {
    "complaint_days": Field(int, 5, check=_days, doc="working days to answer a complaint"),
    "follow_up_days": Field(int, 1, check=_days, doc="working days to make a promised call back"),
    "after_sale_days": Field(int, 3, check=_days, doc="working days to make the return call after a sale"),
    "low_survey_days": Field(int, 2, check=_days, doc="working days to look into a low survey score"),
    "survey_below": Field(int, 3, check=positive, doc="a survey score below this opens a low_survey case"),
    "after_sale_codes": Field(list, [], check=_codes, doc="disposition codes after which a return call is due"),
    "follow_up_goal": Field((int, float), 0.6, check=_share, doc="the site's follow-up rate goal (done ÷ due)"),
    "country": Field(str, "CN", check=_country, doc="public holidays and make-up working days of this country "
                     "(\"\": weekends only)"),
    "holidays": Field(list, [], check=_dates, doc="extra days off (YYYY-MM-DD)"),
    "working_days": Field(list, [], check=_dates, doc="extra working days (YYYY-MM-DD), over any day off"),
    "default_team": Field(str, "", doc="team whose lead hears of a case nobody owns (\"\": the first agent's)"),
    "overdue_every": Field((int, float), 60, check=positive, doc="seconds between overdue checks (engine time)"),
    "keep_days": Field(int, 365, check=positive, doc="days a closed case keeps the customer's number and notes"),
    "repeat_days": Field(int, 7, check=_days, doc="the customer's call this many days after a case was resolved is "
                         "a repeat contact (first-contact resolution)"),
}  # fmt: skip


@dataclass(frozen=True)
class CasesSettings:
    complaint_days: int
    follow_up_days: int
    after_sale_days: int
    low_survey_days: int
    survey_below: int
    after_sale_codes: frozenset[str]
    follow_up_goal: float
    calendar: WorkCalendar
    default_team: str
    overdue_every: float
    keep_days: int
    repeat_days: int

    @classmethod
    def of(cls, values: dict[str, Any], timezone: str) -> CasesSettings:
        v = {k: values.get(k, f.default) for k, f in CASES_FIELDS.items()}
        cal = WorkCalendar(timezone, str(v["country"]), parse_dates(v["holidays"]), parse_dates(v["working_days"]))
        return cls(int(v["complaint_days"]), int(v["follow_up_days"]), int(v["after_sale_days"]),
                   int(v["low_survey_days"]), int(v["survey_below"]), frozenset(v["after_sale_codes"]),
                   float(v["follow_up_goal"]), cal, str(v["default_team"]), float(v["overdue_every"]),
                   int(v["keep_days"]), int(v["repeat_days"]))  # fmt: skip

    def days_for(self, kind: str, source: str) -> int:
        if kind == "complaint":
            return self.complaint_days
        if kind == "low_survey":
            return self.low_survey_days
        return self.after_sale_days if source == "after_sale" else self.follow_up_days
