"""The knowledge base in Debian's Chromium on `hotline demo --http`: the demo's trainer lands on /kb, writes an
article in Chinese and it is shown rendered from its Markdown (its save a ledger fact); agent 1001 finds it from
its own page by a two-character word and opens it; the agent may not write one (403, and the refusal is a fact)."""

from __future__ import annotations

import html
import re
import sqlite3

import pytest

pytestmark = pytest.mark.asyncio(loop_scope="session")  # the browser fixture's loop


def _ledger(demo, sql: str, *args: object) -> list[tuple]:  # type: ignore[no-untyped-def]
    with sqlite3.connect(f"file:{demo.workdir / 'hotline-demo.db'}?mode=ro", uri=True, timeout=5) as db:
        return db.execute(sql, args).fetchall()


async def test_the_trainer_writes_an_answer_and_an_agent_finds_it_from_its_page(signed_in, demo_http):
    ctx, page = await signed_in(demo_http, "training", viewport={"width": 1280, "height": 900}, locale="zh-CN",
                                extra_http_headers={"Accept-Language": "zh-CN"})  # fmt: skip
    try:
        assert page.url == f"{demo_http.url}/kb", "the training staff land on the knowledge base"
        await page.locator("#n-lang").select_option("zh")
        await page.locator("#n-title").fill("发票抬头写错了怎么办")
        await page.locator("#n-tags").fill("发票, 开票")
        await page.locator("#n-body").fill("先作废原发票，再按正确的**抬头**重开，<b>三个工作日</b>内寄出。")
        async with page.expect_navigation():
            await page.locator("#new-article button[type=submit]").click()
        article = int(re.search(r"/kb/(\d+)$", page.url).group(1))
        assert await page.locator("#body strong").inner_text() == "抬头", "rendered from its Markdown"
        assert "<b>三个工作日</b>" in await page.locator("#body").inner_text(), "raw HTML shown as text, not run"
        # a wrong version is named, an id no article can have is no article (not a database error)
        token = await page.evaluate("fetch('/me').then(r => r.json()).then(me => me.csrf)")
        bad = await page.request.post(f"{demo_http.url}/kb/{article}", headers={"X-CSRF-Token": token},
                                      form={"version": "x1", "lang": "zh", "title": "t", "body": "b"})  # fmt: skip
        assert bad.status == 400 and "version 'x1': the version edited is a number" in html.unescape(await bad.text())
        assert (await page.request.get(f"{demo_http.url}/kb/99999999999999999999")).status == 404
    finally:
        await ctx.close()
    trainer = demo_http.credentials("training")[0]
    assert _ledger(demo_http, "select json_extract(data, '$.by'), json_extract(data, '$.version') from ledger where "
                              "kind = 'kb.saved' and json_extract(data, '$.article') = ?", article) == [(trainer, 1)]

    ctx, page = await signed_in(demo_http, "agent", locale="en-GB")
    try:
        await page.wait_for_selector("body[data-ready=yes]", timeout=10_000)
        await page.get_by_label("Search the answers").fill("发票")
        await page.get_by_role("button", name="Find", exact=True).click()
        hit = page.locator("#kb-results a", has_text=f"KB-{article} 发票抬头写错了怎么办")
        await hit.wait_for(timeout=5_000)
        async with ctx.expect_page() as opened:
            await hit.click()
        tab = await opened.value
        await tab.wait_for_load_state()
        assert tab.url == f"{demo_http.url}/kb/{article}" and "重开" in await tab.locator("#body").inner_text()
        assert await tab.locator("#edit-article").count() == 0, "an agent reads, it does not edit"
        token = await page.evaluate("fetch('/me').then(r => r.json()).then(me => me.csrf)")
        refused = await page.request.post(f"{demo_http.url}/kb", headers={"X-CSRF-Token": token},
                                          form={"lang": "en", "title": "mine", "body": "x"})  # fmt: skip
        assert refused.status == 403
        assert (await refused.json())["reason"] == "the knowledge base is kept by the training staff"
    finally:
        await ctx.close()
    assert _ledger(demo_http, "select 1 from ledger where kind = 'action' and json_extract(data, '$.action') = "
                              "'kb_write' and not json_extract(data, '$.ok')"), "the refusal is a fact"
