"""`hotline replay`: recorded arrivals through the virtual-time PBX with changed routing rules.

Every inbound call recorded between two dates becomes a caller again: it arrives at the same second,
presses the same digits at the same moments in the IVR (from its ``ivr.step`` facts), hangs up in the IVR
if it did, talks as long as it talked and holds as long as it held. What the ledger cannot know is how long
a caller who was answered would have waited: patience is exponential with the censored maximum-likelihood
mean (all time spent waiting ÷ callers who gave up), and an answered caller's patience is its recorded wait
plus a fresh draw (the exponential forgets). Agents answer as the traffic model's phones do.

The site is replayed twice, with its own rules and with the rules file, and both are printed next to what
actually happened: the difference between the first replay and reality is the model's own error, so a
change is worth believing only when it is larger than that.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import math
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np

from engine.config import Site
from engine.model.facts import Fact
from engine.store.stats import service_stats, targets_of
from sim.pbx.model import CallerScript
from sim.traffic import InboundModel, lognormal

DIGITS = set("0123456789*#")
REPLAY_STREAM = 7


@dataclasses.dataclass
class Recorded:
    callers: list[tuple[float, CallerScript]]
    rows: list[dict[str, Any]]
    mean_patience: float
    patience_from: str  # how the mean was found


def recorded_callers(facts: Iterable[Fact], rows: Iterable[dict[str, Any]], t_from: float, t_to: float,
                     seed: int = 1) -> Recorded:  # fmt: skip
    """Caller scripts for the calls that arrived in [t_from, t_to), from their records and IVR steps."""
    chosen = sorted((r for r in rows if t_from <= float(r["arrived_at"]) < t_to), key=lambda r: r["arrived_at"])
    ids = {r["call_id"] for r in chosen}
    steps: dict[str, list[Fact]] = {}
    hung_up: dict[str, float] = {}  # the first hang-up request: when the caller hung up, before the teardown
    for f in facts:
        if f.kind == "ivr.step" and f.call_id in ids:
            steps.setdefault(f.call_id, []).append(f)
        elif f.kind == "hangup.request" and f.call_id in ids:
            hung_up[f.call_id] = min(f.at, hung_up.get(f.call_id, f.at))
    waited = gave_up = 0.0
    talks = []
    for r in chosen:
        if r["queued_at"] is None:
            continue
        if r["outcome"] == "abandoned" and r["ended_at"] is not None:
            waited += float(r["ended_at"]) - float(r["queued_at"])
            gave_up += 1
        elif r["connected_at"] is not None:
            waited += float(r["connected_at"]) - float(r["queued_at"])
        if r["talk_time"]:
            talks.append(float(r["talk_time"]))
    if gave_up:
        mean_patience, how = waited / gave_up, f"censored estimate from {int(gave_up)} abandons"
    else:
        mean_patience, how = InboundModel().patience_mean, "traffic model default (no abandons recorded)"
    talk_mean = sum(talks) / len(talks) if talks else InboundModel().talk_mean
    callers = []
    for i, r in enumerate(chosen):
        g = np.random.default_rng([seed, REPLAY_STREAM, i])
        answered = r["answered_at"] if r["answered_at"] is not None else r["arrived_at"]
        own = sorted(steps.get(r["call_id"], []), key=lambda f: f.at)
        # times count from the IVR's first step, not the answer: a loaded engine may start the menu late, and a
        # caller who hung up in the greeting must hang up in the greeting of the replay too, not after it
        origin = own[0].at if own else float(answered)
        digits: list[tuple[float, str]] = []
        for f in own:
            detail = str(f.data.get("detail") or "")
            if f.data.get("step") == "collected" and detail.isdigit():
                # the ledger keeps how many digits were collected, never which (account numbers): any will do
                detail = "1" * int(detail) + "#"
            if f.data.get("step") in ("digit", "invalid", "collected") and detail and set(detail) <= DIGITS:
                # the step is logged when the last digit is in: earlier digits of a string came just before
                digits += [(max(0.1, f.at - origin - 0.3 * (len(detail) - 1 - k)), d) for k, d in enumerate(detail)]
        hangup_at = None
        if r["outcome"] == "ivr_hangup" and r["ended_at"] is not None:
            hangup_at = max(0.1, min(float(r["ended_at"]), hung_up.get(r["call_id"], math.inf)) - origin)
        if r["outcome"] == "abandoned" and r["ended_at"] is not None and r["queued_at"] is not None:
            patience = float(r["ended_at"]) - float(r["queued_at"])
        elif r["connected_at"] is not None and r["queued_at"] is not None:
            patience = float(r["connected_at"]) - float(r["queued_at"]) + float(g.exponential(mean_patience))
        else:
            patience = float(g.exponential(mean_patience))
        talk = float(r["talk_time"]) if r["talk_time"] else lognormal(g, talk_mean, 0.8)
        hold = float(r["hold_time"] or 0.0)
        script = CallerScript(
            caller=str(r["caller"]) or "13800000000", did=str(r["dialed"]), digits=digits, hangup_at=hangup_at,
            talk=talk, patience=patience, talk_holds=[(0.4 * talk, hold)] if hold > 0 else [],
        )  # fmt: skip
        callers.append((float(r["arrived_at"]), script))
    return Recorded(callers, chosen, mean_patience, how)


def figures(rows: list[dict[str, Any]], targets: dict[str, float]) -> dict[str, Any]:
    """The compared figures; service level with each call's service's own target (the site's)."""
    st = service_stats(rows, sl_targets=targets)
    return {k: st[k] for k in ("offered", "answered", "abandoned", "asa", "service_level", "abandon_rate",
                               "sl_targets")}  # fmt: skip


async def replay(site: Site, rules: Site, facts: list[Fact], rows: list[dict[str, Any]], t_from: float,
                 t_to: float, seed: int = 1) -> dict[str, Any]:  # fmt: skip
    from sim.day import simulate

    rec = recorded_callers(facts, rows, t_from, t_to, seed)
    actual = figures(rec.rows, targets_of(site))
    out: dict[str, Any] = {"calls": len(rec.callers), "mean_patience": round(rec.mean_patience, 1),
                           "patience_from": rec.patience_from, "actual": actual}  # fmt: skip
    if not rec.callers:
        return out
    start = min(at for at, _ in rec.callers) - 60
    length = max(at for at, _ in rec.callers) - start + 1
    for name, which in (("replay_current_rules", site), ("replay_new_rules", rules)):
        with tempfile.TemporaryDirectory(prefix="hotline-replay-") as tmp:
            # inbound only: no campaign dials in a replay, and nothing is written where the real site writes
            local = dataclasses.replace(which, campaigns=[]).with_values(
                recording={"local_dir": tmp}, store={"queue_log_file": ""})
            sim = await simulate(local, rec.callers, start, length, seed)
        out[name] = figures(sim.rows, targets_of(which))  # each configuration's own services' targets
    return out


def parse_day(text: str, tz: str, end: bool) -> float:
    """A date (whole day; ``end``: the day after) or a date-time, in the site's time zone unless it says."""
    from dialer.leads import parse_when

    zone = ZoneInfo(tz)
    try:
        if len(text) == 10:
            d = dt.date.fromisoformat(text) + dt.timedelta(days=1 if end else 0)
            return dt.datetime.combine(d, dt.time(0, 0), tzinfo=zone).timestamp()
        return parse_when(text, zone)
    except ValueError:
        raise ValueError(f"{text!r}: not a date (YYYY-MM-DD) or date-time (YYYY-MM-DDTHH:MM)") from None


def _targets(t: dict[str, float]) -> str:
    vals = set(t.values())
    return f"{vals.pop():g} s" if len(vals) == 1 else (", ".join(f"{k} {v:g} s" for k, v in t.items()) or "-")


def print_replay(r: dict[str, Any], rules_file: str) -> None:
    print(f"replay of {r['calls']} recorded call(s); patience mean {r['mean_patience']} s ({r['patience_from']})")
    if not r["calls"]:
        return
    cols = [("actual", "actual"), ("replay_current_rules", "replay, site rules"),
            ("replay_new_rules", f"replay, {Path(rules_file).name}")]  # fmt: skip

    def fmt(key: str, v: Any) -> str:
        if v is None or (isinstance(v, float) and math.isnan(v)):
            return "-"
        return f"{v:.1%}" if key in ("service_level", "abandon_rate") else (f"{v:.1f} s" if key == "asa" else str(v))

    print(f"{'':16}" + "".join(f"{label:>26}" for _, label in cols))
    print(f"{'sl target':16}" + "".join(f"{_targets(r[c].get('sl_targets', {})):>26}" for c, _ in cols))
    for key in ("offered", "answered", "abandoned", "asa", "service_level", "abandon_rate"):
        print(f"{key:16}" + "".join(f"{fmt(key, r[c].get(key)):>26}" for c, _ in cols))


def main(args: Any) -> int:
    import json

    from engine.config import ConfigError, load_rules, load_site
    from engine.store.store import Store, migrate

    try:
        site = load_site(args.site)
        rules = load_rules(args.rules, site)
        t_from = parse_day(args.from_, site["site"]["timezone"], end=False)
        t_to = parse_day(args.to, site["site"]["timezone"], end=True)
    except ConfigError as exc:
        for p in exc.problems:
            print(p)
        return 2
    except ValueError as exc:
        print(f"hotline replay: {exc}")
        return 2
    if t_to <= t_from:
        print("hotline replay: --to must come after --from")
        return 2

    async def go() -> dict[str, Any]:
        await asyncio.to_thread(migrate, site["store"]["url"])
        store = Store(site["store"]["url"])
        try:
            facts, rows = await store.facts(), await store.records()
        finally:
            await store.close()
        return await replay(site, rules, facts, rows, t_from, t_to, args.seed)

    result = asyncio.run(go())
    print_replay(result, args.rules)
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=1))
        print(f"figures written to {args.json}")
    return 0
