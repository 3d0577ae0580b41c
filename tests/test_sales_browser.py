"""Sales in Debian's Chromium on `hotline demo --http`: the campaign's agent 2001 enters a sale with its order on
its page after a conversation; the order is in the ledger with the sale disposition, and in the sales report
with the agent's commission; the sales team's lead corrects the amount on /sales (a new version with a reason:
both versions shown, both in the ledger) and the report follows; agent 1001 of another team sees none of that
team's orders and is refused a correction; QA is refused the page."""

from __future__ import annotations

import html
import re
import sqlite3

import pytest

pytestmark = pytest.mark.asyncio(loop_scope="session")  # the browser fixture's loop


def _ledger(demo, sql: str, *args: object) -> list[tuple]:  # type: ignore[no-untyped-def]
    """Rows of the demo's own store, read-only beside the running engine."""
    with sqlite3.connect(f"file:{demo.workdir / 'hotline-demo.db'}?mode=ro", uri=True, timeout=5) as db:
        return db.execute(sql, args).fetchall()


async def _row_of(page, table: str, first: str) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """The report table's row whose first cells include ``first``, by column key."""
    return await page.evaluate("""([table, first]) => {
        const keys = [...document.querySelectorAll(`#${table} thead th`)].map(th => th.dataset.key || th.textContent);
        for (const tr of document.querySelectorAll(`#${table} tbody tr`)) {
          const cells = [...tr.children].map(c => c.textContent.trim());
          if (cells.slice(0, 3).includes(first)) return Object.fromEntries(keys.map((k, i) => [k, cells[i]]));
        }
        return null; }""", [table, first])  # fmt: skip


async def test_a_sale_on_the_agent_page_its_report_a_leads_correction_and_another_team_kept_out(signed_in,
                                                                                                demo_http):  # fmt: skip
    ctx, page = await signed_in(demo_http, "seller", viewport={"width": 1280, "height": 900}, locale="en-GB")
    try:
        assert page.url == f"{demo_http.url}/agent"
        await page.wait_for_selector("body[data-ready=yes]", timeout=10_000)
        # the campaign's agent talks to customers all along: after its first conversation the form is there
        await page.wait_for_selector("#wrap-actions", state="visible", timeout=60_000)
        await page.get_by_label("Product").fill("gold plan")
        await page.get_by_label("Quantity").fill("2")
        await page.get_by_label("Amount").fill("398.00")
        await page.get_by_role("button", name="Save sale and order", exact=True).click()
        await page.wait_for_function("document.getElementById('result').textContent.includes('order sale-')",
                                     timeout=5_000)  # fmt: skip
        said = await page.locator("#result").inner_text()
        assert await page.locator("#result").get_attribute("data-ok") == "yes", said
        oid = re.search(r"order (sale-\S+)$", said).group(1)
        call = oid.removeprefix("sale-")
        facts = _ledger(demo_http, "select kind, json_extract(data, '$.amount'), json_extract(data, '$.code') from "
                                   "ledger where call_id = ? and kind in ('sale.order', 'outbound.disposition') "
                                   "order by id", call)  # fmt: skip
        assert facts[0] == ("sale.order", 39800, None) and ("outbound.disposition", None, "1") in facts, facts

        await page.goto(f"{demo_http.url}/reports/sales")
        mine = await _row_of(page, "figures", "2001")
        # 398.00 × 11 % = 43.78
        assert mine is not None and (mine["orders"], mine["sales"], mine["commission_agent"]) == ("1", "398.0",
                                                                                                  "43.78"), mine
    finally:
        await ctx.close()

    lead = demo_http.credentials("saleslead")[0]
    ctx, page = await signed_in(demo_http, "saleslead", viewport={"width": 1280, "height": 900}, locale="en-GB")
    try:
        assert page.url.startswith(f"{demo_http.url}/team"), "a team lead lands on its team page"
        await page.locator("#sales-link").click()  # and finds the orders from there
        await page.wait_for_url(f"{demo_http.url}/sales")
        row = page.locator(f'tr[data-order="{oid}"]')
        assert "398.00" in await row.inner_text()
        form = page.locator(f"#o-{oid} form.correct")
        token = await page.evaluate("fetch('/me').then(r => r.json()).then(me => me.csrf)")
        bad = await page.request.post(f"{demo_http.url}/sales/{oid}/correct", headers={"X-CSRF-Token": token},
                                      form={"version": "", "product": "gold plan", "quantity": "2",
                                            "amount": "298.00", "reason": "x"})  # fmt: skip
        assert bad.status == 400 and "version '': the version corrected is a number" in html.unescape(await bad.text())
        await form.get_by_label("Amount").fill("298.00")
        await form.get_by_label("Reason").fill("one returned the same day")
        await form.get_by_role("button", name="Save the correction").click()
        await page.wait_for_selector("#message[data-ok=yes]", timeout=5_000)
        assert f"order {oid} is at version 2" in await page.locator("#message").inner_text()
        history = await page.locator(f"#o-{oid} ol.history li").all_inner_texts()
        assert len(history) == 2 and "398.00" in history[0] and "298.00" in history[1], history
        assert f"by {lead}" in history[1] and "one returned the same day" in history[1]
        await page.goto(f"{demo_http.url}/reports/sales")
        mine = await _row_of(page, "figures", "2001")
        team = await _row_of(page, "teams", "outbound")
        # 298.00 × 11 % = 32.78; the team's lead 298.00 × 1.5 % = 4.47
        assert (mine["sales"], mine["commission_agent"]) == ("298.0", "32.78"), mine
        assert team["commission_team_lead"] == "4.47", team
    finally:
        await ctx.close()
    versions = _ledger(demo_http, "select kind, json_extract(data, '$.version'), json_extract(data, '$.by'), "
                                  "json_extract(data, '$.amount') from ledger where call_id = ? and kind like 'sale.%' "
                                  "order by id", call)  # fmt: skip
    assert versions == [("sale.order", 1, "2001", 39800), ("sale.corrected", 2, lead, 29800)]

    ctx, page = await signed_in(demo_http, "agent", locale="en-GB")  # agent 1001, team front
    try:
        await page.goto(f"{demo_http.url}/sales")
        assert await page.locator(f'tr[data-order="{oid}"]').count() == 0, "another team's order"
        token = await page.evaluate("fetch('/me').then(r => r.json()).then(me => me.csrf)")
        refused = await page.request.post(f"{demo_http.url}/sales/{oid}/correct", headers={"X-CSRF-Token": token},
                                          form={"version": "2", "product": "gold plan", "quantity": "2",
                                                "amount": "1.00", "reason": "mine"})  # fmt: skip
        assert refused.status == 403
        assert (await refused.json())["reason"] == "an order is corrected by its team's lead, as a new version with " \
                                                   "a reason"  # fmt: skip
    finally:
        await ctx.close()
    ctx, page = await signed_in(demo_http, "qa", locale="en-GB")
    try:
        reply = await page.goto(f"{demo_http.url}/sales")
        assert reply is not None and reply.status == 403
    finally:
        await ctx.close()
