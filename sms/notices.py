"""Messages after a call, pure: which facts and call records call for one under the site's ``[[sms.after]]``
rules, to which number, about which event, with which fields.

- ``complaint``: a complaint case was opened (``case.opened``): ``{case}`` its id, ``{due}`` when it is due
  (site time); to the number the case holds.
- ``callback``: a caller chose a call back, waiting or in the menu (``acd.callback``): ``{service}``,
  ``{position}``; to the number it will be called on.
- ``call``: an inbound call that reached an agent ended (its call record): ``{service}``, ``{agent}``,
  ``{call}`` (e.g. for a survey link); to the caller, when the number can be called back.

A ``callback`` or ``call`` rule's ``service`` limits it to that service's calls ("": all); any rule's ``node``
to calls whose menu path passed that node (the sender reads the path: ``ivr.step`` facts). Each message is
about one event (the case, the call), so a customer with two complaints gets two.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from dialer.phone import callback_number
from engine.model.facts import Fact
from sms.facts import CAMPAIGN_NAME
from sms.services import Recipient
from sms.template import Template, TemplateError, load_template

TRIGGERS = ("complaint", "callback", "call")
FACT_OF = {"complaint": "case.opened", "callback": "acd.callback"}
FIELDS = {"complaint": {"case", "due"}, "callback": {"service", "position"}, "call": {"service", "agent", "call"}}


@dataclass(frozen=True)
class NoticeRule:
    name: str  # the campaign its messages count under
    on: str
    service: str
    template: Template
    node: str = ""  # only calls whose menu path passed this node ("": all)


@dataclass(frozen=True)
class Notice:
    rule: NoticeRule
    to: Recipient
    call: str = ""  # the call it follows, when there is one (its menu path decides a rule with a node)


def _ref(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "-", text)[:100]


def read_rules(raw: list[Any], folder: Path, report: Any = None) -> list[NoticeRule]:
    """The ``[[sms.after]]`` rules, templates read from the site's folder; each problem reported as
    ``sms.after[i].key`` (``report`` None: raise ValueError on the first)."""

    def bad(i: int, key: str, message: str) -> None:
        if report is None:
            raise ValueError(f"sms.after[{i}].{key}: {message}")
        report(f"sms.after[{i}].{key}", message)

    rules, names = [], set()
    for i, r in enumerate(raw):
        if not isinstance(r, Mapping):
            bad(i, "name", "each [[sms.after]] is a table")
            continue
        unknown = set(r) - {"name", "on", "service", "node", "template"}
        for key in sorted(unknown):
            bad(i, key, "unknown key (name, on, service, node, template)")
        name, on, service, path = r.get("name", ""), r.get("on", ""), r.get("service", ""), r.get("template", "")
        node = r.get("node", "")
        if not isinstance(node, str):
            bad(i, "node", "must be a menu node's id")
        if not isinstance(name, str) or not CAMPAIGN_NAME.fullmatch(name):
            bad(i, "name", "required: 1-60 letters, digits, '_', '.' or '-' (the messages' campaign)")
        elif name in names:
            bad(i, "name", f"{name!r} names two rules")
        names.add(name)
        if on not in TRIGGERS:
            bad(i, "on", f"must be one of {', '.join(TRIGGERS)}")
        if not isinstance(service, str):
            bad(i, "service", "must be a service's name")
        elif service and on == "complaint":
            bad(i, "service", "a complaint case has no service: leave it out")
        if not isinstance(path, str) or not path:
            bad(i, "template", "required: the message's template file")
            continue
        try:
            template = load_template(folder / path)
        except TemplateError as exc:
            bad(i, "template", str(exc))
            continue
        extra = template.fields - FIELDS.get(on, set())
        if on in TRIGGERS and extra:
            bad(i, "template", f"{path} uses {', '.join(sorted(extra))}: a {on!r} message has "
                               f"{', '.join(sorted(FIELDS[on]))}")  # fmt: skip
            continue
        rules.append(NoticeRule(str(name), str(on), str(service), template, str(node)))
    return rules


def notices_of_fact(rules: list[NoticeRule], fact: Fact, tz: ZoneInfo) -> list[Notice]:
    out = []
    for rule in rules:
        if FACT_OF.get(rule.on) != fact.kind:
            continue
        d = fact.data
        if rule.on == "complaint":
            if d.get("kind") != "complaint" or not d.get("number"):
                continue
            due = dt.datetime.fromtimestamp(float(d.get("due_at") or fact.at), tz).strftime("%Y-%m-%d %H:%M")
            fields = {"case": fact.call_id, "due": due}
            call = str(d.get("call") or "")
        else:
            if not d.get("number") or (rule.service and d.get("service") != rule.service):
                continue
            fields = {"service": str(d.get("service", "")), "position": str(d.get("position", ""))}
            call = fact.call_id
        out.append(Notice(rule, Recipient(str(d["number"]), fields, ref=_ref(fact.call_id)), call))
    return out


def notices_of_record(rules: list[NoticeRule], row: Mapping[str, Any], region: str) -> list[Notice]:
    """A call record: an inbound call that reached an agent and ended."""
    if not row.get("connected_at") or not row.get("ended_at"):
        return []
    out = []
    for rule in rules:
        if rule.on != "call" or (rule.service and row.get("service") != rule.service):
            continue
        number = callback_number(str(row.get("caller", "")), region)
        if number:
            fields = {"service": str(row.get("service", "")), "agent": str(row.get("agent_id", "")),
                      "call": str(row["call_id"])}  # fmt: skip
            out.append(Notice(rule, Recipient(number, fields, ref=_ref(str(row["call_id"]))), str(row["call_id"])))
    return out
