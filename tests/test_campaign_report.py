"""The campaign report judges each connect by its own rule's window, estimates AMD's hidden people from QA
labels, and gives each rate over the window its rule limits."""

from __future__ import annotations

from dialer.report import campaign_report
from engine.model.facts import Fact

DAY = 86400.0


def _dial(i: int, at: float, rule: str, answered: float, greeting_end: float, connect: float | None,
          campaign: str = "c") -> list[Fact]:  # fmt: skip
    d = f"d{i}"
    out = [Fact("outbound.placed", at, d, d, f"p{d}", {"campaign": campaign, "rule": rule}),
           Fact("outbound.verdict", answered, d, d, f"v{d}", {"campaign": campaign, "rule": rule, "amd": "HUMAN",
                                                            "answered_at": answered, "greeting_end": greeting_end})]
    if connect is None:
        out.append(Fact("outbound.abandon", greeting_end + 2, d, d, f"a{d}", {"campaign": campaign}))
    else:
        out.append(Fact("outbound.connect", connect, d, d, f"c{d}", {"campaign": campaign, "at": connect,
                                                                    "after_greeting": connect - greeting_end}))
    return out


def test_a_connect_is_late_by_its_own_rules_window():
    facts = []
    # UK: 2.2 s after the answer is in time, though 2.1 s after the greeting's end (late by the US reading)
    facts += _dial(1, 0, "uk", answered=10.0, greeting_end=10.1, connect=12.2)
    # UK: 1.5 s after a long greeting's end but 2.6 s after the answer: late under the UK rule
    facts += _dial(2, 0, "uk", answered=20.0, greeting_end=21.1, connect=22.6)
    # US: 2.2 s after the greeting's end is late; 1.9 s is not
    facts += _dial(3, 0, "us", answered=30.0, greeting_end=31.0, connect=33.2, campaign="u")
    facts += _dial(4, 0, "us", answered=40.0, greeting_end=41.0, connect=42.9, campaign="u")
    rep = campaign_report(facts)
    assert rep["c"]["late_connects"] == 1 and rep["c"]["rule"] == "uk"
    assert rep["u"]["late_connects"] == 1 and rep["u"]["rule"] == "us"


def test_qa_labels_move_the_false_positive_share_from_the_prior():
    facts = []
    for i in range(10):
        facts.append(Fact("outbound.machine", i, f"m{i}", f"m{i}", f"m{i}", {"campaign": "c"}))
    facts += _dial(100, 0, "uk", 10.0, 10.5, 11.0)
    assert campaign_report(facts)["c"]["fp_share"] == 0.01  # no labels: AMD's nominal 1 %
    # 100 labels of which 20 were people: (20 + 1) / (100 + 100)
    for i in range(100):
        facts.append(Fact("outbound.qa", 50 + i, f"m{i}", f"m{i}", f"q{i}", {"campaign": "c", "machine": i >= 20}))
    rep = campaign_report(facts)["c"]
    assert rep["qa_labels"] == 100 and rep["fp_share"] == 0.105
    # UK: (0 abandoned + 10 machines x 0.105) / (1 live + 1.05)
    assert rep["abandon_rate_uk"] == round(1.05 / 2.05, 4)


def test_each_rate_over_its_own_window_before_the_newest_fact():
    facts = []
    # two days ago: one abandon and one connect; in the last day: three connects
    facts += _dial(1, 0, "us", 100.0, 101.0, None)
    facts += _dial(2, 0, "us", 200.0, 201.0, 202.0)
    for i in range(3):
        t = 2 * DAY + 100 * i
        facts += _dial(10 + i, t, "us", t + 10, t + 11, t + 12)
    rep = campaign_report(facts)["c"]
    assert rep["abandon_rate_us"] == 0.2  # 1 of 5 live answers in all
    assert rep["abandon_rate_us_30d"] == 0.2  # all within 30 days
    assert rep["abandon_rate_uk_24h"] == round((0 + 0) / 3, 4)  # the abandon is older than 24 h
