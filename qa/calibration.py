"""The calibration report (pure): on the calls several graders scored blind, how far each grader's answer to
each question lies from the others'.

An answer counts as its share of the question's weight (0-1, as the score counts it); a grader's deviation on a
question is its share less the mean of the other graders' shares on the same call, in points of 100 (n/a
answers left out). Per grader: the mean deviation per question over the calls (its sign says harsher or
softer than the others), the mean absolute deviation over everything, and the deviation of its total score.
Each grader's first version is the one compared: it was given blind, a correction after seeing the others'
grades was not.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from statistics import fmean
from typing import Any

from qa.forms import Form


def _share(form: Form, qid: str, answer: str) -> float | None:
    q = next((q for q in form.questions if q.id == qid), None)
    if q is None or answer not in q.scale:
        return None  # n/a, or a question the form no longer has
    return q.scale.index(answer) / (len(q.scale) - 1)


def blind(grades: Iterable[Mapping[str, Any]]) -> dict[tuple[str, str, str], Mapping[str, Any]]:
    """(recording, form, grader) -> that grader's first version: the one given blind. A correction comes after
    the grader has seen the others' grades, so it is no measure of calibration."""
    out: dict[tuple[str, str, str], Mapping[str, Any]] = {}
    for g in grades:
        key = (g["recording"], g["form"], g["grader"])
        if key not in out or g["version"] < out[key]["version"]:
            out[key] = g
    return out


def report(calls: Iterable[Mapping[str, Any]], grades: Iterable[Mapping[str, Any]],
           forms: Mapping[str, Form]) -> dict[str, Any]:  # fmt: skip
    """``calls``: the calibrations (recording, form); ``grades``: every grade of them."""
    first = blind(grades)
    per_call: list[dict[str, Any]] = []
    per_grader: dict[str, dict[str, list[float]]] = {}
    score_dev: dict[str, list[float]] = {}
    for c in calls:
        form = forms.get(c["form"])
        mine = {grader: g for (rec, form, grader), g in first.items() if rec == c["recording"] and form == c["form"]}
        if form is None or len(mine) < 2:
            per_call.append({"recording": c["recording"], "form": c["form"], "graders": sorted(mine), "questions": {},
                             "note": "fewer than two graders" if form else "the form is gone"})  # fmt: skip
            continue
        questions: dict[str, dict[str, float | None]] = {}
        for q in form.questions:
            shares = {gr: _share(form, q.id, str(g["answers"].get(q.id, ""))) for gr, g in mine.items()}
            devs: dict[str, float | None] = {}
            for gr, s in shares.items():
                others = [v for o, v in shares.items() if o != gr and v is not None]
                devs[gr] = None if s is None or not others else round(100 * (s - fmean(others)), 1)
                if devs[gr] is not None:
                    per_grader.setdefault(gr, {}).setdefault(q.id, []).append(devs[gr])  # type: ignore[arg-type]
            questions[q.id] = devs
        for gr, g in mine.items():
            others = [o["score"] for og, o in mine.items() if og != gr]
            score_dev.setdefault(gr, []).append(round(g["score"] - fmean(others), 1))
        per_call.append({"recording": c["recording"], "form": c["form"], "graders": sorted(mine),
                         "scores": {gr: g["score"] for gr, g in sorted(mine.items())}, "questions": questions})
    graders = {}
    for gr, qs in sorted(per_grader.items()):
        every = [d for ds in qs.values() for d in ds]
        graders[gr] = {"per_question": {q: round(fmean(ds), 1) for q, ds in qs.items()},
                       "mean_abs_deviation": round(fmean(abs(d) for d in every), 1) if every else None,
                       "score_deviation": round(fmean(score_dev.get(gr, [0.0])), 1),
                       "calls": len(score_dev.get(gr, []))}  # fmt: skip
    return {"calls": per_call, "graders": graders}
