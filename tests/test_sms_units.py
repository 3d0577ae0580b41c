"""SMS without a gateway: the coding and part counts, templates, the callbacks' decoding, and the batch sender
(sms/services.py) on fakes: the real Kannel client over httpx's mock transport, an in-memory ledger and a clock
whose sleeps pass at once."""

import asyncio
import datetime as dt
import urllib.parse
from collections import Counter
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx2 as httpx
import pytest

from engine.model.facts import Fact
from sms import facts
from sms.encoding import encode
from sms.kannel import GatewayRefusesUs, KannelGateway
from sms.report import sms_report
from sms.routes import decode_text
from sms.services import IN_FLIGHT, Outbox, Recipient
from sms.settings import SmsSettings
from sms.template import TemplateError, load_template, parse_template

TZ = "Asia/Shanghai"
NOON = dt.datetime(2026, 12, 1, 12, 0, tzinfo=ZoneInfo(TZ)).timestamp()


def test_parts_follow_the_gsm_and_ucs2_limits():
    assert (encode("x" * 160).coding, encode("x" * 160).parts) == ("gsm", 1)
    assert encode("x" * 161).parts == 2
    assert encode("x" * 306).parts == 2 and encode("x" * 307).parts == 3  # 153 a part once cut
    assert encode("{" * 80).units == 160 and encode("{" * 81).parts == 2  # extension characters take two septets
    zh = "您好" * 35
    assert (encode(zh).coding, encode(zh).parts) == ("ucs2", 1)
    assert encode(zh + "啊").parts == 2
    assert encode("a" * 134 + "é").coding == "gsm"  # é is in GSM's alphabet
    assert encode("a" * 70 + "ç").coding == "ucs2" and encode("a" * 70 + "ç").parts == 2  # ç is not (only Ç)
    assert encode("😀").units == 2  # outside the BMP: a surrogate pair


def test_template_fields_errors_and_braces(tmp_path: Path):
    t = parse_template("{name}您好，您的订单 {order} 已发货 {{详情}}")
    assert t.fields == {"name", "order"}
    assert t.render({"name": "王芳", "order": "A-17"}) == "王芳您好，您的订单 A-17 已发货 {详情}"
    with pytest.raises(TemplateError, match=r"no value for \{order\}"):
        t.render({"name": "王芳", "order": ""})
    f = tmp_path / "t.txt"
    f.write_text("第一行\n尊敬的 {name 客户\n", encoding="utf-8")
    with pytest.raises(TemplateError, match=r"t.txt:2:5: a lone '\{'"):
        load_template(f)
    f.write_text("\n")
    with pytest.raises(TemplateError, match="empty"):
        load_template(f)


def test_reply_text_is_decoded_from_kannels_binary_form():
    assert decode_text("退订".encode("utf-16-be"), "2", "UTF-16BE") == "退订"
    assert decode_text("退订".encode("utf-16-be"), "2", "") == "退订"
    assert decode_text(b"TD", "0", "") == "TD"
    assert facts.is_opt_out(" td。", frozenset({"TD"})) == "TD"
    assert facts.is_opt_out("TD please call me", frozenset({"TD"})) is None


class Ledger:
    def __init__(self) -> None:
        self.rows: dict[str, Fact] = {}

    async def record(self, new: list[Fact]) -> None:
        for f in new:
            self.rows.setdefault(f.key, f)

    async def fact(self, *a, **k) -> None:  # type: ignore[no-untyped-def]
        raise AssertionError("not used")

    async def facts(self, call_id=None, kinds=(), since=None):  # type: ignore[no-untyped-def]
        return [f for f in self.rows.values() if (call_id is None or f.call_id == call_id)
                and (not kinds or f.kind in kinds) and (since is None or f.at >= since)]  # fmt: skip

    def of(self, kind: str) -> list[Fact]:
        return [f for f in self.rows.values() if f.kind == kind]


class Clock:
    def __init__(self, at: float) -> None:
        self.t = at
        self.slept: list[float] = []

    def now(self) -> float:
        return self.t

    def monotonic(self) -> float:
        return self.t

    async def sleep(self, s: float) -> None:
        self.slept.append(s)
        self.t += max(s, 0)
        for _ in range(20):  # what else runs meanwhile (a send in flight) gets its turns
            await asyncio.sleep(0)


def rules(**over) -> SmsSettings:  # type: ignore[no-untyped-def]
    base = dict(gateway="http://kannel/cgi-bin/sendsms", username="u", password="p", sender="10690",
                callback_url="http://engine:8080", token="tok", window=(8 * 60, 21 * 60), rate=10.0, max_parts=6,
                opt_out_words=frozenset({"TD"}), retry_for=60.0, confirm_wait=10.0)  # fmt: skip
    return SmsSettings(**{**base, **over})


def people(n: int) -> list[Recipient]:
    return [Recipient(f"+861380013{i:04d}", {"name": f"客户{i}"}) for i in range(n)]


def outbox(handler, ledger: Ledger, clock: Clock, blocked=frozenset(), **over):  # type: ignore[no-untyped-def]
    client = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    gw = KannelGateway("http://kannel/cgi-bin/sendsms", "u", "p", "10690", client)

    async def is_blocked(phone: str) -> bool:
        return phone in blocked

    return Outbox("spring", parse_template("{name}您好"), rules(**over), ledger=ledger, gateway=gw,
                  blocked=is_blocked, clock=clock, site_tz=TZ)  # fmt: skip


def accept(seen: list[dict]):  # type: ignore[no-untyped-def]
    def handler(request: httpx.Request) -> httpx.Response:
        if "to" not in request.url.params:  # the check that the gateway answers at all
            return httpx.Response(400, text="Missing receiver number")
        seen.append(dict(request.url.params))
        return httpx.Response(202, text="0: Accepted for delivery")

    return handler


def test_a_batch_is_paced_coded_and_sent_once_across_runs():
    ledger, clock, seen = Ledger(), Clock(NOON), []
    tally = asyncio.run(outbox(accept(seen), ledger, clock).run(people(5)))
    assert tally.sent == 5 and len(seen) == 5
    assert seen[0]["text"] == "客户0您好" and seen[0]["coding"] == "2" and seen[0]["charset"] == "UTF-8"
    assert seen[0]["from"] == "10690" and seen[0]["to"] == "+8613800130000"
    dlr = urllib.parse.urlsplit(seen[0]["dlr-url"])
    assert dict(urllib.parse.parse_qsl(dlr.query))["a"] == "1" and "type=%d" in dlr.query
    assert clock.t - NOON == pytest.approx(0.4)  # five sends at 10 a second: four gaps of 0.1 s
    again = asyncio.run(outbox(accept(seen), ledger, clock).run(people(7)))
    assert (again.already, again.sent, len(seen)) == (5, 2, 7)  # a second run sends only the new names


def test_do_not_contact_opt_out_at_send_time_window_and_missing_field_are_skipped_with_a_reason():
    ledger, clock, seen = Ledger(), Clock(NOON), []
    folks = people(4) + [Recipient("+8613900000000", {}), Recipient("+861062345678", {"name": "北京座机"})]
    box = outbox(accept(seen), ledger, clock, blocked={folks[0].phone}, rate=2.0)  # a turn each 0.5 s
    asked = []

    async def blocked(phone: str) -> bool:
        asked.append(phone)
        if phone == folks[1].phone:  # while the batch runs, the third customer replies TD
            ledger.rows["x"] = facts.opt_out(folks[2].phone, "TD", clock.now())
        return phone == folks[0].phone

    box.blocked = blocked
    tally = asyncio.run(box.run(folks))
    assert asked == [f.phone for f in folks[:4]]  # the missing field and the fixed line were skipped before
    assert [p["to"] for p in seen] == [folks[1].phone, folks[3].phone]
    assert tally.skipped == Counter({"dnc": 1, "opted_out": 1, "bad": 1, "landline": 1})
    assert {f.data["reason"] for f in ledger.of("sms.skipped")} == {"dnc", "opted_out", "bad", "landline"}
    night = Clock(NOON + 11 * 3600)  # 23:00 in Shanghai
    late = asyncio.run(outbox(accept(seen), Ledger(), night).run(people(2)))
    assert late.skipped == Counter({"window": 2}) and late.sent == 0
    ny = Recipient("+12125550100", {"name": "Ann"}, tz="America/New_York")  # 23:00 Shanghai is 10:00 there
    assert asyncio.run(outbox(accept(seen), Ledger(), night).run([ny])).sent == 1


def test_a_gateway_down_is_waited_for_then_the_batch_stops_and_a_refusal_of_us_stops_at_once():
    ledger, clock, calls = Ledger(), Clock(NOON), []

    def flaky(request: httpx.Request) -> httpx.Response:
        calls.append(clock.t)
        if len(calls) <= 3:
            raise httpx.ConnectError("refused")
        if len(calls) == 4:
            return httpx.Response(503, text="Temporal failure, try again later.")
        return httpx.Response(202, text="0: Accepted for delivery")

    assert asyncio.run(outbox(flaky, ledger, clock).run(people(1))).sent == 1
    assert clock.slept == [1.0, 2.0, 4.0, 8.0] and len(calls) == 5

    def dead(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused")

    dead_ledger = Ledger()
    stopped = asyncio.run(outbox(dead, dead_ledger, Clock(NOON), retry_for=30.0).run(people(3)))
    assert stopped.sent == 0 and "down for 30 s" in stopped.stopped
    assert dead_ledger.of("sms.sent") == [] and len(dead_ledger.of("sms.sending")) >= 1  # a rerun knows what began

    def wrong(request: httpx.Request) -> httpx.Response:
        return httpx.Response(403, text="Authorization failed for sendsms")

    with pytest.raises(GatewayRefusesUs, match="refuses user 'u'"):
        asyncio.run(outbox(wrong, Ledger(), Clock(NOON)).run(people(1)))


def test_a_send_with_no_answer_waits_for_its_delivery_report_before_it_is_sent_again():
    ledger, clock, tries = Ledger(), Clock(NOON), []

    def lost_answer(request: httpx.Request) -> httpx.Response:
        if "to" not in request.url.params:
            return httpx.Response(400, text="Missing receiver number")
        to, attempt = request.url.params["to"], int(request.url.params["dlr-url"].split("&a=")[1].split("&")[0])
        tries.append((to, attempt))
        if to.endswith("0000") and attempt == 1:  # the gateway took it, then the answer was lost
            ledger.rows["d"] = facts.delivery("spring", to, 1, "smsc_ack", clock.now() + 2, "")
            raise httpx.RemoteProtocolError("Server disconnected without sending a response.")
        if to.endswith("0001") and attempt == 1:  # lost before the gateway took it: no report will come
            raise httpx.ReadError("connection reset")
        return httpx.Response(202, text="0: Accepted for delivery")

    tally = asyncio.run(outbox(lost_answer, ledger, clock).run(people(2)))
    assert tries == [("+8613800130000", 1), ("+8613800130001", 1), ("+8613800130001", 2)]
    assert (tally.sent, tally.confirmed, tally.resent) == (2, 1, 1)
    sent = {f.data["phone"]: f.data for f in ledger.of("sms.sent")}
    assert sent["+8613800130000"]["confirmed"] == "dlr" and sent["+8613800130001"]["attempt"] == 2
    assert len(ledger.of("sms.uncertain")) == 2


def test_the_report_counts_a_message_on_its_sending_day_by_its_last_word():
    at = NOON
    rows = sms_report([
        facts.sent("c1", "+1", 1, at, 2, "ucs2"), facts.sent("c1", "+2", 2, at, 1, "gsm"),
        facts.sent("c1", "+3", 1, at, 1, "gsm"), facts.refused("c1", "+4", 1, at, "400"),
        facts.delivery("c1", "+1", 1, "smsc_ack", at + 1, ""), facts.delivery("c1", "+1", 1, "delivered", at + 2, ""),
        facts.delivery("c1", "+2", 2, "failed", at + 86400, ""),  # the next day: still the first day's message
        facts.skipped("c1", "+5", "opted_out", at, "2026-12-01"), facts.skipped("c1", "+6", "dnc", at, "2026-12-01"),
        facts.opt_out("+5", "TD", at), facts.sent("c2", "+1", 1, at, 1, "gsm"),
    ], ZoneInfo(TZ), "c1")  # fmt: skip
    by = {(r["day"], r["campaign"]): r for r in rows}
    c1 = by[("2026-12-01", "c1")]
    assert (c1["sent"], c1["parts"], c1["delivered"], c1["failed"], c1["pending"]) == (3, 4, 1, 2, 1)
    assert (c1["opted_out"], c1["skipped"], c1["resent"]) == (1, 1, 1)
    assert by[("2026-12-01", "*")]["opt_outs"] == 1 and ("2026-12-01", "c2") not in by


def test_a_run_killed_mid_send_is_finished_by_the_next_from_its_intents_and_reports():
    ledger, clock, seen = Ledger(), Clock(NOON), []
    a, b, c = people(3)
    # the killed run: it had written its intents to a and b, the gateway took a's (its report came), not b's
    for r in (a, b):
        ledger.rows[r.phone] = facts.sending("spring", r.phone, 1, NOON - 60, 1, "ucs2")
    ledger.rows["dlr"] = facts.delivery("spring", a.phone, 1, "delivered", NOON - 50, "")
    tally = asyncio.run(outbox(accept(seen), ledger, clock).run([a, b, c]))
    assert [p["to"] for p in seen] == [b.phone, c.phone]
    assert "&a=2&" in seen[0]["dlr-url"]  # b again, as its second attempt: a late report of the first tells which
    assert (tally.confirmed, tally.resent, tally.sent, tally.already) == (1, 1, 2, 1)
    sent = {f.data["phone"]: f.data for f in ledger.of("sms.sent")}
    assert sent[a.phone]["confirmed"] == "dlr" and sent[b.phone]["attempt"] == 2
    assert {(f.data["phone"], f.data["attempt"]) for f in ledger.of("sms.sending")} == {
        (a.phone, 1),
        (b.phone, 1),
        (b.phone, 2),
        (c.phone, 1),
    }


def test_the_wait_for_a_report_counts_from_when_the_gateway_answers_again():
    ledger, clock, sends, probes = Ledger(), Clock(NOON), [], []

    def restarting(request: httpx.Request) -> httpx.Response:
        if "to" not in request.url.params:
            probes.append(clock.t)
            if len(probes) <= 3:  # down for 1 + 2 + 4 s, longer than confirm_wait
                raise httpx.ConnectError("refused")
            # back: it delivers what it had stored, and the report follows a second later
            ledger.rows["d"] = facts.delivery("spring", "+8613800130000", 1, "smsc_ack", clock.t + 1, "")
            return httpx.Response(400, text="Missing receiver number")
        sends.append(request.url.params["to"])
        raise httpx.RemoteProtocolError("Server disconnected without sending a response.")

    tally = asyncio.run(outbox(restarting, ledger, clock, confirm_wait=2.0).run(people(1)))
    assert sends == ["+8613800130000"] and len(probes) == 4
    assert (tally.sent, tally.confirmed, tally.resent) == (1, 1, 0)


def test_a_refusal_of_one_number_goes_on_and_the_same_refusal_in_a_row_stops_the_batch():
    seen: list[dict] = []

    def unroutable(request: httpx.Request) -> httpx.Response:
        if request.url.params.get("to", "").endswith("0001"):
            return httpx.Response(403, text="Not routable. Do not try again.")
        return accept(seen)(request)

    tally = asyncio.run(outbox(unroutable, Ledger(), Clock(NOON)).run(people(4)))
    assert (tally.sent, tally.refused, tally.stopped) == (3, 1, "")

    ledger, sender_missing = Ledger(), True

    def no_sender(request: httpx.Request) -> httpx.Response:
        if sender_missing and "to" in request.url.params:
            return httpx.Response(400, text="Sender missing and no global set, rejected")
        return accept(seen)(request)

    stopped = asyncio.run(outbox(no_sender, ledger, Clock(NOON)).run(people(40)))
    assert "refused 5 messages in a row: 400 Sender missing" in stopped.stopped
    assert 5 <= stopped.refused <= 5 + IN_FLIGHT and stopped.total < 40 and stopped.sent == 0  # those in flight
    sender_missing = False  # the gateway mended: a run again sends to everyone, the refused ones too
    again = asyncio.run(outbox(no_sender, ledger, Clock(NOON)).run(people(40)))
    assert again.sent == 40 and again.stopped == ""
    rows = sms_report(ledger.rows.values(), ZoneInfo(TZ))
    assert (rows[0]["sent"], rows[0]["failed"]) == (40, 0)  # refused, then sent: not a failure


def test_a_number_that_is_not_one_is_skipped_and_the_rest_go():
    seen: list[dict] = []
    folks = [Recipient("anonymous", {"name": "?"}), Recipient("+86138", {"name": "?"}), *people(2)]
    tally = asyncio.run(outbox(accept(seen), Ledger(), Clock(NOON)).run(folks))
    assert tally.skipped == Counter({"bad_number": 2}) and tally.sent == 2


def test_a_gateway_down_while_a_run_resumes_stops_it_with_the_reason():
    ledger = Ledger()
    ledger.rows["s"] = facts.sending("spring", "+8613800130000", 1, NOON - 60, 1, "ucs2")

    def dead(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused")

    tally = asyncio.run(outbox(dead, ledger, Clock(NOON), retry_for=20.0).run(people(2)))
    assert tally.sent == 0 and "down for 20 s" in tally.stopped


def test_the_callbacks_secret_must_travel_in_a_url_unchanged(tmp_path: Path):
    from sms.settings import SmsSettingsError

    (tmp_path / "pw").write_text("p\n")
    values = {"gateway": "http://k/cgi-bin/sendsms", "password_file": "pw", "token_file": "tok",
              "callback_url": "http://e:8080"}  # fmt: skip
    (tmp_path / "tok").write_text("Ab+c/d==Ab+c/d==\n")
    with pytest.raises(SmsSettingsError, match="sms.token_file: the secret in .* must be 16 or more letters"):
        SmsSettings.of(values, tmp_path)
    (tmp_path / "tok").write_text("0123456789abcdef0123\n")
    assert SmsSettings.of(values, tmp_path).token == "0123456789abcdef0123"


def test_a_gateway_that_never_answers_a_send_stops_the_batch_after_five_tries():
    ledger, sends = Ledger(), []

    def mute(request: httpx.Request) -> httpx.Response:
        if "to" not in request.url.params:
            return httpx.Response(400, text="Missing receiver number")  # it answers the check, never a send
        sends.append(request.url.params["to"])
        raise httpx.ReadTimeout("timed out")

    tally = asyncio.run(outbox(mute, ledger, Clock(NOON), confirm_wait=2.0).run(people(3)))
    tries = Counter(sends)
    assert max(tries.values()) == 5 and "answered none of 5 sends" in tally.stopped  # not on and on
    first = tries.most_common(1)[0][0]
    assert tally.sent == 0 and len([f for f in ledger.of("sms.sending") if f.data["phone"] == first]) == 5
