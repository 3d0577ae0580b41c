"""The screen pop in Debian's Chromium: agent 1001's page, served with the project's own routes over a real SQLite
store holding a customer's earlier calls, case and lead. A call from that customer is offered (the agent's phone
rings): the page shows the card (the earlier calls, the open case, the lead's fields) while the agent is still
ringing, opens the external CRM's page with the number in E.164 once, and keeps the card once the call is
answered; the whole number is never in the page's own view."""

from __future__ import annotations

import asyncio
import json
from urllib.parse import parse_qs

import pytest
from sqlalchemy import text
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from crm.lookup import CustomerLookup
from crm.pop import ScreenPop
from engine.live.bus import Bus, Change
from engine.live.feed import masked
from engine.policy import Actor, Role
from engine.web.actor import everything
from engine.web.agent.roster import AgentInfo, Roster
from engine.web.agent.routes import agent_routes
from engine.web.app import create_app
from engine.web.server import HttpServer
from engine.web.wallboard.routes import static_route
from tests.test_screen_pop import E164, LIVE, NUMBER, T0, _agent, _seeded

pytestmark = pytest.mark.asyncio(loop_scope="session")  # the browser fixture's loop


async def test_a_known_customers_card_pops_before_the_agent_answers_and_the_crm_opens_once(browser, tmp_path):
    store = await _seeded(f"sqlite+aiosqlite:///{tmp_path / 'pop.db'}")
    await store.append(LIVE, T0 + 9)  # the offered call's facts, as the engine wrote them (numbers whole)
    bus = Bus()
    bus.publish(Change("agent", "1001", T0, _agent("idle")))
    agent = Actor("1001", Role.AGENT, via="web")
    crm_asked: list[dict[str, list[str]]] = []

    async def who(request: Request) -> Actor:
        return agent

    async def gate(request: Request, view: str, subject: str = "") -> Actor:
        return agent

    async def crm_page(request: Request) -> Response:  # the external CRM: what it was asked for
        crm_asked.append(parse_qs(request.url.query))
        return PlainTextResponse("crm")

    server = HttpServer(None, "127.0.0.1", 0)
    server.bind()
    pop = ScreenPop(CustomerLookup(store.engine, "CN", lambda: T0), "both",
                    f"{server.url}/crm?tel={{number}}&call={{call}}&agent={{agent}}", "CN")  # fmt: skip
    roster = Roster({"1001": AgentInfo("1001", "Hotline Agent")})
    routes = agent_routes(bus, lambda: T0 + 10, roster, store.facts, "Asia/Shanghai", who=who, gate=gate,
                          visible=everything, pop=pop)  # fmt: skip
    server.app = create_app(routes=[*routes, static_route(), Route("/crm", crm_page)])
    serving = asyncio.create_task(server.serve(), name="http")
    ctx = await browser.new_context(locale="en-GB", viewport={"width": 1280, "height": 900})
    try:
        page = await ctx.new_page()
        await page.goto(f"{server.url}/agent")
        await page.wait_for_selector('#link[data-state="live"]', timeout=10_000)
        assert await page.locator("#customer-section").is_hidden(), "no call, no card"

        # the live feed's view of the offer: the call's facts with numbers masked, and the agent ringing
        async with ctx.expect_page(timeout=10_000) as popped:
            for f in LIVE:
                bus.publish(Change("call", f.call_id, f.at, {"kind": f.kind, "uniqueid": f.uniqueid,
                                                             **masked(f.data)}, retained=False))  # fmt: skip
            bus.publish(Change("agent", "1001", T0 + 9, _agent("ringing", "L1")))
            await page.wait_for_selector("#customer", state="visible", timeout=10_000)
        shown = await page.evaluate("""() => ({state: document.getElementById('state').textContent,
            name: document.getElementById('customer-name').textContent,
            number: document.getElementById('customer-number').textContent,
            calls: [...document.querySelectorAll('#customer-calls li')].map(li => li.textContent),
            cases: [...document.querySelectorAll('#customer-cases li')].map(li => li.textContent),
            leads: [...document.querySelectorAll('#customer-leads li')].map(li => li.textContent),
            crm: document.getElementById('customer-url').href,
            record: document.getElementById('customer-record-link').getAttribute('href')})""")
        assert shown["state"] == "ringing", "the card is up before the agent answers"
        assert (shown["name"], shown["number"]) == ("Li Lei", "**********8000")
        assert len(shown["calls"]) == 3 and all("sales" in c for c in shown["calls"]), shown["calls"]
        assert "hung up waiting" in shown["calls"][1] and "recorded" in shown["calls"][2]
        assert len(shown["cases"]) == 1 and shown["cases"][0].startswith("k1 · complaint · open"), shown
        assert "parcel late" in shown["cases"][0]
        assert "plan: gold" in shown["leads"][0] and "city: Shenzhen" in shown["leads"][0]
        record = await store.engine.connect()
        try:
            made = (await record.execute(text("select customer from customer_numbers where number = :n"),
                                         {"n": E164})).scalar()  # fmt: skip
        finally:
            await record.close()
        assert shown["record"] == f"/customers/{made}", "the pop made the customer's record and links it"
        crm = await popped.value
        await crm.wait_for_load_state()
        assert crm.url == shown["crm"] and crm_asked == [{"tel": [E164], "call": ["L1"], "agent": ["1001"]}]

        bus.publish(Change("agent", "1001", T0 + 12, _agent("on_call", "L1")))
        await page.wait_for_function("document.getElementById('state').textContent === 'on call'", timeout=5_000)
        assert await page.locator("#customer").is_visible(), "the card stays for the conversation"
        views = await page.evaluate("window.agentLog.map(e => e.view)")
        # the external CRM's URL carries the number (its template asks for it); nothing else does
        sent = json.dumps([{**v, "customer": {**v["customer"], "url": ""} if v["customer"] else None} for v in views])
        assert views[-1]["customer"]["url"] == shown["crm"] and NUMBER not in sent, "no other whole number"
        await asyncio.sleep(0.5)
        assert len(crm_asked) == 1 and len(ctx.pages) == 2, "the CRM's page opened once per call"
    finally:
        await ctx.close()
        serving.cancel()
        await asyncio.gather(serving, return_exceptions=True)
        await store.close()
