"""The HTTP listener's wiring: the composition root calls ``install`` when the site has an ``[http] listen``.

/metrics is open, as Prometheus scrapes it (it counts calls, it names no caller or user); the console's routes
(sign-in, actions) need a user made with `hotline users add`."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from typing import Any
from zoneinfo import ZoneInfo

from starlette.routing import BaseRoute

from cases.model import KIND_OF_FACT
from cases.store import CaseStore
from engine.app import Engine
from engine.live.metrics import EngineMetrics
from engine.passwords import Passwords
from engine.policy import Actor
from engine.service_api import Outcome, Request
from engine.store.stats import targets_of
from engine.store.users import UserStore
from engine.web.admin.routes import admin_routes
from engine.web.agent.roster import Roster
from engine.web.agent.routes import agent_routes
from engine.web.app import create_app
from engine.web.auth import Console
from engine.web.cases.routes import cases_routes
from engine.web.customers.routes import customer_routes
from engine.web.fax.routes import fax_routes
from engine.web.kb.routes import kb_routes
from engine.web.qa.amd import KINDS as AMD_KINDS
from engine.web.qa.amd import LOOKBACK as AMD_LOOKBACK
from engine.web.qa.amd import amd_routes, queue
from engine.web.qa.home import qa_home_routes
from engine.web.qa.routes import qa_routes
from engine.web.reports.routes import Choices, report_routes
from engine.web.sales.routes import sales_routes
from engine.web.server import HttpServer
from engine.web.settings import HttpSettings
from engine.web.team.routes import rosters, team_routes
from engine.web.wallboard.routes import static_route, wallboard_routes
from engine.web.wallboard.settings import WallboardSettings
from fax.queue import queue_pdf
from qa.services import Grading, Samples
from qa.settings import QaSettings
from qa.store import GradeStore
from reports.plugin import query_of
from reports.services import DEFAULT_INTERVAL, Query, Reports
from reports.store import ReportStore
from sales.model import KINDS as SALE_KINDS
from sms.plugin import callback_routes


def install(engine: Engine, settings: HttpSettings, setting: str = "http.listen") -> HttpServer:
    """/metrics over the engine's bus and call records, the console's sign-in and actions, the wallboard, the
    team page and the agent page over the bus, and the admin's users page, served on ``settings.listen`` (bound
    now: HttpListenError names ``setting`` when it cannot be) by the named task ``http``."""
    crm = engine.features.get("crm")  # installed before the listener, with [crm] webhook_url
    metrics = EngineMetrics(engine.bus, targets_of(engine.site), webhooks=crm.status if crm is not None else None)
    engine.record_hooks.append(metrics.on_record)
    engine.frame_hooks.append(metrics.on_frame)

    # the service API is built after the listener is bound (composition.build_api): looked up when used
    async def act(actor: Actor, req: Request) -> Outcome:
        return await engine.features["api"].do(actor, req)

    console = Console(UserStore(engine.store), Passwords(), lambda: engine.features["api"].policy, act,
                      engine.record, engine.clock)  # fmt: skip
    host, port = settings.address()
    site = engine.site
    thresholds, tz = WallboardSettings.of(site["wallboard"]), site["site"]["timezone"]
    board = wallboard_routes(engine.bus, engine.clock.now, thresholds, tz, gate=console.gate, visible=console.visible)
    # the team page offers the reasons the site names (the lead may type another)
    reasons = sorted({*thresholds.pause_limits, *(site["hotline"]["pause_reasons"] or {}).values()})
    samples = samples_of(engine)
    team_rosters = rosters(site.agents)

    async def sample(team: str) -> list[dict[str, Any]]:
        if samples is None:
            return []
        picks = await samples.of_day(samples.day_of(engine.clock.now()))
        members = team_rosters.get(team, {})
        return [p.view(samples.tz) for agent in sorted(members) for p in picks.get(agent, [])]

    team = team_routes(engine.bus, engine.clock.now, thresholds, tz, team_rosters, who=console.who,
                       gate=console.gate, visible=console.visible, reasons=reasons,
                       sample=sample if samples is not None else None)  # fmt: skip
    sales = engine.features.get("sales")  # orders taken with a sale: the agent page's form
    desk = agent_routes(engine.bus, engine.clock.now, Roster.of(site), engine.facts, tz, who=console.who,
                        gate=console.gate, visible=console.visible, fax="fax" in engine.features,
                        pop=engine.features.get("screen_pop"),
                        products=sales.settings.products if sales is not None else None,
                        kb="kb" in engine.features)  # fmt: skip
    users = admin_routes(console, {a.id: a.groups for a in site.agents}, tz)

    async def recording_of(rec_id: str) -> dict[str, Any] | None:
        recordings = engine.features.get("recordings")  # none on the virtual PBX's in-memory store
        if recordings is None:
            return None
        row = await recordings.index.get(rec_id)
        return row if row is not None else next(iter(await recordings.index.rows(call_id=rec_id)), None)

    grading = None
    if getattr(engine.store, "engine", None) is not None:  # grades live in SQL: none on the in-memory store
        grading = Grading(site.forms, GradeStore(engine.store.engine), lambda: engine.features["api"].policy,
                          engine.record, engine.clock.now)  # fmt: skip
        engine.features["grading"] = grading
    replay = qa_routes(recording_of, engine.facts, engine.record, engine.clock.now, tz, gate=console.gate,
                       grading=grading, post=console.post, refuse=console.refuse)  # fmt: skip
    async def amd_label(campaign: str, call_id: str, machine: bool) -> str | None:
        dialer = engine.features.get("dialer")
        runner = next((r for r in (dialer.runners if dialer else []) if r.c.name == campaign), None)
        if runner is None:
            return f"campaign {campaign!r} is not running: its pacer cannot take the label"
        return None if await runner.qa_label(call_id, machine) else f"call {call_id} is labelled already"

    amd = amd_routes(engine.facts, engine.record, engine.clock.now, tz, amd_label, gate=console.gate,
                     post=console.post, refuse=console.refuse)  # fmt: skip
    async def all_sample() -> list[dict[str, Any]]:
        if samples is None:
            return []
        picks = await samples.of_day(samples.day_of(engine.clock.now()))
        return [p.view(samples.tz) for agent in sorted(picks) for p in picks[agent]]

    async def latest(n: int) -> list[dict[str, Any]]:
        recordings = engine.features.get("recordings")
        rows = await recordings.index.rows(purged=False) if recordings is not None else []
        return list(reversed(rows[-n:]))

    async def pending() -> int:
        return len(queue(await engine.facts(None, AMD_KINDS, engine.clock.now() - AMD_LOOKBACK)))

    home = qa_home_routes(all_sample, latest, pending, tz, gate=console.gate)
    routes = [*console.routes(), *board, *team, *desk, *users, *replay, *amd, *home, *report_pages(engine, console),
              static_route()]  # fmt: skip
    routes += cases_pages(engine, console, team_rosters)
    routes += callback_routes(engine)  # the SMS gateway's delivery reports and customers' replies, with [sms]
    routes += fax_pages(engine, console)  # the agent page's fax form, with [fax] numbers
    routes += sales_pages(engine, console)  # the orders and their corrections, with the SQL store
    routes += kb_pages(engine, console)  # the knowledge base, with the SQL store
    routes += customer_pages(engine, console)  # customers' records, with the SQL store
    server = HttpServer(create_app(metrics=metrics.registry, routes=routes, still_in=console.still_in), host, port,
                        setting)  # fmt: skip
    server.bind()
    engine.feature_tasks.append(("http", server.serve))
    engine.features["metrics"] = metrics
    engine.features["http"] = server
    engine.features["console"] = console
    return server


def report_pages(engine: Engine, console: Console) -> list[BaseRoute]:
    """The report pages over the store's ledger, call records and cases (SQL stores only: none on the in-memory
    one); their days are the site's, on the engine's clock (virtual in the demo)."""
    sql = getattr(engine.store, "engine", None)
    if sql is None:
        return []
    site = engine.site
    tz = ZoneInfo(site["site"]["timezone"])
    case_rows = CaseStore(sql)
    store = ReportStore(sql)
    straight = Reports(site, store, cases=lambda a, b: case_rows.rows(since=a, until=b),
                       sales=lambda since: engine.facts(None, SALE_KINDS, since))  # fmt: skip
    kept = query_of(site, sql) if engine.features.get("rollups") is not None else None

    def today() -> dt.date:
        return dt.datetime.fromtimestamp(engine.clock.now(), tz).date()

    async def report(q: Query) -> dict[str, Any]:
        """Days before today from the rollups the engine keeps (a month reads a few hundred rows); a range with
        today in it straight from the ledger, so the last minute's calls are in it too."""
        if kept is None or q.last >= today():
            return await straight.report(q)
        source = kept.source(q.name, q.interval or DEFAULT_INTERVAL[q.name])
        return await Reports(site, store, source=source, cases=straight.cases, sales=straight.sales).report(q)

    return report_routes(report, Choices.of(site), today, who=console.who, policy=console.policy,
                         refuse=console.refuse)  # fmt: skip


def _token(console: Console) -> Callable[[Any], Awaitable[str]]:
    """The signed-in session's CSRF token, for a page's forms ("" when there is none)."""

    async def token(request: Any) -> str:
        v = await console.visitor(request)
        return v.session.csrf if v is not None else ""

    return token


def cases_pages(engine: Engine, console: Console, roster: dict[str, dict[str, str]]) -> list[Any]:
    """The cases pages (/cases) over the cases service (none on the virtual PBX's in-memory store: no pages)."""
    cases = engine.features.get("cases")
    if cases is None:
        return []

    async def replay_of(call_id: str) -> str | None:
        recordings = engine.features.get("recordings")
        rows = await recordings.index.rows(call_id=call_id, purged=False) if recordings is not None else []
        return rows[0]["id"] if rows else None

    async def case_facts(case_id: str) -> list[Any]:
        return await engine.facts(case_id, KIND_OF_FACT)

    return cases_routes(cases, case_facts, replay_of, engine.clock.now, engine.site["site"]["timezone"], roster,
                        policy=console.policy, who=console.who, gate=console.gate, post=console.post,
                        refuse=console.refuse, token=_token(console))  # fmt: skip


def sales_pages(engine: Engine, console: Console) -> list[BaseRoute]:
    """/sales, the orders a person may see and the team lead's corrections."""
    sales = engine.features.get("sales")
    if sales is None:
        return []

    return sales_routes(sales, engine.clock.now, engine.site["site"]["timezone"], policy=console.policy,
                        who=console.who, post=console.post, refuse=console.refuse, token=_token(console))  # fmt: skip


def kb_pages(engine: Engine, console: Console) -> list[BaseRoute]:
    """/kb: the articles, the training staff's forms and the agent page's search (none on the in-memory store)."""
    kb = engine.features.get("kb")
    if kb is None:
        return []

    return kb_routes(kb, engine.site["site"]["timezone"], policy=console.policy, who=console.who,
                     post=console.post, refuse=console.refuse, token=_token(console))  # fmt: skip


def customer_pages(engine: Engine, console: Console) -> list[BaseRoute]:
    """/customers: the records, their timelines, notes and merges (none on the in-memory store)."""
    customers = engine.features.get("customers")
    if customers is None:
        return []
    return customer_routes(customers, engine.site["site"]["timezone"], engine.site["hotline"]["region"],
                           policy=console.policy, who=console.who, post=console.post, refuse=console.refuse,
                           token=_token(console))  # fmt: skip


def fax_pages(engine: Engine, console: Console) -> list[BaseRoute]:
    """``POST /fax/send`` when the site has fax lines: a PDF queued as `hotline fax send` queues one."""
    fax = engine.features.get("fax")
    if fax is None:
        return []
    cases = engine.features.get("cases")

    async def queue(pdf: bytes, number: str, case: str, by: str) -> tuple[str, int]:
        job, pages = await queue_pdf(fax.s, engine, pdf, "the file", number, case=case, by=by)
        fax.wake()
        return job, pages

    async def case_of(case_id: str) -> dict[str, Any] | None:
        return await cases.store.get(case_id) if cases is not None else None

    return fax_routes(console, queue, case_of)


def samples_of(engine: Engine) -> Samples | None:
    """Today's sample to score, over the recordings index, the ledger and the grades (SQL stores only)."""
    sql, recordings = getattr(engine.store, "engine", None), engine.features.get("recordings")
    if sql is None or recordings is None:
        return None
    site = engine.site
    return Samples(recordings.index.rows, engine.facts, GradeStore(sql), {a.id: a.hired for a in site.agents},
                   QaSettings.of(site["qa"]), site["site"]["timezone"])  # fmt: skip
