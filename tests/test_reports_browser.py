"""The report pages in Debian's Chromium on `hotline demo --http`: the demo's team lead follows its team page's
link to the reports and opens the agents report, which holds its team's agents only, each figure's formula
under the table; the manager opens the services report and its plot loads in the page (saved as reports.png,
in docs/ by `make screenshots`) and the cases report opens; the demo's agent reads its own row at a phone's
width in Chinese and is refused the services report with the policy's reason."""

from __future__ import annotations

import asyncio
import time

import pytest

pytestmark = pytest.mark.asyncio(loop_scope="session")  # the browser fixture's loop
FILL_BOUND = 45.0  # real seconds to wait for the demo's calls before the screenshot
TEAM = {"1001", "1002", "1003"}  # the demo's team "front" (sim/world.py); its campaign's agents are 2001...


async def _column(page, key: str) -> list[str]:  # type: ignore[no-untyped-def]
    """The figures table's cells of column ``key`` (by its header's data-key)."""
    return await page.evaluate("""(key) => {
        const t = document.getElementById('figures');
        const i = [...t.tHead.rows[0].cells].findIndex((c) => c.dataset.key === key);
        return [...t.tBodies[0].rows].map((r) => r.cells[i].textContent.trim()); }""", key)


async def test_the_lead_reads_its_team_the_manager_sees_the_plot_and_an_agent_is_refused(signed_in, demo_http,
                                                                                        shots):  # fmt: skip
    ctx, page = await signed_in(demo_http, "teamlead", viewport={"width": 1280, "height": 800}, locale="en-GB")
    try:
        assert page.url == f"{demo_http.url}/team"
        async with page.expect_navigation():
            await page.get_by_role("link", name="Reports").click()
        async with page.expect_navigation():
            await page.get_by_role("link", name="Agents").click()
        assert page.url.startswith(f"{demo_http.url}/reports/agents")
        assert await page.get_by_label("Team").input_value() == "front", "the lead's own team, selected"
        agents = await _column(page, "agent")
        assert agents and set(agents) <= TEAM, agents
        report = await page.evaluate("""() => fetch(document.querySelector('#downloads a[href*=".json"]').href)
                                              .then((r) => r.json())""")  # fmt: skip
        assert sorted(r["agent"] for r in report["rows"]) == sorted(agents)
        shown = await page.locator("#formulas dd").evaluate_all("ds => ds.map((d) => [d.id, d.textContent])")
        assert dict(shown) == {f"f-{k}": v for k, v in report["formulas"].items()}
    finally:
        await ctx.close()

    ctx, page = await signed_in(demo_http, "manager", viewport={"width": 1280, "height": 900}, locale="en-GB")
    try:
        # the screenshot once the demo's morning has a few quarters of calls to show (bounded: 60x runs an hour
        # in a minute)
        deadline = time.monotonic() + FILL_BOUND
        while True:
            got = await page.request.get(f"{demo_http.url}/reports/services.json?interval=15m")
            if len((await got.json())["rows"]) >= 3 or time.monotonic() > deadline:
                break
            await asyncio.sleep(1)
        await page.goto(f"{demo_http.url}/reports/services?interval=15m")
        await page.wait_for_function("(() => { const i = document.getElementById('plot');"
                                     " return i.complete && i.naturalWidth > 0; })()", timeout=20_000)  # fmt: skip
        assert await page.locator("#figures tfoot th").inner_text() == "total"
        shot = shots / "reports.png"
        await page.screenshot(path=str(shot), full_page=True)
        assert shot.stat().st_size > 10_000
        answer = await page.goto(f"{demo_http.url}/reports/cases")  # the cases table's report, on the demo's store
        assert answer is not None and answer.status == 200
        assert await page.locator("#formulas dd#f-follow_up_rate").count() == 1
    finally:
        await ctx.close()

    ctx, page = await signed_in(demo_http, "agent", viewport={"width": 390, "height": 800},
                                extra_http_headers={"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.5"})  # fmt: skip
    try:
        await page.goto(f"{demo_http.url}/reports/agents")
        assert await page.locator("h1").inner_text() == "坐席工作统计"
        assert await _column(page, "agent") == ["1001"], "its own row"
        assert await page.evaluate("document.documentElement.scrollWidth") <= 390, "wide tables scroll in their box"
        answer = await page.goto(f"{demo_http.url}/reports/services")
        assert answer is not None and answer.status == 403
        assert await page.get_by_role("alert").inner_text() == (
            "the services report is for managers, team leads and admins")  # fmt: skip
    finally:
        await ctx.close()
