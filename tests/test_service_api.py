"""The service API: the policy decides who may act on whom, the owning feature carries it out, and every
request, done or refused, is a ledger fact with its actor."""

import asyncio

import pytest

from acd.agent_state import InvalidTransition
from acd.monitoring import Monitor, spy_legs, spy_originate
from engine.asterisk.ami_codec import Frame
from engine.asterisk.ami_link import AmiError
from engine.clock import VirtualClock
from engine.policy import Actor, Policy, Role
from engine.service_api import Backends, Request, ServiceApi

GROUPS = {"a1": frozenset({"north"}), "a2": frozenset({"south"}), "a3": frozenset()}


class Floor:
    """The features behind the API, as fakes that remember what they were asked."""

    def __init__(self) -> None:
        self.calls: list[tuple] = []
        self.facts: list = []
        self.on_call = {"a1"}
        self.channels: list[Frame] = []  # what Asterisk lists (CoreShowChannels)
        self.gone: set[str] = set()  # listed, but hung up before the engine's Hangup reaches Asterisk

    async def agent(self, agent: str, action: str, arg: str) -> str:
        if action == "logout" and agent in self.on_call:
            raise InvalidTransition(f"{agent}: cannot log out while on_call")
        self.calls.append(("acd", agent, action, arg))
        return f"{agent} {action}"

    async def outbound(self, agent: str, action: str, arg: str) -> str:
        self.calls.append(("dialer", agent, action, arg))
        return "ok"

    async def ami(self, headers: dict, *, as_list: bool = False, timeout: float | None = None) -> list[Frame] | None:
        if headers["Action"] == "CoreShowChannels":
            assert as_list
            return [Frame([("Response", "Success"), ("EventList", "start")]), *self.channels,
                    Frame([("Event", "CoreShowChannelsComplete"), ("EventList", "Complete")])]  # fmt: skip
        if headers["Action"] == "Hangup":
            if headers["Channel"] in self.gone:
                raise AmiError("AMI Hangup: No such channel")
            self.calls.append(("hangup", headers["Channel"]))
            return None
        self.calls.append(("ami", headers["Channel"], headers["Data"]))
        return None

    async def record(self, facts: list) -> None:
        self.facts.extend(facts)

    def api(self) -> ServiceApi:
        monitor = Monitor(self.ami, {"a1": "ep1", "a2": "ep2", "a3": "ep3"}, lambda a: a in self.on_call)

        async def reload() -> str:
            return "menu reloaded"

        return ServiceApi(Policy(lambda a: GROUPS.get(a, frozenset())),
                          Backends(self.agent, self.outbound, monitor, reload), self.record, VirtualClock(),
                          frozenset(GROUPS), refusals=(ValueError, InvalidTransition))  # fmt: skip


AGENT = Actor("a2", Role.AGENT, via="phone")
LEAD = Actor("lena", Role.TEAM_LEAD, via="web", teams=frozenset({"north"}), phone="lead1")
QA = Actor("quinn", Role.QA, via="web", phone="qa1")
ADMIN = Actor("root", Role.ADMIN, via="cli")


def _do(floor: Floor, actor: Actor, req: Request):  # type: ignore[no-untyped-def]
    return asyncio.run(floor.api().do(actor, req))


@pytest.mark.parametrize(("actor", "req", "why"), [
    (AGENT, Request("pause", "a1", "lunch"), "pause is the agent's own action: a2 may not take it for a1"),
    (AGENT, Request("force_pause", "a1"), "an agent may not force pause another agent"),
    (AGENT, Request("reload"), "only an admin may reload"),
    (LEAD, Request("force_logout", "a2"), "a2 is not in a team lena leads"),
    (LEAD, Request("pause", "a1"), "pause is the agent's own action: lena may not take it for a1"),
    (QA, Request("barge", "a1"), "QA staff may listen, not barge"),
    (Actor("mo", Role.MANAGER, via="web"), Request("listen", "a1"), "listen needs the phone to listen on: mo has none"),
    (ADMIN, Request("force_pause", "a9"), "no agent 'a9' in the site file"),
    (ADMIN, Request("teleport", "a1"), "unknown action 'teleport'"),
])  # fmt: skip
def test_the_policy_refuses_and_says_why_and_nothing_is_carried_out(actor, req, why):
    floor = Floor()
    out = _do(floor, actor, req)
    assert (out.ok, out.refused_by, out.text) == (False, "policy", why)
    assert floor.calls == []
    (fact,) = floor.facts
    assert fact.kind == "action" and fact.data["actor"] == actor.id and fact.data["via"] == actor.via
    assert fact.data["ok"] is False and fact.data["result"] == why


def test_each_action_reaches_the_feature_that_owns_it_with_its_actor_in_the_ledger():
    floor = Floor()
    api = floor.api()

    async def go() -> list:
        return [
            await api.do(AGENT, Request("pause", "a2", "lunch")),
            await api.do(AGENT, Request("disposition", "a2", "12")),
            await api.do(LEAD, Request("force_pause", "a1")),
            await api.do(LEAD, Request("whisper", "a1")),
            await api.do(QA, Request("listen", "a1")),
            await api.do(ADMIN, Request("reload")),
        ]

    outs = asyncio.run(go())
    assert all(o.ok for o in outs), outs
    assert floor.calls == [
        ("acd", "a2", "pause", "lunch"),
        ("dialer", "a2", "disposition", "12"),
        ("acd", "a1", "pause", "by lena"),  # a forced pause says who forced it
        ("ami", "PJSIP/lead1", "PJSIP/ep1-,qEw"),
        ("ami", "PJSIP/qa1", "PJSIP/ep1-,qE"),
    ]
    assert [(f.data["actor"], f.data["action"], f.data["agent"]) for f in floor.facts] == [
        ("a2", "pause", "a2"), ("a2", "disposition", "a2"), ("lena", "force_pause", "a1"),
        ("lena", "whisper", "a1"), ("quinn", "listen", "a1"), ("root", "reload", ""),
    ]  # fmt: skip
    assert len({f.key for f in floor.facts}) == len(floor.facts)


def test_a_leads_forced_pause_and_log_out_are_facts_naming_lead_agent_and_the_reason_given():
    floor = Floor()
    floor.on_call.clear()
    api = floor.api()

    async def go() -> list:
        return [await api.do(LEAD, Request("force_pause", "a1", "break")),
                await api.do(LEAD, Request("force_logout", "a1", "end of shift"))]  # fmt: skip

    assert all(o.ok for o in asyncio.run(go()))
    assert floor.calls == [("acd", "a1", "pause", "break"), ("acd", "a1", "logout", "")]
    assert [(f.data["actor"], f.data["role"], f.data["action"], f.data["agent"], f.data["arg"], f.data["ok"])
            for f in floor.facts] == [
        ("lena", "team_lead", "force_pause", "a1", "break", True),
        ("lena", "team_lead", "force_logout", "a1", "end of shift", True),  # the agent's log-out has no reason: here
    ]  # fmt: skip


def test_allowed_but_not_now_is_a_refusal_by_state_with_the_features_reason():
    floor = Floor()
    out = _do(floor, ADMIN, Request("force_logout", "a1"))
    assert (out.ok, out.refused_by, out.text) == (False, "state", "a1: cannot log out while on_call")
    out = _do(floor, LEAD, Request("barge", "a1"))
    assert out.ok
    floor.on_call.clear()
    out = _do(floor, LEAD, Request("barge", "a1"))
    assert (out.ok, out.refused_by, out.text) == (False, "state", "a1 is not on a call")


def test_the_spy_prefix_never_matches_a_longer_endpoint():
    h = spy_originate("100", "lead1", "listen", "a1")
    assert h["Application"] == "ChanSpy" and h["Data"] == "PJSIP/100-,qE" and h["Channel"] == "PJSIP/lead1"
    assert not "PJSIP/1001-00000001".startswith(h["Data"].split(",")[0])


def channel(name: str, app: str, data: str = "") -> Frame:
    return Frame([("Event", "CoreShowChannel"), ("Channel", name), ("Application", app), ("ApplicationData", data)])


def test_a_new_spy_request_hangs_up_the_spy_the_leads_phone_is_on_first():
    floor = Floor()
    floor.channels = [
        channel("PJSIP/lead1-00000007", "ChanSpy", "PJSIP/ep1-,qE"),  # lena listening: replaced by her barge
        channel("PJSIP/lead10-00000008", "ChanSpy", "PJSIP/ep2-,qE"),  # another lead's phone: left alone
        channel("PJSIP/lead1-00000009", "Dial", "PJSIP/ep3"),  # a call of her own, no spy: left alone
        channel("PJSIP/ep1-00000005", "Bridge", "PJSIP/trunk-00000004"),
    ]
    out = _do(floor, LEAD, Request("barge", "a1"))
    assert out.ok, out
    assert floor.calls == [("hangup", "PJSIP/lead1-00000007"), ("ami", "PJSIP/lead1", "PJSIP/ep1-,qEB")]


def test_a_spy_leg_that_ended_meanwhile_does_not_stop_the_new_one():
    floor = Floor()
    floor.channels = [channel("PJSIP/lead1-00000007", "ChanSpy", "PJSIP/ep1-,qE")]
    floor.gone = {"PJSIP/lead1-00000007"}
    out = _do(floor, LEAD, Request("barge", "a1"))
    assert out.ok, out
    assert floor.calls == [("ami", "PJSIP/lead1", "PJSIP/ep1-,qEB")]


def test_spy_legs_reads_only_the_leads_own_chanspy_channels():
    listing = [channel("PJSIP/lead1-1", "ChanSpy"), channel("PJSIP/lead1-2", "Playback"),
               channel("PJSIP/lead12-3", "ChanSpy"), Frame([("Event", "CoreShowChannelsComplete")])]  # fmt: skip
    assert spy_legs(listing, "lead1") == ["PJSIP/lead1-1"]
