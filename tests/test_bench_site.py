"""`hotline bench site`'s parts that need no Asterisk: the site it runs (the virtual day's, on the lab, a phone per
agent) and the recordings' check (every conversation saved, in stereo, at its length)."""

from pathlib import Path

from engine.config import load_site
from engine.model.facts import Fact
from sim import world
from sim.bench_site import HOTLINE_AGENTS, SEAT_PORT, SitePlan, check_recordings, site_text


def test_the_site_is_the_virtual_days_on_the_lab_with_a_phone_for_every_agent(tmp_path):
    f = tmp_path / "site.toml"
    f.write_text(site_text(SitePlan(agents=5), tmp_path))
    site = load_site(f)
    assert site["asterisk"]["lab"] is True and site["asterisk"]["trunk"] == "trunk"
    assert str(tmp_path / "site.db") in site["store"]["url"]
    contacts = {a.id: a.contact for a in site.agents}
    seats = world.outbound_agent_ids(5)
    assert contacts == {**{a: f"sip:agent{a}@127.0.0.1:{p}" for a, p in HOTLINE_AGENTS.items()},
                        **{a: f"sip:agent{a}@127.0.0.1:{SEAT_PORT + i}" for i, a in enumerate(seats)}}  # fmt: skip
    (campaign,) = site.campaigns
    assert list(campaign.agents) == seats and campaign.leads == "synthetic" and campaign.window == (0, 24 * 60)
    # the lab site's own phones keep their contacts: the lab stays right for its own site after a bench run
    lab = load_site(Path(__file__).resolve().parent.parent / "examples" / "lab-site.toml")
    assert all(contacts[a.id] == a.contact for a in lab.agents)


def _f(kind: str, at: float, call: str, uid: str = "", **data: object) -> Fact:
    return Fact(kind, at, call, uid or call, f"{kind}:{call}:{uid}:{at}", dict(data))


def test_every_conversation_needs_its_stereo_recording_at_its_length(tmp_path):
    wav = tmp_path / "x.opus"
    wav.write_bytes(b"x")
    facts = []

    def conversation(call: str, ended: float) -> list[Fact]:
        return [_f("outbound.connect", 10.0, call), _f("bridge.enter", 10.0, call), _f("channel.hangup", ended, call)]

    def saved(call: str, path: Path, seconds: float, channels: int) -> Fact:
        return _f("recording.saved", 50.0, call, "-", path=str(path), seconds=seconds, channels=channels)

    for call, seconds, channels in (("ok", 30.4, 2), ("short", 20.0, 2), ("mono", 30.0, 1)):
        facts += [*conversation(call, 40.0), saved(call, wav, seconds, channels)]
    facts += conversation("none", 12.0)
    facts += [*conversation("gone", 12.0), saved("gone", tmp_path / "no.opus", 2.0, 2)]
    records = [{"call_id": "in", "outcome": "answered", "connected_at": 100.0, "ended_at": 145.0},
               {"call_id": "left", "outcome": "abandoned", "connected_at": None, "ended_at": 101.0}]  # fmt: skip
    facts.append(saved("in", wav, 44.5, 2))
    got = check_recordings(facts, records, t0=4.0)
    # a short one comes with its span after the window's start, to set beside the machine's load then
    assert got["short"] == [{"call_id": "short", "from_s": 6.0, "to_s": 36.0, "missing_s": 10.0}]
    assert got["conversations"] == 6 and got["checked_ok"] == 2 and got["problem_count"] == 4
    assert sorted(got["problems"]) == sorted([
        "short: 20.0 s recorded for a 30.0-s conversation", "mono: 1 channel(s)", "none: no recording",
        f"gone: {tmp_path / 'no.opus'} is missing"])  # fmt: skip
