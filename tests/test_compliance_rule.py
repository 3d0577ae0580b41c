"""Which abandonment rule a campaign follows: a UK campaign's window is measured from the answer (+ 0.3 s), a
US one from the end of the greeting; the ledger and ``hotline campaign report`` say which rule applied."""

import asyncio
import json
import subprocess
import sys
from pathlib import Path

import pytest

import dialer.runner as dialer_runner
from dialer.baselines import FixedRatio
from dialer.compliance import rule_for
from dialer.report import campaign_report
from engine.model.facts import Fact
from sim.day import run_day
from sim.traffic import InboundModel

ROOT = Path(__file__).resolve().parent.parent
EPS = 0.005  # facts are rounded to the millisecond


def test_each_profile_measures_its_window_from_its_own_moment():
    answered, greeting_end = 100.0, 101.5
    assert rule_for("uk").deadline(answered, greeting_end) == pytest.approx(100.0 + 0.3 + 2.0 - 0.3)
    assert rule_for("us").deadline(answered, greeting_end) == pytest.approx(101.5 + 2.0 - 0.3)
    custom = rule_for("custom")
    assert custom.name == "custom" and custom.deadline(answered, greeting_end) == pytest.approx(103.2)
    assert rule_for("uk").pacer_args == {"margin": 0.006, "window": 1.8}  # PaceBench's UK pacer (S5)


def _flooded_day(monkeypatch, profile: str) -> list[Fact]:
    """A quarter hour in virtual time where a reckless fixed ratio leaves people with no agent: abandons."""
    monkeypatch.setattr(dialer_runner, "ForecastPacer", lambda **kw: FixedRatio(4.0))
    facts: list[Fact] = []
    asyncio.run(run_day(hours=0.25, seed=5, outbound_agents=4, facts_out=facts, profile=profile,
                        inbound=InboundModel(calls_per_day=0.001)))  # fmt: skip
    return facts


def _by_call(facts: list[Fact]) -> dict[str, dict[str, Fact]]:
    out: dict[str, dict[str, Fact]] = {}
    for f in facts:
        if f.kind.startswith("outbound."):
            out.setdefault(f.call_id, {})[f.kind] = f
    return out


def test_in_virtual_time_a_uk_deadline_runs_from_the_answer_and_a_us_one_from_the_greeting(monkeypatch, caplog):
    late_for_us = 0
    for profile in ("us", "uk"):
        caplog.clear()
        facts = _flooded_day(monkeypatch, profile)
        warned = [r for r in caplog.records if "UK rule with AMD on" in r.getMessage()]
        assert len(warned) == (profile == "uk"), "a UK campaign with AMD on is warned about, once"
        calls = _by_call(facts)
        assert all(k["outbound.placed"].data["rule"] == profile for k in calls.values() if "outbound.placed" in k)
        assert campaign_report(facts)["renewals"]["rule"] == profile
        abandons = 0
        for k in calls.values():
            if "outbound.verdict" not in k:
                continue
            v = k["outbound.verdict"].data
            assert v["rule"] == profile
            start = v["answered_at"] + 0.3 if profile == "uk" else v["greeting_end"]
            assert v["deadline"] == pytest.approx(start + 2.0 - 0.3, abs=EPS)
            if "outbound.abandon" in k:
                abandons += 1
                a = k["outbound.abandon"].data
                assert a["rule"] == profile
                verdict_at = k["outbound.verdict"].at
                # the message starts at the deadline, or at once when the verdict itself came later
                assert a["message_at"] == pytest.approx(max(v["deadline"], verdict_at), abs=EPS)
                if profile == "uk":
                    assert a["message_at"] <= max(v["answered_at"] + 2.0, verdict_at) + EPS
                    late_for_us += a["message_at"] < v["greeting_end"] + 1.7 - 0.1
        assert abandons > 5, f"{profile}: the flood left people with no agent"
    assert late_for_us > 0, "some UK messages came before a US deadline would: the window runs from the answer"


def _fact(kind: str, campaign: str, call: str, **data) -> Fact:  # type: ignore[no-untyped-def]
    return Fact(kind, 1_800_000_000.0, call, call, f"{kind}:{call}", {"campaign": campaign, **data})


def test_campaign_report_says_which_rule_applied(tmp_path):
    from engine.store.store import Store, migrate

    db = tmp_path / "c.db"
    text = (ROOT / "examples" / "lab-site.toml").read_text()
    text = text.replace('url = "sqlite+aiosqlite:///hotline-lab.db"', f'url = "sqlite+aiosqlite:///{db}"')
    site = tmp_path / "site.toml"
    site.write_text(text + '\n[[campaigns]]\nname = "london"\nagents = ["1002"]\nprofile = "uk"\n')
    url = f"sqlite+aiosqlite:///{db}"
    facts = [_fact("outbound.placed", "london", "dl-london-1-1", rule="uk"),
             _fact("outbound.placed", "old", "dl-old-1-1"),  # recorded before the rule was: the US window
             _fact("outbound.placed", "moved", "dl-moved-1-1", rule="us"),
             _fact("outbound.placed", "moved", "dl-moved-2-1", rule="uk")]  # fmt: skip

    async def write() -> None:
        store = Store(url)
        await store.append(facts, 1_800_000_000.0)
        await store.close()

    migrate(url)
    asyncio.run(write())
    r = subprocess.run([sys.executable, "-m", "engine.cli", "campaign", "report", "--site", str(site), "--json"],
                       capture_output=True, text=True, cwd=ROOT, timeout=120)  # fmt: skip
    assert r.returncode == 0, r.stderr
    rep = json.loads(r.stdout)
    assert {n: rep[n]["rule"] for n in ("london", "old", "moved")} == {"london": "uk", "old": "us", "moved": "uk+us"}
    assert rep["london"]["dials"] == 1 and "abandon_rate_us" in rep["london"], "the other keys stay"
    r = subprocess.run([sys.executable, "-m", "engine.cli", "campaign", "report", "london", "--site", str(site)],
                       capture_output=True, text=True, cwd=ROOT, timeout=120)  # fmt: skip
    assert r.returncode == 0 and "  rule uk; abandon rate US" in r.stdout, r.stdout + r.stderr
