"""The composition root: builds the engine and wires the features to it, explicitly."""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from acd.agent_state import InvalidTransition
from acd.board import Board
from acd.feature_codes import FeatureCodes
from acd.plugin import install as install_acd
from acd.services import AcdServices
from acd.settings import HotlineSettings
from cases.plugin import install as install_cases
from crm.plugin import install as install_crm
from customers.plugin import install as install_customers
from dialer.plugin import install as install_dialer
from engine import heap
from engine.app import Engine, lab_paths
from engine.asterisk.ami_link import AmiError, AmiLink
from engine.asterisk.fastagi import FastAgiServer
from engine.clock import Clock, RealClock
from engine.config import Site
from engine.dialplan import AGENT_ROUTE, OUTBOUND_ROUTE
from engine.live.plugin import install as install_live
from engine.model.calls import CallModel
from engine.mqtt.plugin import install as install_mqtt
from engine.policy import Policy
from engine.service_api import Backends, ServiceApi
from engine.store.store import Store, migrate
from engine.web.settings import HttpSettings
from fax.plugin import install as install_fax
from ivr.plugin import install as install_ivr
from ivr.session import IvrService
from kb.plugin import install as install_kb
from recording.plugin import install as install_recording
from reports.plugin import install as install_reports
from sales.plugin import install as install_sales
from sim.synthetic_leads import SyntheticLeads
from sms.plugin import install as install_sms

log = logging.getLogger("hotline")


def build(site: Site, clock: Clock | None = None, *, link: AmiLink | None = None, agi: FastAgiServer | None = None,
          store: Store | None = None, finish_recordings: bool = True, http: bool = True) -> Engine:  # fmt: skip
    """The engine and its features. ``link``, ``agi`` and ``store`` default to the site's Asterisk and SQL
    store; the virtual-time face passes in-memory ones (and skips merging recordings and closing calls from
    Asterisk's CEL and CDR: it writes no audio and keeps no such records, and, with ``http`` false, the HTTP
    listener: a socket server's timers do not run in virtual time)."""
    clock = clock or RealClock()
    ast = site["asterisk"]
    if link is None:
        secret, local_dir = lab_paths(site)
        link = AmiLink(
            ast["ami_host"],
            ast["ami_port"],
            ast["ami_user"],
            secret,
            clock,
            action_timeout=float(ast["action_timeout"]),
            ping_interval=float(ast["ping_interval"]),
        )
    else:
        local_dir = Path(site["recording"]["local_dir"]).expanduser()
    agi = agi or FastAgiServer(ast["agi_host"], ast["agi_port"])
    engine = Engine(site, clock, link, agi, store or Store(site["store"]["url"]), CallModel())
    recorder = install_recording(engine, local_dir, finish=finish_recordings)
    hot = HotlineSettings.from_values(site["hotline"])
    # one board for every agent: who holds it (ACD, dialer, lent, reserved), shared by the ACD and the dialer
    board = Board.build([a.id for a in site.agents], {a: c.name for c in site.campaigns for a in c.agents},
                        max_misses=hot.max_misses, monotonic=clock.monotonic)  # fmt: skip
    wired = install_acd(engine, site, hot, recorder, board)
    acd, inbound = wired.services, wired.inbound
    ivr = install_ivr(engine, inbound.entering(acd.enqueue))
    ivr.on_callback = acd.menu_callback
    acd.use_prompts(lambda prompt: ivr.prompt_file(prompt, ivr.menu.languages[0]))
    # outbound conversations are recorded like inbound calls; synthetic leads: the simulator's endless list
    dialer = install_dialer(engine, recorder, inbound, SyntheticLeads, board)
    if dialer is not None:
        acd.use_dialer(dialer)  # outbound agents idle in their sessions can take hotline callers there
        agi.route(OUTBOUND_ROUTE, dialer.outbound)
    install_live(engine, engine.bus, acd, dialer, board)
    install_cases(engine)  # complaints, follow-ups and low surveys from the facts; overdue ones to the team page
    install_reports(engine)  # the reports' rollups, kept up to date as facts arrive
    install_sms(engine)  # messages after calls, with [sms] gateway and [[sms.after]] rules
    install_fax(engine, ivr)  # fax numbers' calls received, queued faxes sent, on [fax] lines
    install_crm(engine)  # calls, dispositions and cases to an external CRM as signed webhooks ([crm] webhook_url)
    install_sales(engine, dialer)  # orders taken with an outbound sale, corrected by team leads ([sales])
    install_kb(engine)  # the FAQ articles the training staff keep, searched from the agent page
    install_customers(engine)  # one record per customer: its timeline, notes and merges; destroyed by rule
    if site["mqtt"]["url"]:
        install_mqtt(engine)  # the bus's states and call events to the broker
    web = HttpSettings.of(site["http"])
    if http and web.listen:
        from engine.web.plugin import install as install_http

        install_http(engine, web)  # bound here: a taken port stops the start (HttpListenError)
    api = build_api(engine, acd, ivr, dialer)
    engine.features["api"] = api
    agi.route(AGENT_ROUTE, FeatureCodes(site.agents, api, hot.pause_reasons))
    return engine


def build_api(engine: Engine, acd: AcdServices, ivr: IvrService, dialer: Any) -> ServiceApi:
    """The one entry point for people's actions (feature codes now, the web console next), with its policy."""
    site = engine.site
    groups = {a.id: frozenset(a.groups) for a in site.agents}

    async def reload() -> str:
        problems = ivr.reload()
        if problems:
            raise ValueError("menu kept, the file has problems: " + "; ".join(problems))
        return "menu reloaded"

    cases = engine.features.get("cases")

    async def complaint(agent: str, via: str, note: str) -> str:
        return await cases.complaint(agent, via, note, engine.clock.now())

    backends = Backends(acd.control, dialer.control if dialer else None, acd.monitor, reload,
                        complaint if cases is not None else None)  # fmt: skip
    return ServiceApi(Policy(lambda a: groups.get(a, frozenset())), backends, engine.record, engine.clock,
                      frozenset(groups), refusals=(ValueError, InvalidTransition, AmiError))  # fmt: skip


async def run_engine(site: Site, duration: float | None = None) -> None:
    await asyncio.to_thread(migrate, site["store"]["url"])
    engine = build(site)
    heap.settle()
    main = asyncio.current_task()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        # a clean stop: log off AMI and close the FastAGI socket instead of dying mid-write
        loop.add_signal_handler(sig, main.cancel)  # type: ignore[union-attr]
    try:
        await engine.run(duration)
    except asyncio.CancelledError:
        log.info("engine stopping on signal")
    finally:
        await engine.stop()
        await engine.store.close()


@asynccontextmanager
async def running(site: Site, ready_timeout: float = 15.0, clock: Clock | None = None, *,
                  agi: FastAgiServer | None = None) -> AsyncIterator[Engine]:  # fmt: skip
    """The engine running in this event loop until the block ends (tests, tools, the demo). ``agi``: a
    FastAGI server of the caller's (the fidelity recorder's has a tap); the site's by default."""
    await asyncio.to_thread(migrate, site["store"]["url"])
    engine = build(site, clock, agi=agi)
    task = asyncio.create_task(engine.run(), name="engine")

    def ended(t: asyncio.Task[None]) -> None:
        # the block's body runs on while the engine is gone: say so the moment it happens, loudly
        if not t.cancelled() and t.exception() is not None:
            log.error("engine stopped: %r", t.exception(), exc_info=t.exception())

    task.add_done_callback(ended)
    try:
        await asyncio.wait_for(engine.link.ready.wait(), ready_timeout)
        await asyncio.wait_for(engine.agi.started.wait(), ready_timeout)
        yield engine
    finally:
        await engine.stop()
        task.cancel()
        try:
            await task
        except BaseException:  # noqa: BLE001 - the engine's own failure was logged; shutting down anyway
            pass
        await engine.store.close()
