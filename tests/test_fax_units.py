"""Fax without Asterisk: the lines, the jobs' fold, the images with Debian's tools, the service on fakes (a call
in refused or received, a job dialed, retried on busy and sent, a dial the last run left open), cases from
faxes and the checks of [fax] and of `hotline fax send`."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from cases.sources import Join, Opening, read
from engine.asterisk.agi_codec import Environment
from engine.asterisk.ami_codec import Frame
from engine.model.calls import CallModel
from engine.model.facts import Fact
from fax import facts as ff
from fax.images import ImageError, pdf_to_tiff, tiff_pages, tiff_to_pdf
from fax.lines import Lines
from fax.report import fold, summary
from fax.services import FaxService
from fax.settings import FaxSettings
from tests.faxes import differing, make_pdf, raster
from tests.test_sms_units import Clock, Ledger

ROOT = Path(__file__).resolve().parents[1]
T0 = 1_800_000_000.0


def test_lines_hold_both_ways_refuse_calls_in_when_full_and_queue_sends_in_order():
    lines = Lines(2)
    for job in ("a", "b", "c"):
        lines.wait(job)
    assert lines.next_out() == "a"
    lines.dialing("a", "a-1")
    assert lines.take_in("call-1") and lines.free == 0
    assert lines.next_out() is None  # b waits: every line is held, one each way
    assert not lines.take_in("call-2") and lines.refused == 1
    assert lines.release("call-1") and not lines.release("call-1")
    assert lines.next_out() == "b" and lines.next_out() is None
    assert lines.release("a-1") and lines.next_out() == "c"
    assert lines.most == 2


def _fact(kind: str, at: float, fid: str, key: str, **data: Any) -> Fact:
    return Fact(kind, at, fid, fid, key, data)


def test_a_job_folds_from_its_facts_through_a_busy_dial_to_sent():
    job = "fx0123456789"
    facts = [
        _fact(ff.QUEUED, T0, job, ff.queued_key(job), number="+861088880000", pages=3, pdf="/f/x.pdf", case=""),
        _fact(ff.ATTEMPT, T0 + 40, job, ff.attempt_key(job, 1), attempt=1),
        _fact(
            ff.ATTEMPT_END,
            T0 + 45,
            job,
            ff.attempt_end_key(job, 1),
            attempt=1,
            outcome="busy",
            reason="busy (cause 17)",
            retry_at=T0 + 165,
        ),  # fmt: skip
    ]
    row = fold(facts)[job]
    assert (row.status, row.attempts, row.next_at, row.waited) == ("waiting", 1, T0 + 165, 40.0)
    facts += [_fact(ff.ATTEMPT, T0 + 170, job, ff.attempt_key(job, 2), attempt=2),
              _fact(ff.DONE, T0 + 260, job, ff.done_key(job), result="sent", way="out", pages=3)]  # fmt: skip
    row = fold(facts)[job]
    assert (row.status, row.attempts, row.ended_at, row.pages) == ("sent", 2, T0 + 260, 3)
    assert [h["event"] for h in row.history] == ["dialed", "busy", "dialed"]
    refused = _fact(ff.REFUSED, T0, "1.5", ff.REFUSED + ":1.5", number="+8613800000000", reason="all 4 fax lines")
    s = summary(list(fold([*facts, refused]).values()))
    assert s["sent"] == 1 and s["refused_busy"] == 1 and s["pages_sent"] == 3


def test_a_pdf_becomes_a_fax_tiff_and_back_page_for_page(tmp_path):
    pdf = make_pdf(tmp_path / "three.pdf", 3)
    assert pdf_to_tiff(pdf, tmp_path / "three.tif") == 3 == tiff_pages(tmp_path / "three.tif")
    tiff_to_pdf(tmp_path / "three.tif", tmp_path / "back.pdf")
    sent, back = raster(pdf, tmp_path / "a"), raster(tmp_path / "back.pdf", tmp_path / "b")
    assert len(back) == 3
    assert all(differing(s, b) < 0.005 for s, b in zip(sent, back, strict=True))
    assert differing(sent[0], back[1]) > 0.01  # the comparison tells pages apart
    (tmp_path / "not.pdf").write_text("hello")
    with pytest.raises(ImageError, match="not.pdf: gs failed"):
        pdf_to_tiff(tmp_path / "not.pdf", tmp_path / "not.tif")
    assert not (tmp_path / "not.tif").exists() and not (tmp_path / "not.tif.part").exists()


# ---- the service on fakes ---------------------------------------------------------------------------------------
class Actions:
    def __init__(self) -> None:
        self.ready = asyncio.Event()
        self.ready.set()
        self.sent: list[dict[str, Any]] = []
        self.fail: Exception | None = None

    async def action(self, headers: dict[str, Any], **_: Any) -> Any:
        self.sent.append(headers)
        if self.fail is not None:
            raise self.fail


class Calls:
    def __init__(self) -> None:
        self.model = CallModel()

    async def caught_up(self, timeout: float) -> bool:
        return True


class Spawner:
    def __init__(self) -> None:
        self.tasks: list[asyncio.Task[Any]] = []

    def spawn(self, coro: Any, name: str) -> asyncio.Task[Any]:
        t = asyncio.ensure_future(coro)
        self.tasks.append(t)
        return t

    async def settle(self) -> None:
        while any(not t.done() for t in self.tasks):
            await asyncio.gather(*self.tasks)


class Agi:
    def __init__(self, uid: str, *args: str, callerid: str = "+861066660000") -> None:
        values = {"agi_uniqueid": uid, "agi_channel": "PJSIP/trunk-1", "agi_callerid": callerid}
        values.update({f"agi_arg_{i}": a for i, a in enumerate(args, 1)})
        self.env = Environment(values)
        self.uniqueid, self.channel = uid, "PJSIP/trunk-1"
        self.done: list[tuple[str, ...]] = []

    async def set_variable(self, name: str, value: str) -> None:
        self.done.append(("set", name, value))

    async def goto(self, context: str, exten: str, priority: str = "1") -> None:
        self.done.append(("goto", context, exten))


def _service(tmp_path: Path, lines: int = 1, case: str = "") -> tuple[FaxService, Ledger, Actions, Spawner, Clock]:
    s = FaxSettings(numbers=frozenset({"4001234599"}), lines=lines, station_id="+86 400 123 4599", trunk="trunk",
                    caller_id="", asterisk_dir="/var/spool/asterisk/fax", local_dir=tmp_path, attempts=2,
                    retry_wait=120.0, ring_timeout=60)  # fmt: skip
    ledger, actions, spawner, clock = Ledger(), Actions(), Spawner(), Clock(T0)

    async def case_of(number: str) -> str:
        return case

    ledger.fact = _fact_writer(ledger, clock)  # type: ignore[method-assign]
    fax = FaxService(s, actions=actions, calls=Calls(), ledger=ledger, spawner=spawner, clock=clock,
                     case_of=case_of)  # fmt: skip
    return fax, ledger, actions, spawner, clock


def _fact_writer(ledger: Ledger, clock: Clock) -> Any:
    async def fact(kind: str, call_id: str, uniqueid: str, key: str, **data: Any) -> None:
        await ledger.record([Fact(kind, clock.now(), call_id, uniqueid, key, data)])

    return fact


def test_a_call_in_takes_the_free_line_the_next_is_answered_busy_and_the_fax_is_kept_as_a_pdf(tmp_path):
    fax, ledger, _, spawner, _ = _service(tmp_path, case="c123")
    first, second = Agi("1.1", "4001234599"), Agi("1.2", "+4001234599")

    async def go() -> None:
        await fax.receive(first)
        await fax.receive(second)
        # Asterisk writes the TIFF; its hang-up handler reports
        pdf_to_tiff(make_pdf(tmp_path / "doc.pdf", 2), tmp_path / "in" / "1.1.tif")
        await fax.done(Agi("1.1", "in", "SUCCESS", "OK", "", "2", "%2B86%2010%205555", "14400", "204x196"))
        await spawner.settle()

    asyncio.run(go())
    assert ("goto", "engine-fax-in", "s") in first.done
    assert ("set", "HOTLINE_FAX_FILE", "/var/spool/asterisk/fax/in/1.1.tif") in first.done
    assert second.done == [("goto", "engine-fax-in", "busy")]
    (refused,) = ledger.of(ff.REFUSED)
    assert refused.data["reason"] == "all 1 fax lines in use"
    (done,) = ledger.of(ff.DONE)
    assert done.data["result"] == "received" and done.data["pages"] == 2 and done.data["station"] == "+86 10 5555"
    assert done.data["case"] == "c123" and Path(done.data["pdf"]).exists()
    assert not (tmp_path / "in" / "1.1.tif").exists() and fax.lines.free == 1


def test_a_fax_cut_off_mid_page_is_failed_with_asterisks_words_and_keeps_no_image(tmp_path):
    fax, ledger, _, spawner, _ = _service(tmp_path)

    async def go() -> None:
        await fax.receive(Agi("1.1", "4001234599"))
        (tmp_path / "in" / "1.1.tif").write_bytes(b"II*\x00half")
        await fax.done(Agi("1.1", "in", "FAILED", "Disconnected%20after%20permitted%20retries", "HANGUP", "1", ""))
        await spawner.settle()

    asyncio.run(go())
    (done,) = ledger.of(ff.DONE)
    assert done.data["result"] == "failed" and done.data["reason"] == "HANGUP: Disconnected after permitted retries"
    assert "pdf" not in done.data and list((tmp_path / "in").iterdir()) == []


def _queue(ledger: Ledger, job: str, at: float, pages: int = 2) -> None:
    ledger.rows[job] = _fact(ff.QUEUED, at, job, ff.queued_key(job), number="+861088880000", pages=pages,
                             pdf=f"/x/out/{job}.pdf", tiff=f"/var/spool/asterisk/fax/out/{job}.tif",
                             case="c9")  # fmt: skip


def _dialing(ledger: Ledger, job: str) -> None:
    """A job the last run queued and dialed once, with no end written."""
    _queue(ledger, job, T0 - 100)
    ledger.rows["a1"] = _fact(ff.ATTEMPT, T0 - 90, job, ff.attempt_key(job, 1), attempt=1)


def test_jobs_wait_for_a_line_are_dialed_again_after_busy_and_end_sent(tmp_path):
    fax, ledger, actions, spawner, clock = _service(tmp_path, lines=1)
    a, b = "fx00000000aa", "fx00000000bb"
    _queue(ledger, a, T0 - 2)
    _queue(ledger, b, T0 - 1)

    async def go() -> None:
        await fax.step()
        assert [x["ChannelId"] for x in actions.sent] == [f"{a}-1"]  # b waits for the one line
        fax.on_frame(Frame([("Event", "Hangup"), ("Uniqueid", f"{a}-1"), ("Cause", "17")]))
        await spawner.settle()
        await fax.step()
        assert [x["ChannelId"] for x in actions.sent] == [f"{a}-1", f"{b}-1"]
        fax.on_frame(Frame([("Event", "Newstate"), ("Uniqueid", f"{b}-1"), ("ChannelState", "6")]))
        await fax.done(Agi(f"{b}-1", "out", "SUCCESS", "OK", "", "2", "REMOTE"))
        await spawner.settle()
        clock.t += 121
        await fax.step()

    asyncio.run(go())
    sent = actions.sent[-1]
    assert sent["ChannelId"] == f"{a}-2" and sent["Channel"] == "PJSIP/+861088880000@trunk"
    assert f"HOTLINE_FAX_FILE=/var/spool/asterisk/fax/out/{a}.tif" in sent["Variable"]
    ends = {f.key: f.data for f in ledger.of(ff.ATTEMPT_END)}
    assert ends[ff.attempt_end_key(a, 1)]["outcome"] == "busy" and ends[ff.attempt_end_key(a, 1)]["retry_at"]
    (done,) = ledger.of(ff.DONE)
    assert done.call_id == b and done.data["result"] == "sent" and done.data["case"] == "c9"
    assert read(done, None, {}) == Join("c9", b, done.at, "fax")  # type: ignore[arg-type]


def test_a_dial_the_last_run_left_open_is_ended_uncertain_not_sent_again(tmp_path):
    fax, ledger, actions, _, _ = _service(tmp_path)
    job = "fx00000000cc"
    _dialing(ledger, job)

    async def go() -> None:
        await fax._recover()
        await fax.step()

    asyncio.run(go())
    assert actions.sent == []
    (done,) = ledger.of(ff.DONE)
    assert done.data["result"] == "uncertain" and "engine was away" in done.data["reason"]


def test_a_fax_received_opens_a_follow_up_case_unless_it_joins_one():
    f = _fact(ff.DONE, T0, "1.1", ff.done_key("1.1"), way="in", result="received", number="+861066660000", pages=2,
              station="ACME", case="")  # fmt: skip
    got = read(f, None, {})  # type: ignore[arg-type]
    assert isinstance(got, Opening) and (got.kind, got.source, got.number) == ("follow_up", "fax", "+861066660000")
    assert got.note == "fax of 2 page(s) from station ACME"
    joined = Fact(f.kind, f.at, f.call_id, f.uniqueid, f.key, {**f.data, "case": "c77"})
    assert read(joined, None, {}) == Join("c77", "1.1", T0, "fax")  # type: ignore[arg-type]
    failed = Fact(f.kind, f.at, f.call_id, f.uniqueid, f.key, {**f.data, "result": "failed"})
    assert read(failed, None, {}) is None  # type: ignore[arg-type]
    # the fax machine's call itself is no contact with the customer; a call to the hotline is
    call = _fact("channel.new", T0, "1.1", "channel.new:1.1", role="caller", caller="+861066660000", exten="4001234599")
    faxes = frozenset({"4001234599"})
    assert read(call, None, {}, faxes) is None  # type: ignore[arg-type]
    hotline = Fact(call.kind, call.at, call.call_id, call.uniqueid, call.key, {**call.data, "exten": "4001234567"})
    assert read(hotline, None, {}, faxes) is not None  # type: ignore[arg-type]


def _site(tmp_path: Path, fax: str) -> Path:
    text = (ROOT / "examples" / "lab-site.toml").read_text()
    site = tmp_path / "site.toml"
    site.write_text(text + "\n" + fax)
    return site


def test_the_fax_section_and_the_send_command_name_what_is_wrong(tmp_path):
    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "engine.cli", *args], capture_output=True, text=True, cwd=ROOT,
                              timeout=120)  # fmt: skip

    bad = _site(tmp_path, '[fax]\nnumbers = ["4001", "4001", "x1"]\nstation_id = "ACME FAX"\n')
    r = cli("check", str(bad))
    assert r.returncode != 0
    assert "fax.numbers" in r.stdout + r.stderr and "'x1' is not a phone number" in r.stdout + r.stderr
    assert "fax.station_id" in r.stdout + r.stderr
    none = _site(tmp_path, "")
    r = cli("fax", "send", "+861088880000", str(ROOT / "README.md"), "--site", str(none))
    assert r.returncode == 2 and "fax.numbers is empty" in r.stderr
    site = _site(tmp_path, f'[fax]\nnumbers = ["4001234599"]\nlocal_dir = "{tmp_path / "fax"}"\n')
    site.write_text(site.read_text().replace("sqlite+aiosqlite:///", f"sqlite+aiosqlite:///{tmp_path}/", 1))
    (tmp_path / "letter.pdf").write_text("not a pdf at all")
    r = cli("fax", "send", "+861088880000", str(tmp_path / "letter.pdf"), "--site", str(site))
    assert r.returncode == 2 and "letter.pdf: gs failed" in r.stderr, r.stderr
    r = cli("fax", "send", "12ab", str(tmp_path / "letter.pdf"), "--site", str(site))
    assert r.returncode == 2 and "'12ab' is not a phone number" in r.stderr
    make_pdf(tmp_path / "two.pdf", 2)
    r = cli("fax", "send", "+861088880000", str(tmp_path / "two.pdf"), "--site", str(site))
    assert r.returncode == 0 and "queued: 2 page(s) to" in r.stdout and "88880000" not in r.stdout, r.stderr
    job = r.stdout.split()[1]
    r = cli("fax", "show", job, "--json", "--site", str(site))
    assert r.returncode == 0 and '"status": "queued"' in r.stdout and '"pages": 2' in r.stdout
    assert (tmp_path / "fax" / "out" / f"{job}.tif").exists()


def test_a_fax_in_whose_end_the_engine_missed_is_indexed_from_what_asterisk_kept_as_uncertain(tmp_path):
    fax, ledger, _, _, _ = _service(tmp_path)
    kept, lost = tmp_path / "in" / "2.1.tif", tmp_path / "in" / "2.2.tif"
    kept.parent.mkdir(parents=True)
    pdf_to_tiff(make_pdf(tmp_path / "doc.pdf", 2), kept)
    for uid, path in (("2.1", kept), ("2.2", lost)):
        ledger.rows[uid] = _fact(ff.RECEIVING, T0 - 60, uid, f"{ff.RECEIVING}:{uid}", number="+861066660000",
                                 file=str(path))  # fmt: skip
    asyncio.run(fax._recover())
    done = {f.call_id: f.data for f in ledger.of(ff.DONE)}
    assert done["2.1"]["result"] == "uncertain" and done["2.1"]["pages"] == 2 and Path(done["2.1"]["pdf"]).exists()
    assert "engine was away" in done["2.1"]["reason"]
    assert done["2.2"]["result"] == "failed" and "no page kept" in done["2.2"]["reason"]
    assert fax.lines.free == 1


def test_an_answered_dial_with_no_word_ends_uncertain_and_an_unanswered_originate_is_dialed_again(tmp_path):
    from engine.asterisk.ami_link import AmiTimeout

    fax, ledger, actions, spawner, clock = _service(tmp_path, lines=2)
    a, b = "fx00000000dd", "fx00000000ee"
    _queue(ledger, a, T0 - 2)

    async def go() -> None:
        await fax.step()
        fax.on_frame(Frame([("Event", "Newstate"), ("Uniqueid", f"{a}-1"), ("ChannelState", "6")]))
        fax.on_frame(Frame([("Event", "Hangup"), ("Uniqueid", f"{a}-1"), ("Cause", "16")]))  # no fax-done
        await spawner.settle()
        actions.fail = AmiTimeout("no response in 10 s")
        _queue(ledger, b, T0 - 1)
        await fax.step()
        actions.fail = None
        assert fax.lines.held == {f"{b}-1": "out"}  # Asterisk may be dialing: the line stays held
        await spawner.settle()  # its ring time passes and Asterisk never showed it
        clock.t += 121
        await fax.step()

    asyncio.run(go())
    done = {f.call_id: f.data for f in ledger.of(ff.DONE)}
    assert done[a]["result"] == "uncertain" and "no word" in done[a]["reason"]
    assert [x["ChannelId"] for x in actions.sent] == [f"{a}-1", f"{b}-1", f"{b}-2"]  # a never again, b again


def test_the_last_runs_dial_reported_before_the_sender_took_its_jobs_up_ends_with_that_word(tmp_path):
    fax, ledger, actions, spawner, _ = _service(tmp_path)
    job = "fx00000000ff"
    _dialing(ledger, job)

    async def go() -> None:
        await fax.done(Agi(f"{job}-1", "out", "SUCCESS", "OK", "", "2", "FAR"))
        await spawner.settle()
        await fax._recover()

    asyncio.run(go())
    (done,) = ledger.of(ff.DONE)
    assert done.data["result"] == "sent" and done.data["station"] == "FAR" and fax.lines.free == 1


def test_a_fax_folder_that_cannot_be_written_refuses_the_call_naming_it_and_keeps_no_line(tmp_path):
    (tmp_path / "in").write_text("a file where the folder should be")
    fax, ledger, _, _, _ = _service(tmp_path)
    agi = Agi("3.1", "4001234599")
    asyncio.run(fax.receive(agi))
    (refused,) = ledger.of(ff.REFUSED)
    assert refused.data["reason"].startswith(f"cannot use {tmp_path / 'in'}")
    assert agi.done == [("goto", "engine-fax-in", "busy")] and fax.lines.free == 1
