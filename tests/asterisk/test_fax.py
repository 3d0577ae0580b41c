"""Fax on the real Asterisk: res_fax with spandsp, through a loop in the lab's trunk (pjsip.conf's ``fax-loop``),
so the lab sends to its own fax number and receives what it sent; the far ends of ``lab-fax-far`` receive,
hang up mid-page or send as a customer's machine would.

Both tests run their faxes side by side, to keep the suite's time: a fax page takes seconds of modem time.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from composition import running
from engine.config import load_site
from fax.images import pdf_to_tiff
from fax.plugin import settings_of
from sim.ports import tcp_free_port
from tests.asterisk.conftest import ROOT, SITE
from tests.faxes import differing, make_pdf, raster

pytestmark = pytest.mark.asterisk

OWN = "4007770100"  # the lab site's fax number in these tests
FAR_RECEIVES, FAR_HANGS_UP = "4007770001", "4007770002"  # lab-fax-far's receivers
CUSTOMER = "+861088880000"  # the customer's fax machine: caller id of the faxes it sends in


def _site_file(tmp_path: Path, lines: int = 4, attempts: int = 2, http: str = "") -> Path:
    site = tmp_path / "site.toml"
    site.write_text(
        SITE.read_text()
        + f"""
[http]
listen = "{http}"

[fax]
numbers = ["{OWN}"]
lines = {lines}
station_id = "+86 400 777 0100"
trunk = "fax-loop"
caller_id = "{OWN}"
attempts = {attempts}
retry_wait = 2
ring_timeout = 20
"""
    )
    return site


def _send(site: Path, number: str, pdf: Path) -> str:
    r = subprocess.run([sys.executable, "-m", "engine.cli", "fax", "send", number, str(pdf), "--site", str(site)],
                       cwd=ROOT, capture_output=True, text=True, timeout=60)  # fmt: skip
    assert r.returncode == 0, r.stderr
    return r.stdout.split()[1]


def _list(site: Path) -> dict[str, Any]:
    r = subprocess.run([sys.executable, "-m", "engine.cli", "fax", "list", "--json", "--site", str(site)],
                       cwd=ROOT, capture_output=True, text=True, timeout=60)  # fmt: skip
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


async def _customer_sends(eng: Any, tiff_in_asterisk: str, cut: bool = False, loop: str = "fax-loop") -> None:
    """A customer's machine calls the site's fax number and sends (``cut``: hangs up 8 s in); ``loop``: the lab's
    loop endpoint it calls through (``fax-loop-g711``: a machine with no T.38)."""
    await eng.action({"Action": "Originate", "Channel": f"PJSIP/{OWN}@{loop}", "Context": "lab-fax-far",
                      "Exten": "send-cut" if cut else "send", "Priority": "1", "Async": "true",
                      "CallerID": CUSTOMER, "Variable": f"LAB_FAX_FILE={tiff_in_asterisk}"})  # fmt: skip


def _modes() -> dict[str, int]:
    """Fax sides that succeeded since Asterisk started, by how they went: res_fax_spandsp's own counts."""
    from engine.lab import Lab, asterisk_cli, default_lab_dir

    text = asterisk_cli(Lab(default_lab_dir()), "fax show stats")
    g711, _, t38 = text.partition("Spandsp T.38")
    count = [int(line.split(":")[1]) for part in (g711, t38) for line in part.splitlines()
             if line.strip().startswith("Success")]  # fmt: skip
    return {"G.711": count[0], "T.38": count[1]}


async def _until(eng: Any, done: Any, timeout: float, what: str) -> list[Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        rows = [f for f in await eng.store.facts(None, ("fax.done", "fax.refused")) if done(f)]
        if rows:
            return rows
        await asyncio.sleep(0.5)
    raise AssertionError(f"no {what} within {timeout:g} s: {await eng.store.facts(None, ('fax.done',))}")


async def test_a_pdf_sent_to_our_own_number_comes_back_page_for_page_and_cut_off_faxes_leave_nothing(lab, tmp_path):
    site_file = _site_file(tmp_path, lines=6)
    site = load_site(site_file)
    s = settings_of(site)
    pdf = make_pdf(tmp_path / "three.pdf", 3)
    before = _modes()
    one = s.local_dir / "lab-test" / "one.tif"
    one.parent.mkdir(parents=True, exist_ok=True)
    pdf_to_tiff(make_pdf(tmp_path / "one.pdf", 1), one)
    t0 = time.time()
    async with running(site) as eng:
        loop = _send(site_file, OWN, pdf)  # out through the trunk's loop, in again on our own number
        cut_out = _send(site_file, FAR_HANGS_UP, pdf)  # the far end hangs up 9 s in, twice
        await _customer_sends(eng, s.seen_by_asterisk(one), cut=True)  # a fax in cut off 8 s in
        await _customer_sends(eng, s.seen_by_asterisk(one), loop="fax-loop-g711")  # one page, G.711 only
        sent = await _until(eng, lambda f: f.call_id == loop, 240, "end of the loop fax")
        g711 = await _until(eng, lambda f: f.data.get("way") == "in" and f.data.get("number") == CUSTOMER
                            and f.data["result"] == "received", 60, "the G.711 fax")  # fmt: skip
        received = await _until(eng, lambda f: f.data.get("way") == "in" and f.data.get("number") == OWN
                                and f.data["result"] == "received", 60,
                                "fax received")  # fmt: skip
        cut_in = await _until(eng, lambda f: f.data.get("way") == "in" and f.data["result"] == "failed", 60,
                              "failed fax in")  # fmt: skip
        failed_out = await _until(eng, lambda f: f.call_id == cut_out, 120, "end of the fax to a far end that hangs up")
        await asyncio.sleep(1.0)  # the case the received fax opens
        cases = await eng.features["cases"].store.rows()
    took = time.time() - t0
    assert sent[0].data["result"] == "sent" and sent[0].data["pages"] == 3, sent
    modes = {k: _modes()[k] - before[k] for k in before}
    # the loop's two ends both offer T.38 and take it; the G.711 machine's fax goes as audio; both sides of each
    assert modes == {"T.38": 2, "G.711": 2}, modes
    (rx,) = received
    assert rx.data["pages"] == 3 and rx.data["station"] == "+86 400 777 0100" and rx.data["number"] == OWN
    back = Path(rx.data["pdf"])
    a, b = raster(pdf, tmp_path / "sent"), raster(back, tmp_path / "received")
    diffs = [differing(x, y) for x, y in zip(a, b, strict=True)]
    assert len(b) == 3 and all(d < 0.01 for d in diffs), diffs
    assert differing(a[0], b[1]) > 0.01  # pages told apart: the comparison can fail
    # a fax cut off mid-page: failed with Asterisk's reason, no image kept, no case
    (cut,) = cut_in
    assert cut.data["reason"] and "pdf" not in cut.data
    assert not list((s.local_dir / "in").glob(f"{cut.call_id}.*"))
    (fo,) = failed_out
    assert fo.data["result"] == "failed" and fo.data["attempts"] == 2 and fo.data["reason"], fo
    # each received fax opened a case for the number it came from
    got = sorted(c["call_id"] for c in cases if c["source"] == "fax")
    assert got == sorted(f.call_id for f in received + g711), cases
    listed = _list(site_file)
    assert listed["summary"]["sent"] == 1 and listed["summary"]["received"] == 2
    assert listed["summary"]["failed"] == 2 and listed["summary"]["pages_received"] == 4
    print(
        f"\nfax: 3 pages through the loop and back, page differences {[f'{d:.4%}' for d in diffs]}, "
        f"cut in: {cut.data['reason']!r}, cut out: {fo.data['reason']!r}; fax sides by mode {modes}; {took:.1f} s"
    )


@pytest.mark.asyncio(loop_scope="session")
async def test_four_lines_a_fifth_send_from_the_agent_page_waits_and_a_fax_in_meanwhile_is_busy(lab, browser, tmp_path):
    port = tcp_free_port()
    site_file = _site_file(tmp_path, lines=4, attempts=1, http=f"127.0.0.1:{port}")
    site = load_site(site_file)
    s = settings_of(site)
    pdf = make_pdf(tmp_path / "one.pdf", 1)
    one = s.local_dir / "lab-test" / "one.tif"
    one.parent.mkdir(parents=True, exist_ok=True)
    pdf_to_tiff(pdf, one)
    for name, role in (("ann", "agent"), ("quinn", "qa")):
        r = subprocess.run([sys.executable, "-m", "engine.cli", "users", "add", name, "--role", role, "--site",
                            str(site_file), *(["--agent", "1001"] if role == "agent" else [])], cwd=ROOT,
                           input="fax-test-password-1\n", capture_output=True, text=True, timeout=60)  # fmt: skip
        assert r.returncode == 0, r.stderr
    async with running(site) as eng:
        fax = eng.features["fax"]
        ctx = await browser.new_context(locale="en-GB")
        page = await ctx.new_page()
        await _sign_in(page, port, "ann")
        await page.wait_for_selector("body[data-ready=yes]", timeout=10_000)
        jobs = [_send(site_file, FAR_RECEIVES, pdf) for _ in range(4)]
        deadline = time.monotonic() + 30
        while len(fax.lines.held) < 4:
            assert time.monotonic() < deadline, "four dials did not start"
            await asyncio.sleep(0.2)
        # the fifth, from the agent's own page, while every line is held
        await page.get_by_label("Fax number").fill(FAR_RECEIVES)
        await page.get_by_label("PDF").set_input_files(str(pdf))
        await page.get_by_role("button", name="Send fax").click()
        await page.wait_for_function("document.getElementById('result').textContent.startsWith('Fax fx')",
                                     timeout=20_000)  # fmt: skip
        shown = await page.locator("#result").inner_text()
        jobs.append(shown.split()[1])
        await _customer_sends(eng, s.seen_by_asterisk(one))  # every line is held: busy
        refused = await _until(eng, lambda f: f.kind == "fax.refused", 30, "refusal")
        # QA staff are refused, with the reason
        qa = await browser.new_context(locale="en-GB")
        qa_page = await qa.new_page()
        await _sign_in(qa_page, port, "quinn")
        answer = await qa_page.evaluate("""async () => {
            const me = await (await fetch("/me", {headers: {Accept: "application/json"}})).json();
            const r = await fetch("/fax/send?number=4007770001", {method: "POST", body: "%PDF-1.4",
                headers: {"Content-Type": "application/pdf", "X-CSRF-Token": me.csrf}});
            return [r.status, await r.json()];
        }""")
        await qa.close()
        await ctx.close()
        ends = []
        for job in jobs:
            ends += await _until(eng, lambda f, job=job: f.call_id == job, 180, f"end of {job}")
        most = fax.lines.most
    assert shown == f"{jobs[4].join(['Fax ', ' queued: 1 page(s)'])}"
    assert answer[0] == 403 and "QA staff" in answer[1]["reason"], answer
    assert most == 4
    assert all(e.data["result"] == "sent" for e in ends), [e.data for e in ends]
    assert refused[0].data["reason"] == "all 4 fax lines in use" and refused[0].data["number"] == CUSTOMER
    rows = {r["id"]: r for r in _list(site_file)["faxes"]}
    first_four = [rows[j] for j in jobs[:4]]
    fifth = rows[jobs[4]]
    # the fifth was dialed only once one of the first four had ended
    assert fifth["at"] + fifth["waited"] >= min(r["ended_at"] for r in first_four) - 1.0, (fifth, first_four)
    print(
        f"\nfax lines: most held {most}; the fifth send (from the agent page) waited {fifth['waited']:.1f} s; "
        f"fax in refused: {refused[0].data['reason']}"
    )


async def _sign_in(page: Any, port: int, name: str) -> None:
    await page.goto(f"http://127.0.0.1:{port}/signin")
    await page.locator("#name").fill(name)
    await page.locator("#password").fill("fax-test-password-1")
    async with page.expect_navigation():
        await page.locator("button[type=submit]").click()
    assert "/signin" not in page.url, await page.content()
