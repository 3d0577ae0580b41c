"""The agent page in Debian's Chromium on `hotline demo --http`: the demo's agent (1001) signs in and lands on its
page, pauses with one of the site's reasons and the router offers it nothing while paused (the demo's own ledger:
every routing decision meanwhile names 1001 as paused, no offer names it), resumes; another agent's page is 403
with the policy's reason, a post without the CSRF token 403; at a phone's width in Chinese nothing runs off the
page, every button and field has an accessible name and text is dark enough on its ground. The page at 1280x800
is saved as agent.png (in docs/ by `make screenshots`)."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import subprocess
import sys
import time

import pytest

pytestmark = pytest.mark.asyncio(loop_scope="session")  # the browser fixture's loop
DECISION_BOUND = 30.0  # real seconds for a caller to be routed while 1001 is paused (one every few at 60x)


def _ledger(demo, sql: str, *args: object) -> list[tuple]:  # type: ignore[no-untyped-def]
    """Rows of the demo's own store, read-only beside the running engine."""
    with sqlite3.connect(f"file:{demo.workdir / 'hotline-demo.db'}?mode=ro", uri=True, timeout=5) as db:
        return db.execute(sql, args).fetchall()


def _action_at(demo, action: str) -> float:  # type: ignore[no-untyped-def]
    (at,) = _ledger(demo, "select max(at) from ledger where kind = 'action' and json_extract(data, '$.agent') = "
                          "'1001' and json_extract(data, '$.action') = ? and json_extract(data, '$.ok')", action)[0]
    assert at is not None, f"no {action} of 1001 done in the ledger"
    return float(at)


async def _press(page, name: str, says: str) -> None:  # type: ignore[no-untyped-def]
    await page.get_by_role("button", name=name, exact=True).click()
    await page.wait_for_function("s => document.getElementById('result').textContent.includes(s)", arg=says,
                                 timeout=5_000)  # fmt: skip


async def test_the_agent_pauses_on_its_page_is_offered_nothing_meanwhile_and_resumes(signed_in, demo_http, shots):
    t0 = time.monotonic()
    ctx, page = await signed_in(demo_http, "agent", viewport={"width": 1280, "height": 800}, locale="en-GB")
    try:
        assert page.url == f"{demo_http.url}/agent", "sign-in leads the agent to its own page"
        await page.wait_for_selector('#link[data-state="live"]', timeout=10_000)
        await page.wait_for_selector("body[data-ready=yes]", timeout=5_000)
        assert await page.locator("h1").inner_text() == "Agent 1001 · Hotline Agent"
        await page.wait_for_function("document.getElementById('status').textContent === 'available'", timeout=5_000)
        assert await page.get_by_role("button", name="Resume").is_hidden(), "nothing to resume while available"

        await page.get_by_label("Pause reason").select_option("lunch")
        await _press(page, "Pause", "Done: 1001 paused (lunch)")
        assert await page.locator("#result").get_attribute("data-ok") == "yes"
        await page.wait_for_function("document.getElementById('reason').textContent === 'lunch'", timeout=5_000)
        assert await page.locator("#status").inner_text() == "paused"
        assert await page.get_by_role("button", name="Pause").is_hidden()
        paused = _action_at(demo_http, "pause")

        # callers keep coming: wait for one routed after the pause (bounded), then resume
        deadline = time.monotonic() + DECISION_BOUND
        while not _ledger(demo_http, "select 1 from ledger where kind = 'route.decision' and at > ?", paused):
            assert time.monotonic() < deadline, "no caller was routed within the bound"
            await asyncio.sleep(0.2)
        shot = shots / "agent.png"
        await page.screenshot(path=str(shot))
        assert shot.stat().st_size > 10_000 and shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

        await _press(page, "Resume", "Done: 1001 available")
        await page.wait_for_function("document.getElementById('status').textContent === 'available'", timeout=5_000)
        resumed = _action_at(demo_http, "resume")
        decisions = _ledger(demo_http, "select data from ledger where kind = 'route.decision' and at > ? and at < ?",
                            paused, resumed)  # fmt: skip
        offers = _ledger(demo_http, "select call_id from ledger where kind = 'agent.offer' and at > ? and at < ? and "
                                    "json_extract(data, '$.agent') = '1001'", paused, resumed)  # fmt: skip
        assert decisions and offers == [], (len(decisions), offers)
        for (data,) in decisions:
            d = json.loads(data)
            (me,) = [c["reason"] for c in d["candidates"] if c["agent"] == "1001"]
            # paused in the middle of a wrap-up, the router still names the wrap-up first: unavailable all the same
            assert d["agent"] != "1001" and me.startswith(("paused (lunch)", "wrap-up")), d
        # the page's own stream: paused from the pause to the resume, never rung meanwhile
        shown = await page.evaluate("window.agentLog.map(e => [e.view.agent.status, e.view.agent.state])")
        first = next(i for i, s in enumerate(shown) if s[0] == "paused")
        back = next(i for i in range(first, len(shown)) if shown[i][0] == "available")
        during = shown[first:back]
        # a caller offered just before the pause may still be ringing when it takes effect (then answered or
        # not): that offer is older than the pause; a new one would be a reserve or a ring after another state
        carried = next((i for i, s in enumerate(during) if s[1] not in ("reserved", "ringing")), len(during))
        assert all(s[0] == "paused" for s in during), shown
        assert all(s[1] not in ("reserved", "ringing") for s in during[carried:]), shown
        print(f"\nagent page: paused {resumed - paused:.0f} engine s, {len(decisions)} caller(s) routed to others, "
              f"0 offers to 1001; test {time.monotonic() - t0:.2f} s")  # fmt: skip
    finally:
        await ctx.close()


async def test_another_agents_page_and_a_post_without_its_token_are_refused(signed_in, demo_http):
    ctx, page = await signed_in(demo_http, "agent", locale="en-GB")
    try:
        reply = await page.goto(f"{demo_http.url}/agent/1002")
        assert reply is not None and reply.status == 403
        assert await page.locator("[role=alert]").inner_text() == "1001 may see its own page only, not 1002's"
        events = await page.request.get(f"{demo_http.url}/agent/events?agent=1002")
        assert events.status == 403, "its stream is refused as the page is"
        bare = await page.request.post(f"{demo_http.url}/api/action", form={"action": "logout", "agent": "1001"})
        assert bare.status == 403
        assert await bare.json() == {"ok": False, "reason": "the request has no valid CSRF token"}
        refused = _ledger(demo_http, "select 1 from ledger where kind = 'action' and json_extract(data, '$.actor') = "
                                     "'1001' and json_extract(data, '$.action') = 'post' and not json_extract(data, "
                                     "'$.ok')")  # fmt: skip
        assert refused, "the refusal is a fact"
        assert not _ledger(demo_http, "select 1 from ledger where kind = 'action' and json_extract(data, '$.action') "
                                      "= 'logout'"), "and nothing was done"  # fmt: skip
    finally:
        await ctx.close()


# the contrast of each shown text against the first opaque ground behind it (WCAG's relative luminance)
CONTRASTS = """() => {
  const rgb = (c) => (c.match(/[\\d.]+/g) || []).map(Number);
  const lum = ([r, g, b]) => [r, g, b].map((v) => { v /= 255; return v <= 0.03928 ? v / 12.92
    : ((v + 0.055) / 1.055) ** 2.4; }).reduce((s, v, i) => s + v * [0.2126, 0.7152, 0.0722][i], 0);
  const ground = (el) => { for (; el; el = el.parentElement) { const c = rgb(getComputedStyle(el).backgroundColor);
    if (c.length === 3 || c[3] > 0.5) return c.slice(0, 3); } return [255, 255, 255]; };
  const out = [];
  for (const el of document.querySelectorAll("h1, h2, h3, dt, dd, p, li, label, button, select, input, time")) {
    if (!el.offsetParent && el.tagName !== "BODY") continue;
    const a = lum(rgb(getComputedStyle(el).color)), b = lum(ground(el));
    out.push([el.id || el.tagName, (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05)]);
  }
  return out;
}"""


async def test_phone_width_in_chinese_every_control_named_and_readable(signed_in, demo_http):
    ctx, page = await signed_in(demo_http, "agent", viewport={"width": 390, "height": 844}, locale="zh-CN",
                                extra_http_headers={"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.5"})  # fmt: skip
    try:
        await page.wait_for_selector('#link[data-state="live"]', timeout=10_000)
        assert await page.locator("html").get_attribute("lang") == "zh-CN"
        assert (await page.locator("h1").inner_text()).startswith("坐席 1001")
        headings = [await page.locator(f"#h-{h}").inner_text() for h in ("status", "call", "day")]
        assert headings == ["状态", "当前通话", "今日"]
        # its figures of the day once a call of its is recorded (the bus's agent_day): as the stream sent them
        await page.wait_for_selector("#day:not([hidden])", timeout=20_000)
        day = await page.evaluate("window.agentLog[window.agentLog.length - 1].view.day")
        assert day["handled"] >= 1 and await page.locator("#day-handled").inner_text() == str(day["handled"])
        assert await page.locator("#no-day").is_hidden()
        # every control at once (the page shows only those that fit the state): none runs off the phone's width
        await page.evaluate("document.querySelectorAll('[hidden]').forEach(e => e.hidden = false)")
        widths = await page.evaluate("[document.documentElement.scrollWidth, document.documentElement.clientWidth]")
        assert widths[0] <= widths[1] <= 390, widths
        # each button and field by the name a screen reader announces (Chromium's own accessibility tree)
        cdp = await ctx.new_cdp_session(page)
        for _ in range(5):
            # the live stream may re-render between the unhiding and the read (the demo's agent takes calls, and
            # the page hides what the new state does not offer): unhide again right before each read
            await page.evaluate("document.querySelectorAll('[hidden]').forEach(e => e.hidden = false)")
            tree = (await cdp.send("Accessibility.getFullAXTree"))["nodes"]
            controls = [(n["role"]["value"], (n.get("name") or {}).get("value", "")) for n in tree
                        if not n.get("ignored") and n.get("role", {}).get("value") in
                        ("button", "combobox", "textbox", "spinbutton", "checkbox", "radio")]  # fmt: skip
            if [r for r, _ in controls].count("button") >= 6:
                break
        assert len(controls) >= 6 and all(name.strip() for _, name in controls), controls
        assert ("combobox", "暂停原因") in controls and ("button", "暂停") in controls
        assert [r for r, _ in controls].count("button") >= 6, "log in, pause, resume, end wrap-up, log out, sign out"
        low = [(el, round(ratio, 2)) for el, ratio in await page.evaluate(CONTRASTS) if ratio < 4.5]
        assert low == [], f"text under 4.5:1 against its ground: {low}"
    finally:
        await ctx.close()


async def test_a_disabled_users_open_page_is_sent_to_sign_in_and_its_session_stops(signed_in, demo_http):
    # QA may watch any agent's page; the admin disables the user at the command line while the page is open
    ctx, page = await signed_in(demo_http, "qa", locale="en-GB")
    try:
        await page.goto(f"{demo_http.url}/agent/1001")
        await page.wait_for_function("() => window.agentLog && window.agentLog.length > 0", timeout=10_000)
        done = await asyncio.to_thread(subprocess.run, [sys.executable, "-m", "engine.cli", "users", "disable", "qa",
                                       "--site", str(demo_http.workdir / "site.toml")], capture_output=True,
                                       text=True, timeout=60)  # fmt: skip
        assert done.returncode == 0, done.stdout + done.stderr
        t0 = time.monotonic()
        # the open stream is ended by the server within its check interval (5 s), and the page goes to sign-in
        await page.wait_for_url("**/signin?next=%2Fagent%2F1001", timeout=15_000)
        print(f"\ndisabled: the page left for sign-in {time.monotonic() - t0:.1f} s after users disable")
        reply = await page.request.get(f"{demo_http.url}/agent/1001", max_redirects=0)
        assert reply.status == 303 and "/signin" in reply.headers["location"], "the session no longer works"
    finally:
        await ctx.close()
