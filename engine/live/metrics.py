"""The engine's Prometheus metrics, in a registry of its own (never prometheus-client's global one).

Call counters come from the call records as they are derived, each counted once and classified by
``engine.store.stats.service_stats`` itself, so a scrape adds up exactly as the report does: offered =
answered + abandoned + short_abandoned + other, per service. Gauges are read from the live bus's retained
states at scrape time (they are as fresh as the feed's last sample). The event-lag histogram is fed by the
engine with each AMI event's age once the call model applied it.

The tallies are plain objects (no I/O, clock injected); ``EngineMetrics`` only turns them into metric families.
"""

from __future__ import annotations

import time
from collections import Counter, OrderedDict
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import CollectorRegistry
from prometheus_client.utils import floatToGoString

from engine.asterisk.ami_codec import Frame
from engine.live.bus import Bus
from engine.store.stats import service_stats

# the report's split of an offered call, in its own words (docs/metrics.md)
OUTCOMES = ("answered", "abandoned", "short_abandoned", "other")
CALL_HELP = {
    "offered": "calls that entered a queue (the report's offered), by service",
    "answered": "offered calls connected to an agent, by service",
    "abandoned": "offered calls whose caller hung up while waiting, after the short-abandon threshold, by service",
    "short_abandoned": "offered calls whose caller hung up within the short-abandon threshold, by service",
    "other": "offered calls neither answered nor abandoned (call backs, voicemail, timeouts), by service",
}
HELP = {
    "hotline_callers_waiting": "callers on hold for an agent now, by service",
    "hotline_agents": "agents by what they do (idle, reserved, ringing, on_call, on_hold, wrap_up, preview: the "
                      "dialer's conversations counted as on_call and wrap_up; an idle agent who takes no calls is "
                      "counted as paused or logged_out)",
    "hotline_ami_up": "1 while the AMI link is logged in and synced, else 0",
    "hotline_ami_reconnects": "AMI logins after the first since the engine started",
    "hotline_agi_sessions": "FastAGI sessions open now (IVR, survey, feature codes)",
    "hotline_dialer_lines": "outbound dials in progress now, by campaign",
    "hotline_dialer_abandon_ratio": "abandoned / live answers of the campaign's pacer so far (absent before its "
                                    "first live answer)",
    "hotline_event_lag_seconds": "seconds from an AMI event's arrival on the link to the call model having applied "
                                 "it (queueing behind earlier events and their ledger writes included)",
    "hotline_crm_webhooks_delivered": "CRM webhook events the receiver took since the engine started",
    "hotline_crm_webhooks_refused": "CRM webhook events the receiver refused (400, 409, 413, 415, 422) since the "
                                    "engine started",
    "hotline_crm_webhook_failing_seconds": "seconds the CRM receiver has failed the event now being tried (0 when "
                                           "it is not; the events after it wait)",
}  # fmt: skip
# AMI event lag: well under a millisecond when idle, tens of ms under load; seconds mean trouble
LAG_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


def service_label(row: Mapping[str, Any]) -> str:
    return str(row.get("service") or "") or "(none)"  # as the report's per-service table names it


class CallTally:
    """Offered calls per service and how each ended, from call records; a call is counted once, by its first
    record (a record derived again, e.g. after a restart's recovery, does not count twice). The last
    ``remember`` call ids are kept for that, so memory stays bounded on an engine that runs for months."""

    def __init__(self, short_abandon: float = 5.0, remember: int = 50_000) -> None:
        self.short_abandon = short_abandon
        self.remember = remember
        self.counts: dict[str, Counter[str]] = {}
        self._seen: OrderedDict[str, None] = OrderedDict()

    def service(self, name: str) -> None:
        """Show a service at 0 before its first call (a series that exists from the start)."""
        self.counts.setdefault(name, Counter())

    def add(self, row: Mapping[str, Any]) -> str | None:
        """Count a record; the outcome it was counted under, or None (not offered, or counted before)."""
        call_id = str(row.get("call_id") or "")
        if call_id in self._seen:
            return None
        # the report's own classification of this one record: exactly one of OUTCOMES is 1 when offered
        st = service_stats([row], short_abandon=self.short_abandon)
        if not st["offered"]:
            return None
        self._seen[call_id] = None
        if len(self._seen) > self.remember:
            self._seen.popitem(last=False)
        outcome = next(k for k in OUTCOMES if st[k])
        counts = self.counts.setdefault(service_label(row), Counter())
        counts["offered"] += 1
        counts[outcome] += 1
        return outcome


class LagHistogram:
    """Cumulative buckets and sum of observed lags, in seconds."""

    def __init__(self, bounds: Iterable[float] = LAG_BUCKETS) -> None:
        self.bounds = tuple(sorted(bounds))
        self._in = [0] * (len(self.bounds) + 1)  # per bucket, the last one above every bound
        self.count = 0
        self.sum = 0.0

    def observe(self, seconds: float) -> None:
        seconds = max(0.0, seconds)
        i = next((i for i, b in enumerate(self.bounds) if seconds <= b), len(self.bounds))
        self._in[i] += 1
        self.count += 1
        self.sum += seconds

    def buckets(self) -> list[tuple[str, int]]:
        out, running = [], 0
        for bound, n in zip((*self.bounds, float("inf")), self._in, strict=True):
            running += n
            out.append((floatToGoString(bound), running))
        return out


# a campaign agent's work for the dialer, which the ACD's state does not show (to the ACD it is idle)
DIALER_WORK = {"talking": "on_call", "wrap": "wrap_up", "preview": "preview"}


def agent_state(data: Mapping[str, Any]) -> str:
    """One word per agent: what it does (idle, reserved, ringing, on_call, on_hold, wrap_up, preview), the
    dialer's conversations included, or for an idle agent who takes no calls, why (paused, logged_out). A
    campaign agent waiting in its session for the dialer's next customer is idle."""
    state = str(data.get("state") or "idle")
    if state != "idle":
        return state
    phase = str(data.get("phase") or "")
    if phase in DIALER_WORK:
        return DIALER_WORK[phase]
    if data.get("holder") in ("dialer", "lent"):
        return "idle"
    status = str(data.get("status") or "")
    return status if status in ("paused", "logged_out") else state


class EngineMetrics:
    """The named metrics over the bus and the records the engine hands in; ``registry`` is what /metrics writes."""

    def __init__(self, bus: Bus, services: Iterable[str] = (), *, short_abandon: float = 5.0,
                 monotonic: Callable[[], float] = time.monotonic,
                 webhooks: Callable[[], Mapping[str, float]] | None = None) -> None:  # fmt: skip
        self.bus = bus
        self.webhooks = webhooks  # the CRM webhooks' status, with [crm] webhook_url
        self.calls = CallTally(short_abandon)
        for name in services:
            self.calls.service(name)
        self.lag = LagHistogram()
        self._monotonic = monotonic
        self.registry = CollectorRegistry(auto_describe=False)
        self.registry.register(self)

    # ---- pushed by the engine (cheap, synchronous) -------------------------------------------------------
    def on_record(self, row: Mapping[str, Any]) -> None:
        self.calls.add(row)

    def on_frame(self, frame: Frame) -> None:
        """After the call model applied an AMI event: how long since the link read it off the socket."""
        if frame.received:
            self.lag.observe(self._monotonic() - frame.received)

    # ---- read at scrape time -------------------------------------------------------------------------------
    def collect(self) -> Iterator[Metric]:
        yield from self._calls()
        waiting = GaugeMetricFamily("hotline_callers_waiting", HELP["hotline_callers_waiting"], labels=["service"])
        for c in self.bus.states("service"):
            waiting.add_metric([c.key], float(c.data.get("waiting") or 0))
        yield waiting
        agents = GaugeMetricFamily("hotline_agents", HELP["hotline_agents"], labels=["state"])
        for state, n in sorted(Counter(agent_state(c.data) for c in self.bus.states("agent")).items()):
            agents.add_metric([state], n)
        yield agents
        yield from self._engine()
        lines = GaugeMetricFamily("hotline_dialer_lines", HELP["hotline_dialer_lines"], labels=["campaign"])
        ratio = GaugeMetricFamily("hotline_dialer_abandon_ratio", HELP["hotline_dialer_abandon_ratio"],
                                  labels=["campaign"])  # fmt: skip
        for c in self.bus.states("campaign"):
            lines.add_metric([c.key], float(c.data.get("lines") or 0))
            if c.data.get("abandon_rate") is not None:
                ratio.add_metric([c.key], float(c.data["abandon_rate"]))
        yield lines
        yield ratio
        yield HistogramMetricFamily("hotline_event_lag_seconds", HELP["hotline_event_lag_seconds"],
                                    buckets=self.lag.buckets(), sum_value=self.lag.sum)  # fmt: skip
        if self.webhooks is not None:
            st = self.webhooks()
            for name in ("delivered", "refused"):
                key = f"hotline_crm_webhooks_{name}"
                yield CounterMetricFamily(key, HELP[key], value=float(st[name]))
            key = "hotline_crm_webhook_failing_seconds"
            yield GaugeMetricFamily(key, HELP[key], value=float(st["failing_seconds"]))

    def _calls(self) -> Iterator[Metric]:
        for figure in ("offered", *OUTCOMES):
            family = CounterMetricFamily(f"hotline_calls_{figure}", CALL_HELP[figure], labels=["service"])
            for service, counts in sorted(self.calls.counts.items()):
                family.add_metric([service], counts[figure])
            yield family

    def _engine(self) -> Iterator[Metric]:
        held = self.bus.state("engine", "status")
        status = held.data if held is not None else {}
        up = 1.0 if status.get("ami") == "up" else 0.0
        yield GaugeMetricFamily("hotline_ami_up", HELP["hotline_ami_up"], value=up)
        yield CounterMetricFamily("hotline_ami_reconnects", HELP["hotline_ami_reconnects"],
                                  value=float(status.get("ami_reconnects") or 0))  # fmt: skip
        yield GaugeMetricFamily("hotline_agi_sessions", HELP["hotline_agi_sessions"],
                                value=float(status.get("agi_sessions") or 0))  # fmt: skip
