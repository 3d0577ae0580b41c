"""`hotline demo --http`: /metrics scraped while the demo runs adds up as the report does (offered = answered +
abandoned + short abandons + other, per service, at every scrape), its counters never go back, and a scrape
after the day agrees with the demo's JSON report."""

from __future__ import annotations

import json
import queue
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

ROOT = Path(__file__).resolve().parent.parent
BOUND = 120.0  # the run takes about 40 s; the bound only keeps a hang from hanging the suite
SPLIT = ("answered", "abandoned", "short_abandoned", "other")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _scrape(url: str) -> dict[str, dict[tuple, float]] | None:
    try:
        with urllib.request.urlopen(url, timeout=5) as r:
            text = r.read().decode()
    except OSError:
        return None  # not listening yet, or no more
    out: dict[str, dict[tuple, float]] = {}
    for fam in text_string_to_metric_families(text):
        out[fam.name] = {(s.name, tuple(sorted(s.labels.items()))): s.value for s in fam.samples}
    return out


def _calls(m: dict) -> dict[str, dict[str, float]]:  # type: ignore[type-arg]
    """service -> figure -> count, from the five call counters."""
    out: dict[str, dict[str, float]] = {}
    for figure in ("offered", *SPLIT):
        for (_, labels), v in m[f"hotline_calls_{figure}"].items():
            out.setdefault(dict(labels)["service"], {})[figure] = v
    return out


def test_demo_metrics_add_up_while_it_runs_and_agree_with_its_report(tmp_path):
    port = _free_port()
    url = f"http://127.0.0.1:{port}/metrics"
    out = tmp_path / "report.json"
    p = subprocess.Popen(
        [sys.executable, "-m", "engine.cli", "demo", "--hours", "1", "--speed", "120", "--start", "10",
         "--outbound-agents", "4", "--no-live", "--http", f"127.0.0.1:{port}", "--linger", "5",
         "--json", str(out)],
        cwd=ROOT, text=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip
    lines: queue.Queue[str] = queue.Queue()

    def pump() -> None:
        assert p.stdout is not None
        for line in p.stdout:
            lines.put(line)

    threading.Thread(target=pump, daemon=True).start()
    seen: list[str] = []
    scrapes: list[dict] = []  # type: ignore[type-arg]
    final = None
    deadline = time.monotonic() + BOUND
    try:
        while time.monotonic() < deadline and p.poll() is None and final is None:
            while not lines.empty():
                seen.append(lines.get())
            day_over = any("the day is over" in s for s in seen)
            m = _scrape(url)
            if m is not None:
                if day_over:
                    final = m  # after the report's figures were read, before the listener closes
                else:
                    scrapes.append(m)
            time.sleep(0.5)
        rc = p.wait(BOUND)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    time.sleep(0.2)
    while not lines.empty():
        seen.append(lines.get())
    log = "".join(seen)
    assert rc == 0, log
    assert f"metrics at http://127.0.0.1:{port}/metrics" in log
    assert final is not None, f"no scrape during the linger:\n{log}"
    assert len(scrapes) >= 20, f"only {len(scrapes)} scrapes while the demo ran"

    # every scrape adds up, per service, and counters never go back
    last: dict[tuple[str, str], float] = {}
    for m in [*scrapes, final]:
        for service, c in _calls(m).items():
            assert c["offered"] == sum(c[k] for k in SPLIT), (service, c)
            for figure, v in c.items():
                assert v >= last.get((service, figure), 0.0), (service, figure, "went back")
                last[(service, figure)] = v
    # the demo's agent took its break from its page: signed in through the form, CSRF token, the service API
    acts = json.loads(out.read_text())["web_actions"]
    assert [(a["user"], a["action"], a["agent"], a["status"], a["ok"]) for a in acts] == [
        ("agent1001", "pause", "1001", 200, True), ("agent1001", "resume", "1001", 200, True)], acts
    mid = [m for m in scrapes if _calls(m)["hotline"]["offered"] > 0]
    assert mid, "calls were counted while the demo ran, not only at its end"
    assert max(m["hotline_ami_up"][("hotline_ami_up", ())] for m in scrapes) == 1
    assert any(m["hotline_dialer_lines"] for m in scrapes), "the campaign's lines are shown"
    agents = final["hotline_agents"]
    assert sum(agents.values()) == 3 + 4, "every agent of the demo site in one state: 3 inbound, 4 outbound"
    assert final["hotline_event_lag_seconds"][("hotline_event_lag_seconds_count", ())] > 100

    # the last scrape is the report
    report = json.loads(out.read_text())
    services = report["inbound"]["services"]
    assert report["inbound"]["offered"] > 0
    scraped = {s: c for s, c in _calls(final).items() if c["offered"]}
    assert set(scraped) == set(services)
    for service, st in services.items():
        for figure in ("offered", *SPLIT):
            assert scraped[service][figure] == st[figure], (service, figure, scraped[service], st)
