"""A real call's end reaches a CRM's endpoint: SIPp caller → Asterisk → the engine → SIPp agent, and the engine's
`crm-webhooks` task POSTs the caller's record, signed, to a real HTTP receiver on loopback."""

from __future__ import annotations

import asyncio
import json
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from threading import Thread

import pytest

from composition import running
from crm import webhooks as wh
from sim.scripted_call import CallScript, place_call, wait_records
from tests.asterisk.test_first_call import lab_site

pytestmark = pytest.mark.asterisk
SECRET = "lab-webhook-secret-0123456789"


async def test_a_real_calls_end_is_posted_to_the_crm_signed_with_its_record(lab, tmp_path):
    got: list[dict] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's name
            raw = self.rfile.read(int(self.headers["Content-Length"]))
            signed = wh.verify(SECRET.encode(), self.headers[wh.SIGNATURE_HEADER], raw, time.time())
            got.append({"signed": signed, **json.loads(raw)})
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    Thread(target=server.serve_forever, daemon=True).start()
    (tmp_path / "hook-secret").write_text(SECRET + "\n")
    site = lab_site(tmp_path, 5038).with_values(crm={
        "webhook_url": f"http://127.0.0.1:{server.server_address[1]}/hotline",
        "webhook_secret_file": str(tmp_path / "hook-secret")})  # fmt: skip
    try:
        async with running(site) as eng:
            await place_call(tmp_path, CallScript(), "crm")
            (rec,) = await wait_records(eng.store, 1)
            for _ in range(200):  # the fact settles 2 s before it is sent
                if got:
                    break
                await asyncio.sleep(0.1)
            sender = eng.features["crm"]
    finally:
        server.shutdown()
        server.server_close()
    ended = [g for g in got if g["event"] == "call.ended"]
    assert len(ended) == 1 and ended[0]["signed"], got
    data = ended[0]["data"]
    assert data["call_id"] == rec["call_id"] and data["caller"] == rec["caller"] != ""  # the number in full
    assert data["outcome"] == "answered" and data["agent_id"] == rec["agent_id"] == "1001"
    assert sender.status()["delivered"] == len(got) and sender.status()["failing_seconds"] == 0
