"""QA as a service: grading (the checks of ``qa.grading`` and ``qa.forms`` around the grade store, each grade also
a ``qa.graded`` fact: who, when, which version, the score, so the ledger keeps the history too) and the daily
sample (``qa.sampling`` over the day's recordings, their calls' facts and the grades)."""

from __future__ import annotations

import datetime as dt
import math
import uuid
from collections.abc import Awaitable, Callable
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.exc import IntegrityError

from engine.model.facts import Fact, fact_key
from engine.policy import Actor, Policy, Role
from qa.forms import Form, score
from qa.grading import Invalid, Refused, may_grade, next_version, visible
from qa.sampling import CallFacts, Pick, daily_sample
from qa.settings import QaSettings
from qa.store import GradeStore

MAX_COMMENT = 5000
MAX_MARKS = 100


class Grading:
    def __init__(self, forms: list[Form], store: GradeStore, policy: Callable[[], Policy],
                 record: Callable[[list[Fact]], Awaitable[None]], now: Callable[[], float]) -> None:  # fmt: skip
        self.forms = {f.name: f for f in forms}
        self.store = store
        self.policy = policy
        self.record = record
        self.now = now

    def _may_hear(self, actor: Actor, row: dict[str, Any]) -> None:
        why = self.policy().view_refusal(actor, "recording", row["agent"])
        if why:
            raise Refused(why)

    async def view(self, actor: Actor, row: dict[str, Any]) -> dict[str, Any]:
        """What the replay page shows of the call's grading: the forms, the grades this actor may see."""
        all_grades = await self.store.of(row["id"])
        blind = await self.store.calibration(row["id"]) is not None
        return {"forms": [f.as_dict() for f in self.forms.values()], "blind": blind,
                "may_grade": may_grade(actor) is None,
                "may_calibrate": actor.role in (Role.QA, Role.MANAGER) and not blind,
                "grades": [_public(g) for g in visible(actor, all_grades, blind)]}  # fmt: skip

    async def submit(self, actor: Actor, row: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
        """Check and store a grade (or a correction); Refused says why not."""
        self._may_hear(actor, row)
        why = may_grade(actor)
        if why:
            raise Refused(why)
        form = self.forms.get(str(body.get("form", "")))
        if form is None:
            raise Invalid(f"no form {body.get('form')!r} (the site's: {', '.join(self.forms) or 'none'})")
        answers = body.get("answers")
        if not isinstance(answers, dict):
            raise Invalid("the answers must be an object: question id -> answer")
        try:
            scored = score(form, {str(k): str(v) for k, v in answers.items()})
        except ValueError as exc:
            raise Invalid(str(exc)) from None
        comments = str(body.get("comments") or "")
        if len(comments) > MAX_COMMENT:
            raise Invalid(f"the comments are over {MAX_COMMENT} characters")
        marks = _marks(body.get("marks") or [], float(row["seconds"]))
        grades = await self.store.of(row["id"])
        supersedes, reason = str(body.get("supersedes") or ""), str(body.get("reason") or "")
        version = next_version(actor, grades, form.name, supersedes, reason)
        at = self.now()
        grade = {"id": uuid.uuid4().hex, "recording": row["id"], "call_id": row["call_id"], "agent": row["agent"],
                 "form": form.name, "form_hash": form.hash, "grader": actor.id, "grader_role": actor.role.value,
                 "version": version, "supersedes": supersedes or None, "reason": reason.strip(),
                 "answers": dict(answers), "comments": comments, "marks": marks, "score": scored.score,
                 "critical_failed": list(scored.critical_failed),
                 "blind": await self.store.calibration(row["id"]) is not None, "created_at": at}  # fmt: skip
        try:
            await self.store.add(grade)
        except IntegrityError:  # the same grade sent twice at once (a double click): the first one stands
            raise Invalid(f"this call's version {version} on form {form.name!r} was just submitted: reload the "
                          f"page") from None  # fmt: skip
        data = {k: grade[k] for k in ("id", "recording", "agent", "form", "form_hash", "grader", "version",
                                      "supersedes", "reason", "score", "critical_failed", "blind")}  # fmt: skip
        await self.record([Fact("qa.graded", at, row["call_id"], "", fact_key("qa.graded", grade["id"]), data)])
        return _public(grade)

    async def calibrate(self, actor: Actor, row: dict[str, Any], form: str) -> bool:
        """Put the call up for blind scoring by several graders (QA staff and managers)."""
        self._may_hear(actor, row)
        if actor.role not in (Role.QA, Role.MANAGER):
            raise Refused("only QA staff and managers put calls up for calibration")
        if form not in self.forms:
            raise Invalid(f"no form {form!r} (the site's: {', '.join(self.forms) or 'none'})")
        if await self.store.of(row["id"]):
            raise Refused("this call has grades already: a calibration is scored blind from the start")
        at = self.now()
        added = await self.store.calibrate(row["id"], form, actor.id, at)
        if added:
            await self.record([Fact("qa.calibration", at, row["call_id"], "", fact_key("qa.calibration", row["id"]),
                                    {"recording": row["id"], "form": form, "by": actor.id})])  # fmt: skip
        return added


def _marks(raw: Any, seconds: float) -> list[dict[str, Any]]:
    """Time-coded comments: each at a moment of the recording, with its text."""
    if not isinstance(raw, list) or len(raw) > MAX_MARKS:
        raise Invalid(f"the time-coded comments must be a list of at most {MAX_MARKS}")
    out = []
    for m in raw:
        try:
            at, text = float(m["at"]), str(m["text"]).strip()
        except (KeyError, TypeError, ValueError):
            raise Invalid("a time-coded comment needs its time (at, seconds) and its text") from None
        if not math.isfinite(at) or not 0 <= at <= seconds + 1 or not text or len(text) > 500:
            raise Invalid(f"a time-coded comment at {m.get('at')!r}: within the recording (0-{seconds:.0f} s), with "
                          f"a text of 1-500 characters")  # fmt: skip
        out.append({"at": round(at, 2), "text": text})
    return sorted(out, key=lambda m: m["at"])


def _public(g: dict[str, Any]) -> dict[str, Any]:
    return {k: g[k] for k in ("id", "form", "grader", "grader_role", "version", "supersedes", "reason", "answers",
                              "comments", "marks", "score", "critical_failed", "blind", "created_at")}  # fmt: skip


class Samples:
    """The daily sample from the store: the day's recordings, their calls' risks in the ledger, the grades."""

    def __init__(self, rows: Callable[..., Awaitable[list[dict[str, Any]]]],
                 facts: Callable[..., Awaitable[list[Fact]]], grades: GradeStore, hired: dict[str, str],
                 settings: QaSettings, timezone: str) -> None:  # fmt: skip
        self.rows = rows  # the recordings index's rows(since=, until=, purged=)
        self.facts = facts  # the ledger's facts(call_id, kinds, since)
        self.grades = grades
        self.hired = hired
        self.settings = settings
        self.tz = ZoneInfo(timezone)

    def day_of(self, at: float) -> dt.date:
        return dt.datetime.fromtimestamp(at, self.tz).date()

    async def of_day(self, day: dt.date) -> dict[str, list[Pick]]:
        start = dt.datetime.combine(day, dt.time(), self.tz).timestamp()
        rows = [r for r in await self.rows(since=start, until=start + 86400, purged=False)
                if r["kind"] in ("inbound", "outbound")]  # fmt: skip
        calls: dict[str, dict[str, Any]] = {}
        for f in await self.facts(None, ("ivr.transfer", "ivr.survey", "ivr.message"), start - 3600):
            c = calls.setdefault(f.call_id, {})
            if f.kind == "ivr.transfer":
                c["transferred"] = True
            elif f.kind == "ivr.survey" and f.data.get("score") is not None:
                c["survey"] = int(f.data["score"])
            elif f.kind == "ivr.message" and f.data.get("kind") == "complaint":
                c["complaint"] = True
        graded = {g["recording"] for g in await self.grades.since(start)}
        return daily_sample(day, rows, {k: CallFacts(**v) for k, v in calls.items()}, self.hired, graded,
                            self.settings)  # fmt: skip
