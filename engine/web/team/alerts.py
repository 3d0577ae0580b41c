"""The team page's alerts (pure): which of the wallboard's thresholds are crossed now, raised and cleared.

``AlertBook`` holds the newest agent and service states it was given and the alerts that are on. Each call
(a snapshot, a change, a tick of the engine's clock) re-evaluates everything it holds, which is one team and
the services, and returns what changed as ``AlertEvent``s: an alert raised (new, or the same one at another
level), or cleared. Time is only ever the ``now`` it is handed, so a test drives it with plain numbers.

The thresholds are the ``[wallboard]`` section's, read as the wallboard's script reads them: an agent paused
longer than its reason's limit (``pause_limits``, else ``pause_over``), in wrap-up longer than
``wrapup_over``, a service whose longest wait is over ``waiting_over``, a service level under ``sl_goal``
(alert) or under ``sl_goal + sl_margin`` (at risk). A case past its due time (the cases service publishes it
once, as the ``case`` topic, with its team) is an alert until it is resolved.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

from engine.live.bus import Change
from engine.web.wallboard.settings import WallboardSettings

ALERT, WARN = "alert", "warn"


@dataclass(frozen=True)
class Alert:
    kind: str  # pause_over, wrapup_over, waiting_over, service_level, case_overdue
    topic: str  # agent, service, case
    key: str  # the agent's id, the service's name, the case's id
    level: str  # ALERT, or WARN (a service level at risk)
    limit: float  # the threshold crossed: seconds, a share for service_level, the due time (epoch) of a case
    value: float  # what crossed it when raised: seconds in state, longest wait, service level, seconds late
    reason: str = ""  # a pause's reason; a case's kind
    since: float = 0.0  # when the engine's clock saw it raised

    @property
    def id(self) -> str:
        return f"{self.kind}/{self.key}"

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "id": self.id}


@dataclass(frozen=True)
class AlertEvent:
    op: str  # raised, cleared
    alert: Alert


def shown_state(d: Mapping[str, Any]) -> str:
    """What an agent does, as the wallboard shows it: the ACD's state while not idle, else its campaign
    session's phase, else its status (idle when available)."""
    state = str(d.get("state", "idle"))
    if state != "idle":
        return state
    phase = str(d.get("phase") or "off")
    if phase != "off":
        return phase
    status = str(d.get("status", "logged_out"))
    return "idle" if status == "available" else status


def agent_alerts(key: str, d: Mapping[str, Any], now: float, th: WallboardSettings) -> list[Alert]:
    """An agent's crossed thresholds at ``now``. An agent with no ``since`` (a campaign session's) is not timed."""
    since = float(d.get("since") or 0)
    if not since:
        return []
    shown, in_state = shown_state(d), now - since
    if shown == "paused":
        reason = str(d.get("reason") or "")
        limit = th.pause_limits.get(reason, th.pause_over)
        if in_state > limit:
            return [Alert("pause_over", "agent", key, ALERT, limit, round(in_state, 3), reason)]
    elif shown in ("wrap_up", "wrap") and in_state > th.wrapup_over:
        return [Alert("wrapup_over", "agent", key, ALERT, th.wrapup_over, round(in_state, 3))]
    return []


def service_alerts(key: str, d: Mapping[str, Any], th: WallboardSettings) -> list[Alert]:
    """A service's crossed thresholds, from its published figures (the feed samples them every engine second)."""
    out = []
    longest = float(d.get("longest_wait") or 0)
    if longest > th.waiting_over:
        out.append(Alert("waiting_over", "service", key, ALERT, th.waiting_over, longest))
    sl = d.get("service_level")
    if sl is not None:  # None: no call counted yet today
        if sl < th.sl_goal:
            out.append(Alert("service_level", "service", key, ALERT, th.sl_goal, float(sl)))
        elif sl < th.sl_goal + th.sl_margin:
            out.append(Alert("service_level", "service", key, WARN, th.sl_goal + th.sl_margin, float(sl)))
    return out


def case_alerts(key: str, d: Mapping[str, Any], now: float) -> list[Alert]:
    """A case its service said is overdue and still owed: how late it is (seconds past its due time)."""
    if not d.get("overdue") or d.get("status") not in ("open", "in_progress"):
        return []
    due = float(d.get("due_at") or 0)
    return [Alert("case_overdue", "case", key, ALERT, due, round(max(0.0, now - due), 3), str(d.get("kind", "")))]


class AlertBook:
    def __init__(self, thresholds: WallboardSettings) -> None:
        self.th = thresholds
        self.agents: dict[str, Mapping[str, Any]] = {}
        self.services: dict[str, Mapping[str, Any]] = {}
        self.cases: dict[str, Mapping[str, Any]] = {}
        self.on: dict[str, Alert] = {}  # id -> the alert as raised

    def reset(self, states: Iterable[Change], now: float) -> list[Alert]:
        """Start over from a snapshot: the alerts on now (the page replaces its list with them)."""
        self.agents.clear()
        self.services.clear()
        self.cases.clear()
        self.on.clear()
        for c in states:
            self._hold(c)
        self.evaluate(now)
        return self.alerts()

    def change(self, change: Change, now: float) -> list[AlertEvent]:
        """One state changed (other topics are ignored); what that and the time since did to the alerts."""
        self._hold(change)
        return self.evaluate(now)

    def tick(self, now: float) -> list[AlertEvent]:
        """Time passed with nothing said: pauses and wrap-ups may have run over."""
        return self.evaluate(now)

    def alerts(self) -> list[Alert]:
        return sorted(self.on.values(), key=lambda a: (a.topic, a.key, a.kind))

    def evaluate(self, now: float) -> list[AlertEvent]:
        wanted: dict[str, Alert] = {}
        for key, d in self.agents.items():
            wanted.update((a.id, a) for a in agent_alerts(key, d, now, self.th))
        for key, d in self.services.items():
            wanted.update((a.id, a) for a in service_alerts(key, d, self.th))
        for key, d in self.cases.items():
            wanted.update((a.id, a) for a in case_alerts(key, d, now))
        events = [AlertEvent("cleared", a) for i, a in sorted(self.on.items()) if i not in wanted]
        for i, a in sorted(wanted.items()):
            held = self.on.get(i)
            if held is None or (held.level, held.reason) != (a.level, a.reason):
                a = Alert(a.kind, a.topic, a.key, a.level, a.limit, a.value, a.reason, now)
                self.on[i] = a
                events.append(AlertEvent("raised", a))
        for e in events:
            if e.op == "cleared":
                del self.on[e.alert.id]
        return events

    def _hold(self, c: Change) -> None:
        if c.topic == "agent":
            self.agents[c.key] = c.data
        elif c.topic == "service":
            self.services[c.key] = c.data
        elif c.topic == "case":
            self.cases[c.key] = c.data
