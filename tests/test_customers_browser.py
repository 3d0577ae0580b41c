"""Customers' records in Debian's Chromium on `hotline demo --http`: the team lead opens a caller's record from the
team page by number (the calls the demo's traffic made are on its timeline, the number only masked), adds a note,
and merges a second caller's record into it with a reason (audited in the ledger); an agent reads the record but
is refused the merge (403, a fact); QA staff are refused customers' records altogether, their merge too."""

from __future__ import annotations

import asyncio
import html
import re
import sqlite3

import pytest

pytestmark = pytest.mark.asyncio(loop_scope="session")  # the browser fixture's loop


def _db(demo, sql: str, *args: object) -> list[tuple]:  # type: ignore[no-untyped-def]
    with sqlite3.connect(f"file:{demo.workdir / 'hotline-demo.db'}?mode=ro", uri=True, timeout=5) as db:
        return db.execute(sql, args).fetchall()


async def _two_callers(demo) -> list[str]:  # type: ignore[no-untyped-def]
    """Two numbers the demo's traffic has called from (it runs on: wait for them, bounded)."""
    for _ in range(60):
        rows = _db(demo, "select caller from call_records where caller glob '1[3-9]*' group by caller "
                         "order by min(arrived_at) limit 2")  # fmt: skip
        if len(rows) == 2:
            return [r[0] for r in rows]
        await asyncio.sleep(1.0)
    raise AssertionError("the demo made no two callers' records in 60 s")


async def test_a_lead_notes_and_merges_a_customers_record_an_agent_may_not_merge(signed_in, demo_http):
    ann, bob = await _two_callers(demo_http)
    ctx, page = await signed_in(demo_http, "teamlead", locale="en-GB")
    try:
        await page.locator("#customers-link").click()
        await page.wait_for_url(f"{demo_http.url}/customers")
        # Bob's record first (the merge names the other record by its number), then Ann's
        for number in (bob, ann):
            await page.goto(f"{demo_http.url}/customers")
            await page.locator("#number").fill(number)
            async with page.expect_navigation():
                await page.locator("#find-customer button[type=submit]").click()
        ann_id = int(re.search(r"/customers/(\d+)$", page.url).group(1))
        assert await page.locator("#timeline li[data-kind=call]").count() >= 1, "the demo's calls from Ann"
        assert number[-4:] in await page.locator("#customer-numbers").inner_text()
        assert number not in await page.content(), "the whole number is never on the page"

        await page.locator("#note-text").fill("prefers calls in the afternoon")
        async with page.expect_navigation():
            await page.locator("#add-note button[type=submit]").click()
        assert page.url.endswith(f"/customers/{ann_id}#timeline"), "after the POST, the record by GET"
        note = page.locator("#timeline li[data-kind=note]")
        assert "prefers calls in the afternoon" in await note.first.inner_text()

        await page.locator("#merge-other").fill(bob)
        await page.locator("#merge-reason").fill("the same person's office phone")
        async with page.expect_navigation():
            await page.locator("#merge button[type=submit]").click()
        assert await page.locator("#message").get_attribute("data-ok") == "yes", await page.content()
        assert await page.locator("#timeline li[data-kind=merge]").count() == 1
        assert len((await page.locator("#customer-numbers").inner_text()).split(", ")) == 2
    finally:
        await ctx.close()
    lead = demo_http.credentials("teamlead")[0]
    merged = _db(demo_http, "select json_extract(data, '$.by'), json_extract(data, '$.role') from ledger "
                            "where kind = 'customer.merged' and json_extract(data, '$.kept') = ?", ann_id)  # fmt: skip
    assert merged == [(lead, "team_lead")], "the merge is audited"
    why = _db(demo_http, "select by, reason from customer_merges where kept = ?", ann_id)
    assert why == [(lead, "the same person's office phone")], "its reason kept with the record"
    facts = _db(demo_http, "select data from ledger where kind like 'customer.%'")
    assert not any(bob in d or ann in d or "afternoon" in d for (d,) in facts), "no number, no note in the ledger"

    ctx, page = await signed_in(demo_http, "agent", locale="en-GB")
    try:
        await page.goto(f"{demo_http.url}/customers/{ann_id}")
        assert await page.locator("#timeline li[data-kind=note]").count() == 1, "an agent reads the record"
        assert await page.locator("#merge").count() == 0, "and has no merge form"
        token = await page.evaluate("fetch('/me').then(r => r.json()).then(me => me.csrf)")
        refused = await page.request.post(f"{demo_http.url}/customers/{ann_id}/merge", headers={"X-CSRF-Token": token},
                                          form={"other": bob, "reason": "mine"})  # fmt: skip
        assert refused.status == 403
        assert "merged by a team lead or a manager" in html.unescape(await refused.text())
    finally:
        await ctx.close()
    assert _db(demo_http, "select 1 from ledger where kind = 'action' and json_extract(data, '$.action') = "
                          "'customer_merge' and not json_extract(data, '$.ok')"), "the refusal is a fact"

    ctx, page = await signed_in(demo_http, "qa", locale="en-GB")
    try:
        answer = await page.goto(f"{demo_http.url}/customers")
        assert answer.status == 403
        assert "customers' records are for the agents" in await page.locator("[role=alert]").inner_text()
        token = await page.evaluate("fetch('/me').then(r => r.json()).then(me => me.csrf)")
        refused = await page.request.post(f"{demo_http.url}/customers/{ann_id}/merge", headers={"X-CSRF-Token": token},
                                          form={"other": bob, "reason": "x"})  # fmt: skip
        assert refused.status == 403 and "customers' records are for" in html.unescape(await refused.text())
    finally:
        await ctx.close()
