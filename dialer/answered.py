"""Who picked up an answered dial while AMD still listens: a live call (a person, or a machine AMD lets through) or
a machine. The engine hears the answer (the channel goes up) seconds before the verdict; people answer sooner
than machines (a few rings against a message after several) and AMD names a person sooner than a machine, so
when the far end answered and how long AMD has listened since tell the two apart well before the verdict.

Learned per outcome from resolved dials: the seconds from the dial to the answer (``pick``) and from the answer to
the verdict (``lag``), starting from prior points the pacer gives. Pure: no clock, no I/O.
"""

from __future__ import annotations

import bisect
from collections import deque

KINDS = ("live", "machine")
BAND = 1.5  # s each side of an answer time counted as near it (the density's kernel)
# samples' worth added to each count, so that an answer time or a wait no sample has come near yet is unlikely,
# not impossible (the priors are 10 points: a person picking up after 18 s would otherwise be surely a machine)
PSEUDO = 0.05


class AnswerModel:
    def __init__(self, pick: dict[str, list[float]], lag: dict[str, list[float]], window: int = 300) -> None:
        self.pick = {k: deque(pick[k], maxlen=window) for k in KINDS}
        self.lag = {k: deque(lag[k], maxlen=window) for k in KINDS}
        self._sorted: dict[str, tuple[list[float], list[float]]] = {}
        self.refit()

    def add(self, outcome: str, pick: float, lag: float) -> None:
        if outcome in KINDS and pick >= 0 and lag > 0:  # (no lag: no AMD listened, nothing to learn)
            self.pick[outcome].append(pick)
            self.lag[outcome].append(lag)

    def refit(self) -> None:
        self._sorted = {k: (sorted(self.pick[k]), sorted(self.lag[k])) for k in KINDS}

    def _weight(self, kind: str, pick: float, listened: float) -> float:
        picks, lags = self._sorted[kind]
        near = bisect.bisect_right(picks, pick + BAND) - bisect.bisect_left(picks, pick - BAND)
        still = len(lags) - bisect.bisect_right(lags, listened)  # verdicts not yet due after this long
        return (near + PSEUDO) / len(picks) * (still + PSEUDO) / (len(lags) + PSEUDO)

    def p_live(self, live_share: float, machine_share: float, pick: float, listened: float) -> float | None:
        """P(live | answered ``pick`` s after the dial, no verdict ``listened`` s later), or None without shares
        (the caller keeps its own forecast)."""
        w_live = live_share * self._weight("live", pick, listened)
        w_machine = machine_share * self._weight("machine", pick, listened)
        total = w_live + w_machine
        return w_live / total if total > 1e-12 else None
