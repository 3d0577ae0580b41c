"""Scoring forms and grades: a form file checked with file and line, the score answers earn (weights, n/a,
a critical question), a grade taken once per grader and corrected only as a new version with its reason, and the
database refusing any change to a grade, whoever asks."""

from __future__ import annotations

import asyncio
import shutil
import sqlite3
from pathlib import Path

import pytest

from engine.config import ConfigError, load_site
from engine.model.facts import Fact
from engine.policy import Actor, Policy, Role
from engine.store.store import Store, migrate
from qa.forms import load_form, score
from qa.grading import Invalid, Refused
from qa.services import Grading
from qa.store import GradeStore

ROOT = Path(__file__).resolve().parent.parent
FORM = ROOT / "examples" / "forms" / "inbound.toml"
ALL_BEST = {"greet": "yes", "verify": "yes", "listen": "excellent", "solution": "right", "hold": "yes", "wrap": "yes"}


def test_the_example_form_scores_by_weight_and_na_leaves_the_score():
    form = load_form(FORM)
    assert score(form, ALL_BEST).score == 100.0
    # listen "good" (2 of 3) on weight 2, solution "partly" (1 of 2) on weight 3, hold n/a (weight 1 out)
    got = score(form, {**ALL_BEST, "listen": "good", "solution": "partly", "hold": "n/a"})
    assert got.score == pytest.approx(100 * (1 + 2 + 2 * 2 / 3 + 3 * 0.5 + 1) / 9, abs=0.01)
    assert got.points["hold"] is None


def test_a_critical_question_at_its_worst_zeroes_the_score_and_answers_are_checked():
    form = load_form(FORM)
    failed = score(form, {**ALL_BEST, "verify": "no"})
    assert failed.score == 0.0 and failed.critical_failed == ("verify",)
    with pytest.raises(ValueError, match="question 'wrap' is not answered"):
        score(form, {k: v for k, v in ALL_BEST.items() if k != "wrap"})
    with pytest.raises(ValueError, match="'maybe' is not an answer of question 'greet'"):
        score(form, {**ALL_BEST, "greet": "maybe"})
    with pytest.raises(ValueError, match="question 'greet' must be answered: n/a is not allowed"):
        score(form, {**ALL_BEST, "greet": "n/a"})


def test_a_bad_form_is_named_with_its_file_and_line(tmp_path):
    (tmp_path / "forms").mkdir()
    bad = tmp_path / "forms" / "bad.toml"
    bad.write_text('[form]\nname = "Bad Name"\n\n[[sections]]\nid = "a"\n\n[[questions]]\nid = "q1"\nsection = "zz"\n'
                   'text = "?"\nweight = 0\nscale = ["only"]\n')  # fmt: skip
    site = tmp_path / "site.toml"
    site.write_text('[asterisk]\nlab = true\n\n[qa]\nforms = ["forms/bad.toml", "forms/none.toml"]\n')
    with pytest.raises(ConfigError) as err:
        load_site(site)
    text = "\n".join(err.value.problems)
    assert f"{bad}:2: form.name: lower-case letters" in text
    assert f"{bad}:9: questions[0].section: no section 'zz' in [[sections]]" in text
    assert f"{bad}:11: questions[0].weight: must be greater than 0" in text
    assert f"{bad}:12: questions[0].scale: must list at least two answers, worst first" in text
    assert f"{site}:5: qa.forms: form file {tmp_path / 'forms' / 'none.toml'} not found" in text


MINIMAL = '[site]\nname = "t"\n[asterisk]\nlab = true\n[hotline]\nnumber = "400"\nagent = "1001"\n' \
          '[[agents]]\nid = "1001"\n'

ROW = {"id": "c1", "call_id": "c1", "agent": "1001", "seconds": 120.0}
POLICY = Policy(lambda agent: frozenset({"front"}))


async def _grading(tmp_path: Path) -> tuple[Grading, Store, list[Fact]]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'g.db'}"
    await asyncio.to_thread(migrate, url)
    st = Store(url)
    facts: list[Fact] = []

    async def record(fs: list[Fact]) -> None:
        facts.extend(fs)

    return Grading([load_form(FORM)], GradeStore(st.engine), lambda: POLICY, record, lambda: 1000.0), st, facts


async def _grades_are_versions(tmp_path: Path) -> None:
    grading, st, facts = await _grading(tmp_path)
    qa = Actor("qa1", Role.QA, via="web")
    try:
        first = await grading.submit(qa, ROW, {"form": "inbound", "answers": ALL_BEST, "comments": "fine",
                                               "marks": [{"at": 12.5, "text": "good greeting"}]})  # fmt: skip
        assert (first["version"], first["score"], first["marks"]) == (1, 100.0, [{"at": 12.5, "text": "good greeting"}])
        with pytest.raises(Refused, match="qa1 graded this call on form 'inbound' already .version 1.: a change is a "
                                          "correction, with its reason"):  # fmt: skip
            await grading.submit(qa, ROW, {"form": "inbound", "answers": {**ALL_BEST, "wrap": "no"}})
        with pytest.raises(Invalid, match="a correction needs its reason"):
            await grading.submit(qa, ROW, {"form": "inbound", "answers": ALL_BEST, "supersedes": first["id"]})
        second = await grading.submit(qa, ROW, {"form": "inbound", "answers": {**ALL_BEST, "wrap": "no"},
                                                "supersedes": first["id"], "reason": "missed the close"})  # fmt: skip
        assert (second["version"], second["supersedes"], second["reason"]) == (2, first["id"], "missed the close")
        with pytest.raises(Refused, match=f"grade {first['id']} was corrected already: correct version 2"):
            await grading.submit(qa, ROW, {"form": "inbound", "answers": ALL_BEST, "supersedes": first["id"],
                                           "reason": "again"})  # fmt: skip
        other = Actor("qa2", Role.QA, via="web")
        with pytest.raises(Refused, match="only qa1 may correct their grade"):
            await grading.submit(other, ROW, {"form": "inbound", "answers": ALL_BEST, "supersedes": second["id"],
                                              "reason": "I disagree"})  # fmt: skip
        with pytest.raises(Refused, match="an agent may not grade calls"):
            await grading.submit(Actor("1001", Role.AGENT), ROW, {"form": "inbound", "answers": ALL_BEST})
        with pytest.raises(Invalid, match="a time-coded comment at 500"):
            await grading.submit(other, ROW, {"form": "inbound", "answers": ALL_BEST,
                                              "marks": [{"at": 500, "text": "past the end"}]})  # fmt: skip
        history = await grading.store.of("c1")
        assert [(g["version"], g["score"]) for g in history] == [(1, 100.0), (2, second["score"])]
        assert [f.data["version"] for f in facts if f.kind == "qa.graded"] == [1, 2]
    finally:
        await st.close()
    # the database itself refuses to change or remove a grade
    db = sqlite3.connect(tmp_path / "g.db")
    for sql in ("UPDATE grades SET score = 100", "DELETE FROM grades"):
        with pytest.raises(sqlite3.IntegrityError, match="grades are immutable: a correction is a new version"):
            db.execute(sql)
    assert db.execute("select count(*) from grades").fetchone()[0] == 2


async def _twice(tmp_path: Path) -> None:
    grading, st, _ = await _grading(tmp_path)
    qa = Actor("qa1", Role.QA, via="web")
    try:
        body = {"form": "inbound", "answers": ALL_BEST}
        got = await asyncio.gather(grading.submit(qa, ROW, body), grading.submit(qa, ROW, body),
                                   return_exceptions=True)  # fmt: skip
        assert sum(isinstance(g, dict) for g in got) == 1, got
        assert all(isinstance(g, (dict, Refused)) for g in got), got  # refused in words, never a crash
        assert len(await grading.store.of("c1")) == 1
    finally:
        await st.close()


def test_a_grade_sent_twice_at_once_is_taken_once(tmp_path):
    asyncio.run(_twice(tmp_path))


def test_a_grade_is_taken_once_and_corrected_only_as_a_new_version(tmp_path):
    asyncio.run(_grades_are_versions(tmp_path))


async def _blind(tmp_path: Path) -> None:
    grading, st, _ = await _grading(tmp_path)
    a, b = Actor("qa1", Role.QA, via="web"), Actor("qa2", Role.QA, via="web")
    try:
        assert await grading.calibrate(a, ROW, "inbound") is True
        await grading.submit(a, ROW, {"form": "inbound", "answers": ALL_BEST})
        seen_by_b = await grading.view(b, ROW)
        assert seen_by_b["blind"] and seen_by_b["grades"] == [], "qa2 has not graded it: qa1's grade is hidden"
        await grading.submit(b, ROW, {"form": "inbound", "answers": {**ALL_BEST, "listen": "poor"}})
        assert len((await grading.view(b, ROW))["grades"]) == 2
        with pytest.raises(Refused, match="this call has grades already"):
            await grading.calibrate(a, {**ROW, "id": "c1"}, "inbound")
    finally:
        await st.close()


def test_a_calibration_call_is_scored_blind(tmp_path):
    asyncio.run(_blind(tmp_path))


def test_the_example_form_passes_hotline_check(tmp_path):
    shutil.copy(FORM, tmp_path / "inbound.toml")
    (tmp_path / "site.toml").write_text(MINIMAL + '\n[qa]\nforms = ["inbound.toml"]\n')
    site = load_site(tmp_path / "site.toml")
    assert [f.name for f in site.forms] == ["inbound"] and len(site.forms[0].questions) == 6
