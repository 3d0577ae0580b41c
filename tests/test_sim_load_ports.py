"""`hotline sim load`'s SIPp processes: ports chosen without overlap and checked free, and a SIPp's end judged by
its own exit code, statistics and reason (real SIPp, no Asterisk: it dials a loopback port nobody answers)."""

import asyncio
import socket
from pathlib import Path
from types import SimpleNamespace

import pytest

from sim import ports, sipp_run
from sim.load import LoadPlan, LoadRefused, problems, run_load


def _held(port: int, host: str = "127.0.0.1") -> socket.socket:
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((host, port))
    return s


def _free_base() -> int:
    """A 64-port stretch of the media range free now (other tests may hold some of it)."""
    for base in range(ports.MEDIA_RANGE[0], ports.MEDIA_RANGE[1] - 64, 64):
        if all(ports.udp_free(p) for p in range(base, base + 64)):
            return base
    raise AssertionError("no free stretch in the media range")


def test_media_blocks_for_fifty_phones_never_overlap_and_skip_a_port_in_use():
    base = _free_base()
    held = _held(base + 2)  # the first block's second port is taken by someone else
    try:
        plan = ports.PortPlan(reserved=[base + 5], media=(base, ports.MEDIA_RANGE[1]))
        got = [plan.media(f"agent-{i}") for i in range(50)]
    finally:
        held.close()
    bound = [p for m in got for p in (m, m + 2)]
    assert len(set(bound)) == len(bound)  # no two phones share a port
    assert base not in got  # its block held a taken port
    assert base + 4 not in got  # ... and this one the reserved port
    assert min(got) == base + 8
    assert all(ports.MEDIA_RANGE[0] <= m and m + 3 < ports.MEDIA_RANGE[1] for m in got)
    controls = [plan.control(f"p{i}") for i in range(52)]
    assert len(set(controls)) == 52 and not set(controls) & set(bound)


def test_a_range_that_runs_out_names_who_wanted_the_port():
    base = _free_base()
    plan = ports.PortPlan(media=(base, base + 8))
    plan.media("agent-1")
    plan.media("agent-2")
    with pytest.raises(ports.PortError, match="no free media ports left for agent-3"):
        plan.media("agent-3")


def test_sip_ports_twice_or_taken_are_refused_with_both_owners():
    with pytest.raises(ports.PortError, match="SIP port 5099 is wanted by both agent 1 and agent 2"):
        ports.check_sip_ports([("agent 1", 5099), ("agent 2", 5099)])
    base = _free_base()
    held = _held(base)
    try:
        with pytest.raises(ports.PortError, match=rf"already in use on 127.0.0.1: {base} \(agent 7\)"):
            ports.check_sip_ports([("agent 6", base + 1), ("agent 7", base)])
    finally:
        held.close()


def _silent_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # closed again: nobody answers there


def test_a_sipp_that_cannot_bind_its_media_port_ends_with_sipps_own_reason(tmp_path: Path):
    base = _free_base()
    held = _held(base)
    try:
        end = asyncio.run(sipp_run.run("caller-x", [f"127.0.0.1:{_silent_port()}", "-sn", "uac", "-m", "1",
                                                    "-i", "127.0.0.1", "-p", str(base + 10), "-mp", str(base),
                                                    "-nostdin", "-timeout", "10s"], tmp_path, 1e12))  # fmt: skip
    finally:
        held.close()
    assert end.rc == 254 and not end.asked_to_stop
    assert f"Unable to bind audio RTP socket (IP=127.0.0.1, port={base})" in end.reason
    assert "Address already in use" in end.reason
    lines = problems([end], [], placed=0, planned=1)
    assert lines[0].startswith("caller-x: SIPp failed (exit 254, fatal error binding a socket: Unable to bind")
    assert lines[1] == "no call was placed of the 1 planned"


def test_failed_calls_are_counted_from_sipps_statistics_and_make_the_run_fail(tmp_path: Path):
    base = _free_base()
    end = asyncio.run(sipp_run.run("caller-y", [f"127.0.0.1:{_silent_port()}", "-sn", "uac", "-m", "2", "-r", "2",
                                                "-i", "127.0.0.1", "-p", str(base + 10), "-mp", str(base),
                                                "-recv_timeout", "1500", "-nostdin", "-timeout", "20s"],
                                   tmp_path, 1e12))  # fmt: skip
    assert end.rc == 1
    assert end.failed_calls == 2 and end.stats["SuccessfulCall"] == 0
    assert end.failures() == {"FailedTimeoutOnRecv": 2}
    assert "receive timeout" in end.reason and "aborting call" in end.reason
    (line,) = problems([end], [], placed=2, planned=2)
    assert line.startswith("caller-y: 2 failed call(s) {'FailedTimeoutOnRecv': 2} (exit 1, at least one call")
    # a chaos run's faults fail calls on purpose: only what breaks the run itself is left
    assert problems([end], [], placed=2, planned=2, failed_calls=False) == []


def test_a_phone_that_exits_before_the_run_ends_is_a_problem_and_one_stopped_is_not(tmp_path: Path):
    base = _free_base()
    stop = asyncio.Event()

    async def two_phones() -> tuple[sipp_run.SippEnd, sipp_run.SippEnd]:
        uas = ["-sn", "uas", "-i", "127.0.0.1", "-nostdin", "-timeout", "30s"]
        up = asyncio.create_task(sipp_run.run("agent-up", [*uas, "-p", str(base + 20), "-mp", str(base)],
                                              tmp_path, 1e12, stop))  # fmt: skip
        for _ in range(100):  # the first phone holds its SIP port before the second one tries it
            if not ports.udp_free(base + 20):
                break
            await asyncio.sleep(0.05)
        # the second phone's SIP port is the first one's: it cannot bind and exits at once
        down = asyncio.create_task(sipp_run.run("agent-down", [*uas, "-p", str(base + 20), "-mp", str(base + 4)],
                                                tmp_path, 1e12, stop))  # fmt: skip
        await asyncio.sleep(1.5)
        stop.set()
        return await up, await down

    up, down = asyncio.run(two_phones())
    assert up.asked_to_stop and not down.asked_to_stop
    (line,) = problems([], [up, down], placed=0, planned=0)[:1]
    assert line.startswith(f"agent-down: SIPp exited before the run ended (exit {down.rc}")
    assert "agent-up" not in " ".join(problems([], [up, down], placed=0, planned=0))


def test_a_site_whose_agent_contact_port_is_taken_is_refused_before_any_sipp_starts(tmp_path: Path):
    base = _free_base()
    held = _held(base)
    site = SimpleNamespace(agents=[SimpleNamespace(id="1001", contact=f"sip:agent1001@127.0.0.1:{base}")])
    try:
        with pytest.raises(ports.PortError, match=rf"{base} \(agent 1001 \(its contact\)\)"):
            asyncio.run(run_load(LoadPlan(calls=2, seconds=5), site, tmp_path, store=None))
    finally:
        held.close()
    assert not list(tmp_path.glob("*.stat.csv"))  # no SIPp was started


def test_a_contact_without_a_port_is_named_rather_than_crashing(tmp_path: Path):
    site = SimpleNamespace(agents=[SimpleNamespace(id="1007", contact="sip:agent1007@127.0.0.1")])
    with pytest.raises(LoadRefused, match="agent 1007: contact 'sip:agent1007@127.0.0.1' names no port"):
        asyncio.run(run_load(LoadPlan(calls=2, seconds=5), site, tmp_path, store=None))


def test_a_sipp_without_its_own_sip_port_is_refused_before_it_starts(tmp_path: Path):
    """SIPp without -p, or with -p 0, binds 5060 when it is free: during an Asterisk restart it took Asterisk's
    port, and Asterisk came up with no SIP transport. The runner names the port or refuses to start SIPp."""
    assert sipp_run.sip_port(["-sn", "uas", "-i", "127.0.0.1", "-p", "5071"]) == 5071
    for args in (["-sn", "uas", "-i", "127.0.0.1"], ["-sn", "uas", "-p", "0"], ["-sn", "uas", "-p"]):
        with pytest.raises(ValueError, match="binds 5060"):
            asyncio.run(sipp_run.run("no-port", args, tmp_path, 1e12))
    assert not list(tmp_path.iterdir()), "nothing started: no stderr file was opened"


def test_talk_and_patience_reach_the_phones_and_the_callers(capsys):
    """`--talk` is how long every agent's phone talks, `--patience` how long every caller waits: a capacity run
    (conversations of ten minutes) is made of these two; zero is refused with the options named."""
    from engine.cli import build_parser
    from engine.cli.sim import load_plan

    parse = build_parser().parse_args
    plan = load_plan(parse(["sim", "load", "--talk", "600", "--patience", "700"]))
    assert plan.default_agent.talk == 600.0 and plan.default_agent.answer == (0.3, 1.5)
    assert [(c.share, c.patience) for c in plan.callers] == [(1.0, 700.0)]
    plain = load_plan(parse(["sim", "load"]))
    assert plain.default_agent.talk == 2.0 and [c.patience for c in plain.callers] == [40.0, 6.0]
    with pytest.raises(SystemExit) as end:
        load_plan(parse(["sim", "load", "--patience", "0"]))
    assert end.value.code == 2 and "--talk and --patience must be above 0" in capsys.readouterr().err
