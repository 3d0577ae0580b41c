"""The cases pages in Debian's Chromium on `hotline demo --http` (run with no scripted actors, so the test files the
complaint itself): the demo's agent 1001 files a complaint about its latest call from its page; the team lead
goes from its team page to its cases, opens the new one, assigns it to 1002 and resolves it; the ledger has both
changes by the lead. The case page is saved as cases.png (in docs/ by `make screenshots`)."""

from __future__ import annotations

import asyncio
import re
import sqlite3
import time

import pytest

pytestmark = pytest.mark.asyncio(loop_scope="session")  # the browser fixture's loop
CALL_BOUND = 60.0  # real seconds for agent 1001 to be offered a call (one every few at 60x)


def _ledger(demo, sql: str, *args: object) -> list[tuple]:  # type: ignore[no-untyped-def]
    """Rows of the demo's own store, read-only beside the running engine."""
    with sqlite3.connect(f"file:{demo.workdir / 'hotline-demo.db'}?mode=ro", uri=True, timeout=5) as db:
        return db.execute(sql, args).fetchall()


async def _a_call_of_1001(demo) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + CALL_BOUND
    while True:
        try:
            if _ledger(demo, "select 1 from ledger where kind = 'agent.offer' and json_extract(data, '$.agent') = "
                             "'1001' limit 1"):  # fmt: skip
                return
        except sqlite3.OperationalError:  # the demo's store not made yet
            pass
        assert time.monotonic() < deadline, "agent 1001 had no call within the bound"
        await asyncio.sleep(0.5)


async def test_the_agent_files_a_complaint_and_its_lead_assigns_and_resolves_it(signed_in, demo_http, shots):
    await _a_call_of_1001(demo_http)
    ctx, page = await signed_in(demo_http, "agent", locale="en-GB")
    try:
        await page.wait_for_selector("body[data-ready=yes]", timeout=10_000)
        await page.get_by_label("Complaint about the latest call").fill("the parcel arrived broken")
        await page.get_by_role("button", name="File a complaint", exact=True).click()
        await page.wait_for_function("document.getElementById('result').textContent.includes('complaint case')",
                                     timeout=5_000)  # fmt: skip
        said = await page.locator("#result").inner_text()
        assert await page.locator("#result").get_attribute("data-ok") == "yes", said
        case_id = re.search(r"complaint case (\S+) opened", said).group(1)
    finally:
        await ctx.close()

    lead = demo_http.credentials("teamlead")[0]
    ctx, page = await signed_in(demo_http, "teamlead", viewport={"width": 1280, "height": 900}, locale="en-GB")
    try:
        await page.goto(f"{demo_http.url}/team")
        await page.wait_for_selector('#link[data-state="live"]', timeout=10_000)  # its script runs
        await page.locator("#cases-link").click()
        await page.wait_for_url(re.compile(r"/cases\?team=front$"))
        row = page.locator(f'tr[data-case="{case_id}"]')
        assert "complaint" in await row.inner_text() and await row.get_attribute("data-status") == "open"
        await row.get_by_role("link", name=case_id).click()
        await page.wait_for_url(re.compile(rf"/cases/{case_id}$"))
        assert await page.locator("h1").inner_text() == f"Case {case_id}"

        await page.get_by_label("Agent").select_option("1002")
        await page.get_by_role("button", name="Assign", exact=True).click()
        await page.wait_for_function("document.getElementById('owner').textContent === '1002'", timeout=5_000)
        assert await page.locator("#status").inner_text() == "in progress"
        shot = shots / "cases.png"
        await page.screenshot(path=str(shot), full_page=True)  # docs/cases.png with `make screenshots`
        assert shot.stat().st_size > 10_000 and shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

        await page.get_by_label("Resolution").fill("replacement sent, customer called back")
        await page.get_by_role("button", name="Resolve", exact=True).click()
        await page.wait_for_function("document.getElementById('status').textContent === 'resolved'", timeout=5_000)
        assert await page.locator("#resolution").inner_text() == "replacement sent, customer called back"
        facts = await page.eval_on_selector_all("#facts li", "ls => ls.map(l => l.dataset.fact)")
        assert facts[0] == "case.opened" and facts[-1] == "case.resolved" and "case.assigned" in facts
    finally:
        await ctx.close()
    done = _ledger(demo_http, "select kind, json_extract(data, '$.by') from ledger where call_id = ? and kind in "
                              "('case.assigned', 'case.resolved') order by at", case_id)  # fmt: skip
    assert done == [("case.assigned", lead), ("case.resolved", lead)]
