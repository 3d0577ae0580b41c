"""The live feed's wiring: the composition root calls ``install`` with the engine and the features it built."""

from __future__ import annotations

import logging
from typing import Any

from engine.app import Engine
from engine.live.bus import Bus
from engine.live.feed import LiveFeed, QueueNow
from engine.live.tally import ServiceDay, day_start
from engine.store.stats import targets_of

log = logging.getLogger("hotline.live")


def install(engine: Engine, bus: Bus, acd: Any, dialer: Any | None, board: Any = None) -> LiveFeed:
    """Publish the engine's facts, the agents (the board's records: told of every change), the ACD's queues and
    the dialer's campaigns on ``bus``."""
    from acd.live_view import queues_now

    site = engine.site
    tz = site["site"]["timezone"]
    services = sorted(acd.router.services)

    def queues() -> dict[str, QueueNow]:
        return queues_now(acd.queued, services)

    def campaigns() -> dict[str, dict[str, Any]]:
        return dialer.campaigns_now() if dialer is not None else {}

    def status() -> dict[str, Any]:
        return {"ami": "up" if engine.link.ready.is_set() else "down", "link_up_at": engine.link_up_at,
                "ami_reconnects": max(0, engine.link.stats.connects - 1), "agi_sessions": engine.agi.active,
                "facts_written": engine.facts_written}  # fmt: skip

    async def today() -> list[dict[str, Any]]:
        return await engine.store.records(since=day_start(engine.clock.now(), tz))

    feed = LiveFeed(bus, engine.clock, ServiceDay(targets_of(site), tz), today=today, queues=queues,
                    campaigns=campaigns, engine_status=status)  # fmt: skip
    engine.fact_hooks.append(feed.on_facts)
    engine.record_hooks.append(feed.on_record)
    acd.line.observers.append(feed.on_line)
    board = board or acd.board
    seen = [board.breach_count]

    def on_agent(record: Any) -> None:
        feed.on_agent(record)
        if board.breach_count != seen[0]:  # the board is pure: breaking its invariants is said here, loudly
            for line in board.breaches[-(board.breach_count - seen[0]):]:
                log.error("agent board: %s", line)
            seen[0] = board.breach_count

    board.observer = on_agent
    # every agent from the start, as the engine has it, not only once something happens to it: the agents gauge
    # sums to the site's agents, and MQTT's sweep clears only the states of agents the site no longer has
    for record in board.records.values():
        feed.on_agent(record)
    engine.feature_tasks.append(("live-feed", feed.run))
    engine.features["live"] = feed
    return feed
