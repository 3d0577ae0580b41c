"""The abandonment rule a campaign follows (its ``profile``), as timings the dial path and the pacer use.

docs/compliance.md: under the US rule (FTC/FCC) a person must reach an agent within 2 s of the end of their greeting,
the rate counted over 30 days; under the UK rule (Ofcom) a live person must be connected or hear the
information message by answer + 0.3 s + 2 s, the rate counted per 24 h with AMD false positives added.
A ``custom`` profile keeps the US timing (its own retry rules live in the campaign's ``retries``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

WINDOW = 2.0  # s a live person may wait, under both rules
BRIDGE_MARGIN = 0.3  # s a bridge takes to carry audio: the agent must be found this much earlier
AFTER_GREETING = 0.8  # s of silence AMD waits after a greeting before it says HUMAN (amd.conf default)
UK_AFTER_ANSWER = 0.3  # s the UK rule allows from the answer before its 2 s start


@dataclass(frozen=True)
class Rule:
    name: str  # what the ledger and the campaign report say: "us", "uk" or "custom"
    from_answer: bool  # the window starts at the answer (UK), else at the end of the greeting (US)
    # the forecasting pacer's settings for this rule (PaceBench's S5 choice for the UK: the rate is judged
    # per day, so a wider margin; the wait allowed is the UK window less the bridge)
    pacer_args: dict[str, Any] = field(default_factory=dict)

    def start(self, answered: float, greeting_end: float) -> float:
        """When the window's 2 s start counting."""
        return answered + UK_AFTER_ANSWER if self.from_answer else greeting_end

    def deadline(self, answered: float, greeting_end: float) -> float:
        """The last moment an agent may be found for the live call (the bridge's time kept back)."""
        return self.start(answered, greeting_end) + WINDOW - BRIDGE_MARGIN


US = Rule("us", from_answer=False)
UK = Rule("uk", from_answer=True, pacer_args={"margin": 0.006, "window": 1.8})


def rule_for(profile: str) -> Rule:
    if profile == "uk":
        return UK
    return Rule(profile, from_answer=False) if profile != "us" else US
