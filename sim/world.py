"""The simulated site around the engine: its site file, callers, agents' phones and the carrier's far ends.

Shared by ``hotline demo`` (real time, sockets) and the virtual-time day (``hotline bench day``), so both
run the same site: the 400 hotline with its agent and two overflow agents, and an outbound campaign
worked by always-on agents over a synthetic lead list.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from sim import traffic
from sim.pbx.model import CalleeBehavior, CallerScript

HOTLINE_NUMBER = "4001234567"

SITE_HEAD = """\
# written by the simulator: the engine's site file for this run (virtual PBX)
[site]
name = "demo"
timezone = "Asia/Shanghai"

[asterisk]
ami_host = "127.0.0.1"
ami_port = {ami_port}
ami_secret_file = "{secret_file}"
agi_port = {agi_port}
ping_interval = 5.0

[store]
url = "{store_url}"
queue_log_file = "{queue_log}"

[recording]
asterisk_dir = "/var/spool/asterisk/monitor"
local_dir = "{recordings}"

# the engine's HTTP listener (/metrics): none unless the run asks for one, so parallel runs never share a port
[http]
listen = "{http}"

# the wallboard's and the team page's alerts: a break runs over after 5 minutes, lunch after an hour, any other
# pause after pause_over's 15
[wallboard]
pause_limits = {{ break = 300, lunch = 3600 }}

[hotline]
number = "{number}"
prompt = "hello-world"
agent = "1001"
service = "hotline"
pause_reasons = {{ 1 = "break", 2 = "lunch", 3 = "training" }}

# the 400 hotline's own agent, and two agents designated to take it when it overflows
[[agents]]
id = "1001"
name = "Hotline Agent"
skills = {{ hotline = 100 }}
teams = ["front"]

[[agents]]
id = "1002"
name = "Overflow Agent 1"
skills = {{ hotline = 40 }}
teams = ["front"]

[[agents]]
id = "1003"
name = "Overflow Agent 2"
skills = {{ hotline = 40 }}
teams = ["front"]

[[services]]
name = "hotline"
skills = {{ hotline = 80 }}
wrap_up = 10
# overflow: a caller still waiting after 10 s may go to the designated agents
rules = [ {{ after = 10, lower = {{ hotline = 40 }} }} ]
"""

CAMPAIGN = """
[[campaigns]]
name = "renewals"
agents = [{agents}]
mode = "{mode}"
profile = "us"
target = 0.03
caller_id = "4001234567"
window = "{window}"
amd = {amd}
wrap_up = 20
leads = "synthetic"
record = {record}
amd_sample = {amd_sample}
"""


def outbound_agent_ids(n: int) -> list[str]:
    return [f"{2001 + i}" for i in range(n)]


def site_text(*, ami_port: int, agi_port: int, secret_file: Path | str, store_url: str, recordings: Path | str,
              queue_log: Path | str, outbound_agents: int = 0, amd: bool = True,
              window: str = "08:00-21:00", outbound_take_hotline: bool = False,
              mode: str = "predictive", record: bool = True, profile: str = "us", http: str = "",
              amd_sample: bool = False) -> str:  # fmt: skip
    """The site file; ``outbound_take_hotline``: the campaign's agents also qualify for the hotline after
    its overflow step (they take callers in their always-on sessions, lent by the dialer); ``mode`` the
    campaign's dialing mode (preview: agents ask for each lead); ``record`` whether its conversations are
    recorded; ``profile`` the abandonment rule it follows (us, uk); ``http`` the ``[http] listen`` address;
    ``amd_sample`` whether AMD calls' first seconds are recorded (the demo's PBX writes audio; a virtual day's
    does not)."""
    text = SITE_HEAD.format(ami_port=ami_port, agi_port=agi_port, secret_file=secret_file, store_url=store_url,
                            recordings=recordings, queue_log=queue_log, number=HOTLINE_NUMBER, http=http)  # fmt: skip
    ids = outbound_agent_ids(outbound_agents)
    for a in ids:
        extra = "skills = { hotline = 40 }\n" if outbound_take_hotline else "auto_login = false\n"
        text += f'\n[[agents]]\nid = "{a}"\nname = "Outbound Agent {a}"\nteams = ["outbound"]\n{extra}'
    if ids:
        campaign = CAMPAIGN.format(agents=", ".join(f'"{a}"' for a in ids), amd="true" if amd else "false",
                                   window=window, mode=mode, record="true" if record else "false",
                                   amd_sample="true" if amd_sample else "false")  # fmt: skip
        text += campaign.replace('profile = "us"', f'profile = "{profile}"')  # the template's other users keep us
    return text


def caller_script(c: traffic.Caller) -> CallerScript:
    return CallerScript(
        caller=c.number, did=HOTLINE_NUMBER, digits=[(c.digit_after, c.digit)] if c.digit else [],
        hangup_at=c.ivr_hangup_after, talk=c.talk, patience=c.patience,
        talk_holds=[(c.hold_at, c.hold_for)] if c.hold_at is not None else [],
    )  # fmt: skip


def agent_phones(seed: int, model: traffic.AgentModel | None = None) -> Callable[[str, int], CalleeBehavior]:
    """How each agent's softphone answers its n-th call (an always-on session is such a call too)."""
    model = model or traffic.AgentModel()

    def behavior(endpoint: str, offer: int) -> CalleeBehavior:
        agent_id = int("".join(c for c in endpoint if c.isdigit()) or 0)
        delay = traffic.agent_answer_delay(model, seed, agent_id, offer)
        return CalleeBehavior("never") if delay is None else CalleeBehavior("answer", delay)

    return behavior


def carrier(seed: int, model: traffic.LeadModel | None = None,
            fp: float = 0.01, fn: float = 0.10) -> Callable[[str], CalleeBehavior]:  # fmt: skip
    """The far end of each dialed number, from the lead model (docs/pacebench.md): who answers, after how long,
    the greeting, the talk, and what AMD will make of it (1 % of people called machines, 10 % of machines
    called people; a machine that reaches an agent, AMD off or taken for a person, keeps it 10-20 s)."""
    model = model or traffic.LeadModel()

    def behavior(number: str) -> CalleeBehavior:
        return far_end(number, seed, model, fp, fn)[0]

    return behavior


def far_end(number: str, seed: int, model: traffic.LeadModel | None = None, fp: float = 0.01,
            fn: float = 0.10) -> tuple[CalleeBehavior, str]:  # fmt: skip
    """The carrier's far end for ``number`` and its truth: ``person``, ``machine``, ``busy``, ``no_answer`` or
    ``unknown`` (not a synthetic lead's number: congestion)."""
    from sim.synthetic_leads import synthetic_index

    model = model or traffic.LeadModel()
    idx = synthetic_index(number)
    if idx is None:
        return CalleeBehavior("congestion"), "unknown"
    lead = traffic.lead(model, seed, idx)
    g = traffic.rng(seed, traffic.KIND_LEAD + 100, idx)
    u_amd, machine_after, fn_talk = float(g.random()), float(g.uniform(2.5, 5.0)), float(g.uniform(10, 20))
    if lead.kind == "busy":
        return CalleeBehavior("busy"), "busy"
    if lead.kind == "no_answer":
        return CalleeBehavior("never"), "no_answer"
    if lead.kind == "human":
        if u_amd < fp:
            return CalleeBehavior("answer", lead.after, None, "MACHINE", "MAXWORDLENGTH-5000", machine_after), "person"
        return CalleeBehavior("answer", lead.after, lead.talk, "HUMAN", "HUMAN-800-800", lead.greeting + 0.8), "person"
    if u_amd < fn:
        return CalleeBehavior("answer", lead.after, fn_talk, "HUMAN", "HUMAN-800-800", lead.greeting + 0.8), "machine"
    # AMD hangs up on it; without AMD it reaches an agent, who hangs up as soon as a taken one (the call's end)
    return CalleeBehavior("answer", lead.after, fn_talk, "MACHINE", "LONGGREETING-1600-1500", machine_after), "machine"
