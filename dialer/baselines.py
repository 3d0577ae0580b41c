"""Pacing baselines PaceBench runs beside ours: progressive 1:1, a fixed dial level, and VICIdial's adaptive
dialing (ADAPT_TAPERED, ADAPT_HARD_LIMIT, ADAPT_AVERAGE) re-implemented from its described behaviour
(docs/pacebench.md#baselines): placement every 2.5 s, level adapted every 15 s from ready agents minus waiting
calls, and a reaction to today's drop percentage. None of them models talk time or answer probability.
"""

from __future__ import annotations

from collections import deque

from dialer.pacing import Abandoned, Connected, Controls, DialResolved, Event, Floor

PLACEMENT_EVERY = 2.5


class Progressive:
    """One line per ready agent: never abandons (bar AMD errors), never keeps agents busy."""

    def __init__(self) -> None:
        self.name = "progressive"
        self.controls = Controls()

    def on(self, ev: Event, now: float) -> None:
        pass

    def dials(self, f: Floor) -> int:
        return max(0, f.idle - f.waiting - len(f.ringing))


class FixedRatio:
    """VICIdial's placement with a fixed dial level: goal = round(level x (ready + in-call agents)), less the
    campaign's calls still up (ringing, waiting for an agent, or connected)."""

    def __init__(self, level: float, name: str | None = None) -> None:
        self.level = level
        self.name = name or f"fixed {level:.1f}"
        self.controls = Controls()
        self._slot = -1

    def on(self, ev: Event, now: float) -> None:
        pass

    def _goal(self, f: Floor) -> int:
        return round(self.level * (f.idle + len(f.talking)))

    def dials(self, f: Floor) -> int:
        slot = int(f.now // PLACEMENT_EVERY)
        if slot == self._slot:
            return 0
        self._slot = slot
        # VICIdial counts every call of the campaign still up against the goal, the connected ones too
        return max(0, self._goal(f) - len(f.ringing) - f.waiting - len(f.talking))


class VicidialAdaptive(FixedRatio):
    """ADAPT_* dial methods. ``mode`` is 'tapered', 'hard_limit' or 'average'."""

    def __init__(self, mode: str, target: float = 0.03, max_level: float = 3.0, intensity: float = 0.0,
                 shift_start_hhmm: int = 900, latest_hhmm: int = 2100) -> None:  # fmt: skip
        super().__init__(1.0, f"vicidial {mode}")
        self.mode = mode
        self.target = target
        self.max_level = max_level
        self.intensity = intensity
        self.shift_start_hhmm = shift_start_hhmm
        self.latest_hhmm = latest_hhmm
        self.samples: deque[float] = deque(maxlen=15)
        self.last_adapt = 0.0
        self.drops = 0
        self.answered = 0
        self.minute: deque[tuple[float, bool]] = deque()  # (time, dropped) of calls answered live

    def on(self, ev: Event, now: float) -> None:
        if isinstance(ev, Connected):
            self.answered += 1
            self.minute.append((now, False))
        elif isinstance(ev, Abandoned):
            self.answered += 1
            self.drops += 1
            self.minute.append((now, True))
        elif isinstance(ev, DialResolved):
            pass

    def _hhmm(self, now: float) -> int:
        minutes = self.shift_start_hhmm // 100 * 60 + self.shift_start_hhmm % 100 + int(now // 60)
        return minutes // 60 * 100 + minutes % 60

    def dials(self, f: Floor) -> int:
        self.samples.append(f.idle - f.waiting)
        while self.minute and self.minute[0][0] < f.now - 60:
            self.minute.popleft()
        if f.now - self.last_adapt >= 15 and self.samples:
            self.last_adapt = f.now
            m = (sum(self.samples) / len(self.samples)) / max(1, f.logged_in)
            self.level = min(self.max_level, max(1.0, self.level * (1 + m * (1 + self.intensity))))
            if len(self.minute) > 20 and sum(1 for _, d in self.minute if d) > len(self.minute) / 2:
                self.level = max(1.0, self.level / 2)
            drop_pct = self.drops / self.answered if self.answered else 0.0
            if drop_pct > self.target:
                if self.mode == "hard_limit":
                    self.level = 1.0
                elif self.mode == "average":
                    self.level = max(1.0, self.level / 2)
                else:  # tapered: less and less room as the latest calling time nears
                    hhmm = self._hhmm(f.now)
                    room = (self.latest_hhmm - hhmm) / 1000
                    self.level = 1.0 if room <= 0 else max(1.0, self.level * min(1.0, room))
        return super().dials(f)
