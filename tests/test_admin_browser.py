"""The users page in Debian's Chromium on `hotline demo --http`: the demo's admin signs in, follows the wallboard's
link to /admin/users, adds a QA user through the form and sees its password once; that user signs in with it;
at a phone's width in Chinese every field is named and nothing runs off the page; the demo's agent opening the
page gets 403 with the policy's reason. The list at 1280x800 is saved as admin.png (in docs/ by
`make screenshots`)."""

from __future__ import annotations

import json
import sqlite3
import time

import pytest

pytestmark = pytest.mark.asyncio(loop_scope="session")  # the browser fixture's loop


def _facts(demo, kind: str, user: str) -> list[dict]:  # type: ignore[no-untyped-def,type-arg]
    """The ``kind`` facts about ``user`` in the demo's own store, read-only beside the running engine."""
    sql = "select data from ledger where kind = ? and json_extract(data, '$.user') = ?"
    with sqlite3.connect(f"file:{demo.workdir / 'hotline-demo.db'}?mode=ro", uri=True, timeout=5) as db:
        return [json.loads(raw) for (raw,) in db.execute(sql, (kind, user))]


async def _sign_in(ctx, url: str, user: str, password: str, then: str):  # type: ignore[no-untyped-def]
    """Through the sign-in form to ``then``: the page and the answer it ended on."""
    page = await ctx.new_page()
    await page.goto(f"{url}/signin?next={then}")
    await page.locator("#name").fill(user)
    await page.locator("#password").fill(password)
    async with page.expect_navigation() as landed:
        await page.locator("button[type=submit]").click()
    return page, await landed.value


async def test_the_admin_adds_a_qa_user_whose_password_signs_it_in_and_an_agent_is_refused(
        browser, signed_in, demo_http, shots):  # fmt: skip
    t0 = time.monotonic()
    # the language by header, not by locale: a context's locale would win over the header changed below
    ctx, page = await signed_in(demo_http, "admin", viewport={"width": 1280, "height": 800},
                                extra_http_headers={"Accept-Language": "en-GB,en;q=0.9"})  # fmt: skip
    try:
        assert page.url == f"{demo_http.url}/wallboard", "the admin's home stays the wallboard"
        async with page.expect_navigation():
            await page.get_by_role("link", name="Users").click()
        assert page.url == f"{demo_http.url}/admin/users"
        assert await page.locator("#users tbody tr").count() == 8, "the demo's eight users"

        await page.get_by_label("Name", exact=True).fill("qa2")
        await page.get_by_label("Role").select_option("qa")
        await page.get_by_label("Phone").fill("qa2phone")
        async with page.expect_navigation():
            await page.get_by_role("button", name="Add user").click()
        assert await page.locator("#done-text").inner_text() == "User qa2 added (QA)."
        password = await page.locator("#password").inner_text()
        assert len(password) == 20
        cells = await page.locator('#users tr[data-user="qa2"] td').all_inner_texts()
        assert cells[:5] == ["QA", "–", "–", "qa2phone", "active"], cells
        (added,) = _facts(demo_http, "user.added", "qa2")
        assert (added["actor"], added["via"], added["user_role"]) == ("admin", "web", "qa")
        assert password not in json.dumps(added)
        await page.goto(f"{demo_http.url}/admin/users")
        assert password not in await page.content(), "shown once"
        shot = shots / "admin.png"  # the list, not the answer: no password in a picture
        await page.screenshot(path=str(shot))
        assert shot.stat().st_size > 10_000 and shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

        # at a phone's width in Chinese: every field named, nothing runs off the page
        await page.set_extra_http_headers({"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.5"})
        await page.set_viewport_size({"width": 390, "height": 844})
        await page.goto(f"{demo_http.url}/admin/users")
        assert await page.locator("h1").inner_text() == "用户"
        widths = await page.evaluate("[document.documentElement.scrollWidth, document.documentElement.clientWidth]")
        assert widths[0] <= widths[1] <= 390, widths
        for label in ("用户名", "角色", "坐席工号", "团队", "话机"):
            assert await page.get_by_label(label, exact=True).count() == 1, label
        assert await page.get_by_role("button", name="为 agent1001 生成新密码").count() == 1
    finally:
        await ctx.close()

    ctx = await browser.new_context(locale="en-GB")
    try:
        page, reply = await _sign_in(ctx, demo_http.url, "qa2", password, "/")
        assert reply.status == 200 and page.url == f"{demo_http.url}/qa", "QA's home"
        assert await page.locator("h1").inner_text() == "Quality"
        me = await (await page.request.get(f"{demo_http.url}/me")).json()
        assert (me["name"], me["policy_role"], me["phone"]) == ("qa2", "qa", "qa2phone")
    finally:
        await ctx.close()

    ctx = await browser.new_context(locale="en-GB")
    try:  # the agent signs in straight to the users page (its own page and stream are not needed)
        page, reply = await _sign_in(ctx, demo_http.url, *demo_http.credentials("agent"), "/admin/users")
        assert reply.status == 403 and page.url == f"{demo_http.url}/admin/users"
        assert await page.locator("[role=alert]").inner_text() == "only an admin may manage users"
    finally:
        await ctx.close()
    print(f"\nusers page: added qa2, signed it in, agent refused; test {time.monotonic() - t0:.2f} s")

