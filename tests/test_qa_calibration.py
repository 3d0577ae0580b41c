"""The calibration report: each grader's deviation from the others per question, on calls scored blind; and
`hotline qa calibration --json` on a store where three graders scored a call."""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from engine.config import load_site
from engine.policy import Actor, Policy, Role
from engine.store.store import Store, migrate
from qa.calibration import report
from qa.forms import load_form
from qa.services import Grading
from qa.store import GradeStore

ROOT = Path(__file__).resolve().parent.parent
FORM = ROOT / "examples" / "forms" / "inbound.toml"
BEST = {"greet": "yes", "verify": "yes", "listen": "excellent", "solution": "right", "hold": "n/a", "wrap": "yes"}


def grade(grader: str, answers: dict[str, str], score: float, version: int = 1, rec: str = "r1") -> dict:
    return {"recording": rec, "grader": grader, "form": "inbound", "version": version, "answers": answers,
            "score": score}  # fmt: skip


def test_each_graders_deviation_per_question_is_against_the_others_mean():
    form = load_form(FORM)
    grades = [
        grade("a", BEST, 100.0),
        grade("b", {**BEST, "listen": "good"}, 90.0),  # 2/3: 33.3 points under a and c
        grade("c", BEST, 100.0, version=1),
        grade("c", {**BEST, "listen": "poor"}, 50.0, version=2),  # corrected after seeing the others: not compared
    ]
    got = report([{"recording": "r1", "form": "inbound"}], grades, {"inbound": form})
    listen = got["calls"][0]["questions"]["listen"]
    assert listen == {"a": pytest.approx(16.7, abs=0.05), "b": pytest.approx(-33.3, abs=0.05),
                      "c": pytest.approx(16.7, abs=0.05)}  # fmt: skip
    assert got["calls"][0]["questions"]["hold"] == {"a": None, "b": None, "c": None}  # n/a by all
    assert got["graders"]["b"]["per_question"]["listen"] == pytest.approx(-33.3, abs=0.05)
    assert got["graders"]["b"]["score_deviation"] == -10.0 and got["graders"]["a"]["score_deviation"] == 5.0
    # b deviates on one question of five scored: its mean absolute deviation is 33.3 / 5
    assert got["graders"]["b"]["mean_abs_deviation"] == pytest.approx(33.3 / 5, abs=0.05)


async def _three_graders(db: Path) -> None:
    url = f"sqlite+aiosqlite:///{db}"
    await asyncio.to_thread(migrate, url)
    st = Store(url)
    try:
        grading = Grading([load_form(FORM)], GradeStore(st.engine), lambda: Policy(lambda a: frozenset()),
                          _record, lambda: 1000.0)  # fmt: skip
        row = {"id": "r1", "call_id": "r1", "agent": "1001", "seconds": 60.0}
        await grading.calibrate(Actor("q1", Role.QA), row, "inbound")
        for name, answers in (("q1", BEST), ("q2", {**BEST, "wrap": "no"}), ("boss", BEST)):
            role = Role.MANAGER if name == "boss" else Role.QA
            await grading.submit(Actor(name, role), row, {"form": "inbound", "answers": answers})
    finally:
        await st.close()


async def _record(_facts: list) -> None:
    return None


def test_the_calibration_command_reports_the_graders(tmp_path):
    shutil.copy(FORM, tmp_path / "inbound.toml")
    site = tmp_path / "site.toml"
    site.write_text('[site]\nname = "t"\n[asterisk]\nlab = true\n[hotline]\nnumber = "400"\nagent = "1001"\n'
                    '[store]\nurl = "sqlite+aiosqlite:///cal.db"\n[qa]\nforms = ["inbound.toml"]\n'
                    '[[agents]]\nid = "1001"\n')  # fmt: skip
    load_site(site)
    asyncio.run(_three_graders(tmp_path / "cal.db"))
    r = subprocess.run([sys.executable, "-m", "engine.cli", "qa", "calibration", "--site", str(site), "--json"],
                       cwd=ROOT, capture_output=True, text=True, timeout=60)  # fmt: skip
    assert r.returncode == 0, r.stderr
    got = json.loads(r.stdout)
    assert sorted(got["graders"]) == ["boss", "q1", "q2"]
    assert got["graders"]["q2"]["per_question"]["wrap"] == -100.0  # "no" where both others said "yes"
    assert got["calls"][0]["scores"]["q2"] < got["calls"][0]["scores"]["q1"] == 100.0
