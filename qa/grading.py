"""Grading rules (pure): who may grade, and how a grade is added or corrected; never changed in place.

A grader grades a call on a form once (version 1). A change is a correction: a new version naming the grade it
corrects (the grader's latest) and why; the old versions stay, so the history shows what was said and when.
Only the grader corrects its own grade. An agent grades no calls; the policy's view ``recording`` says who may
hear, and so grade, a call at all.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from engine.policy import Actor, Role

MIN_REASON = 3  # characters: "typo" passes, "" and "x" do not


class Refused(ValueError):
    """Why a grade was not taken, in words the page shows as they are: the person may not do this."""


class Invalid(Refused):
    """The grade itself is wrong (a question unanswered, an answer off its scale): the person may fix it."""


def may_grade(actor: Actor) -> str | None:
    if actor.role is Role.AGENT:
        return "an agent may not grade calls"
    return None


def next_version(actor: Actor, grades: Sequence[Mapping[str, Any]], form: str, supersedes: str,
                 reason: str) -> int:  # fmt: skip
    """The version the new grade gets. ``grades``: every grade of the call (any form, any grader)."""
    mine = [g for g in grades if g["form"] == form and g["grader"] == actor.id]
    latest = max(mine, key=lambda g: g["version"], default=None)
    if not supersedes:
        if latest is not None:
            raise Refused(f"{actor.id} graded this call on form {form!r} already (version {latest['version']}): a "
                          f"change is a correction, with its reason")  # fmt: skip
        return 1
    target = next((g for g in grades if g["id"] == supersedes), None)
    if target is None or target["form"] != form:
        raise Invalid(f"no grade {supersedes!r} of this call on form {form!r}")
    if target["grader"] != actor.id:
        raise Refused(f"only {target['grader']} may correct their grade")
    assert latest is not None  # the target is one of ``mine``
    if target["version"] != latest["version"]:
        raise Refused(f"grade {supersedes} was corrected already: correct version {latest['version']}")
    if len(reason.strip()) < MIN_REASON:
        raise Invalid("a correction needs its reason")
    return int(latest["version"]) + 1


def visible(actor: Actor, grades: Sequence[Mapping[str, Any]], blind: bool) -> list[Mapping[str, Any]]:
    """The grades ``actor`` may see: all, except on a call scored blind (calibration), where a grader sees the
    others' only once it has graded the call itself; a manager always sees them all."""
    if not blind or actor.role is Role.MANAGER or any(g["grader"] == actor.id for g in grades):
        return list(grades)
    return []
