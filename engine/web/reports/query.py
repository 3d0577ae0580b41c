"""What a report page asks for: its query string read into a ``reports.services.Query``, with the defaults a person
gets where the policy would refuse the report unnarrowed (a team lead: its first team; an agent: itself), or the
field that is wrong. Pure: today's date and the policy's answer are passed in."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from urllib.parse import urlencode

from engine.cli.report import days
from engine.policy import Actor, Role
from reports.services import Query

FIELDS = ("from", "to", "interval", "team", "agent", "service")
# the pages count a report on the engine's own event loop, straight from the ledger: a longer range is for
# `hotline report`, which runs on its own
MAX_DAYS = 31
Refusal = Callable[[str, str, str], str | None]  # (report, team, agent) -> the policy's reason, or None


class BadField(ValueError):
    """A field of the form that cannot be read: ``field`` names it, the message says why in one line."""

    def __init__(self, field: str, text: str) -> None:
        super().__init__(text)
        self.field = field


def field_of(problem: str) -> str:
    """The form field a reports.services.QueryError names ("--team x: no such team ..." -> team; "" if none)."""
    head = problem.split(" ", 1)[0].rstrip(":").removeprefix("--")
    return head if head in FIELDS else ""


def _date(params: Mapping[str, str], field: str) -> dt.date | None:
    value = params.get(field, "").strip()
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise BadField(field, f"{field} {value!r}: not a date (YYYY-MM-DD, site time)") from None


def narrowed(name: str, actor: Actor, team: str | None, agent: str | None,
             refusal: Refusal) -> tuple[str | None, str | None]:  # fmt: skip
    """The team and agent a report is read for: as asked, or, when nothing was asked and the policy refuses the
    whole report, the asker's own part of it (a team lead's first team, an agent itself)."""
    if team or agent or refusal(name, "", "") is None:
        return team, agent
    if actor.role is Role.AGENT:
        return None, actor.id
    if actor.teams:
        return min(actor.teams), None
    return team, agent


def query_of(name: str, params: Mapping[str, str], today: dt.date, actor: Actor, refusal: Refusal) -> Query:
    """Empty fields are unset (the form sends them so); days default as the command line's (`hotline report`)."""
    first, last = days(today, _date(params, "from"), _date(params, "to"))
    if (last - first).days >= MAX_DAYS:
        raise BadField("to", f"to {last}: at most {MAX_DAYS} days from {first} on a page (`hotline report` reads "
                             "any range)")  # fmt: skip
    team, agent = narrowed(name, actor, params.get("team", "").strip() or None,
                           params.get("agent", "").strip() or None, refusal)  # fmt: skip
    return Query(name, first, last, params.get("interval", "").strip(), team, agent,
                 params.get("service", "").strip() or None)  # fmt: skip


def query_string(q: Query) -> str:
    """The query as the page's links (downloads, the plot) repeat it: every field set, in FIELDS order."""
    values = {"from": q.first.isoformat(), "to": q.last.isoformat(), "interval": q.interval, "team": q.team,
              "agent": q.agent, "service": q.service}  # fmt: skip
    return urlencode([(k, v) for k in FIELDS if (v := values[k])])
