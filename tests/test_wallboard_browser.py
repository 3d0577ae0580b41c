"""The wallboard in Debian's Chromium on `hotline demo --http`: a caller entering the queue is on the screen
within 1 s of the bus's change (the delay from the server reading it off the bus to the page's DOM holding
it, measured, not assumed), the page at 1280x800 is written to docs/wallboard.png, and at a phone's width in
Chinese nothing runs off the page."""

from __future__ import annotations

import statistics
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHOT = ROOT / "docs" / "wallboard.png"
pytestmark = pytest.mark.asyncio(loop_scope="session")  # the browser fixture's loop
WAIT_BOUND = 90_000  # ms a caller may take to queue in the demo (a minute of real time is an hour of traffic)


async def test_a_caller_entering_the_queue_is_shown_within_a_second(browser, demo_http):
    t0 = time.monotonic()
    ctx = await browser.new_context(viewport={"width": 1280, "height": 800}, locale="en-GB")
    page = await ctx.new_page()
    try:
        await page.goto(f"{demo_http.url}/wallboard")
        await page.wait_for_selector('#link[data-state="live"]', timeout=10_000)
        await page.wait_for_selector("#agents tbody tr", timeout=10_000)
        assert await page.locator("h1").inner_text() == "Wallboard"
        assert await page.locator("#agents tbody tr").count() == 3 + 4, "every agent of the demo site: 3 in, 4 out"
        await page.wait_for_selector("#campaigns tbody tr", timeout=10_000)  # the dialer's first sample

        # a service row whose waiting count is above 0: a caller in the queue (at 60x an agent answers within a
        # fraction of a real second, so the row is seen here and its change read from the page's log)
        await page.wait_for_function(
            """() => [...document.querySelectorAll('#services tbody td.waiting')]
                     .some(td => parseInt(td.textContent, 10) > 0)""", timeout=WAIT_BOUND)  # fmt: skip
        log = await page.evaluate("window.wallboardLog")
        entered = next(e for e in log if e["topic"] == "service" and e["data"]["waiting"] > 0)
        delay = entered["shown"] / 1000 - entered["wall"]
        delays = [e["shown"] / 1000 - e["wall"] for e in log]
        print(f"\nwallboard: caller entering {entered['key']} shown {delay * 1000:.1f} ms after the bus change; "
              f"{len(delays)} changes: median {statistics.median(delays) * 1000:.1f} ms, "
              f"max {max(delays) * 1000:.1f} ms; test {time.monotonic() - t0:.2f} s")  # fmt: skip
        assert 0 <= delay < 1.0, f"shown {delay:.3f} s after the bus change"

        SHOT.parent.mkdir(exist_ok=True)
        await page.screenshot(path=str(SHOT))
        assert SHOT.stat().st_size > 10_000 and SHOT.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    finally:
        await ctx.close()


async def test_phone_width_in_chinese(browser, demo_http):
    ctx = await browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN",
                              extra_http_headers={"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.5"})  # fmt: skip
    page = await ctx.new_page()
    try:
        await page.goto(f"{demo_http.url}/wallboard")
        await page.wait_for_selector("#agents tbody tr", timeout=10_000)
        assert await page.locator("html").get_attribute("lang") == "zh-CN"
        assert await page.locator("h1").inner_text() == "实时看板"
        assert await page.locator("#h-services").inner_text() == "服务"
        # a table wider than the phone (a long row, as a day's figures make it) scrolls inside its own box: the
        # page itself stays as wide as the phone. Measured in one script, before the next change redraws the row.
        widths = await page.evaluate("""() => {
            const td = document.querySelector('#services tbody td:last-child');
            td.textContent = '9'.repeat(120);
            const box = document.querySelector('#services').parentElement;
            return [document.documentElement.scrollWidth, box.scrollWidth, box.clientWidth];
        }""")  # fmt: skip
        page_width, table_width, box_width = widths
        assert page_width <= 390 and box_width <= 390 < table_width, widths
        # every table is named by its heading, every column by a header cell (what a screen reader reads)
        for table in ("services", "agents", "campaigns"):
            section = page.locator(f"section:has(#{table})")
            assert (await section.get_attribute("aria-labelledby")).startswith("h-")
            assert await page.locator(f"#{table} thead th[scope=col]").count() >= 4
    finally:
        await ctx.close()
