"""`hotline sms report`, pure over the facts: per day (the site's) and campaign, the messages sent and their
parts, what their delivery reports said, and what was not sent and why.

A message counts on the day it was sent. It is delivered when a report of any of its attempts says so; failed
when the gateway refused it (and no later run sent it) or its final report is a failure; pending until then.
``opted_out`` are messages not sent because the customer had replied with an opt-out word; ``opt_outs`` the
opt-out replies of the day (campaign ``*``: a customer opts out of every campaign); ``resent`` the tries with
no answer sent again.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from zoneinfo import ZoneInfo

from engine.model.facts import Fact

COLUMNS = ("sent", "parts", "delivered", "failed", "pending", "opted_out", "skipped", "resent", "opt_outs")


def _day(at: float, tz: ZoneInfo) -> str:
    return dt.datetime.fromtimestamp(at, tz).date().isoformat()


def sms_report(all_facts: Iterable[Fact], tz: ZoneInfo, campaign: str = "") -> list[dict[str, object]]:
    rows: dict[tuple[str, str], dict[str, int]] = defaultdict(lambda: dict.fromkeys(COLUMNS, 0))
    sent_on: dict[tuple[str, str, str], str] = {}  # (campaign, phone, event) -> the day it was sent
    final: dict[tuple[str, str, str], str] = {}
    refused_on: dict[tuple[str, str, str], str] = {}  # refused by the gateway (a later run may still send it)
    for f in all_facts:
        c = f.call_id.removeprefix("sms:")
        if f.kind == "sms.opt_out":
            rows[(_day(f.at, tz), "*")]["opt_outs"] += 1
            continue
        if campaign and c != campaign:
            continue
        who = (c, f.data.get("phone", ""), f.data.get("ref", ""))
        if f.kind not in ("sms.sent", "sms.refused", "sms.skipped", "sms.dlr"):
            continue  # intents and sends with no answer: counted by what became of them
        if f.kind == "sms.dlr":
            if f.data.get("status") in ("delivered", "failed", "smsc_reject") and final.get(who) != "delivered":
                final[who] = "delivered" if f.data["status"] == "delivered" else "failed"
            continue  # a report counts on its message's day, below
        row = rows[(_day(f.at, tz), c)]
        if f.kind == "sms.sent":
            row["sent"] += 1
            row["parts"] += int(f.data.get("parts", 1))
            row["resent"] += int(f.data.get("attempt", 1)) - 1  # tries with no answer that were sent again
            sent_on[who] = _day(f.at, tz)
        elif f.kind == "sms.refused":
            refused_on[who] = _day(f.at, tz)
        elif f.kind == "sms.skipped":
            row["opted_out" if f.data.get("reason") == "opted_out" else "skipped"] += 1
    for who, day in refused_on.items():
        if who not in sent_on:
            rows[(day, who[0])]["failed"] += 1
    for who, day in sent_on.items():
        outcome = final.get(who)
        rows[(day, who[0])]["delivered" if outcome == "delivered" else "failed" if outcome else "pending"] += 1
    return [{"day": d, "campaign": c, **v} for (d, c), v in sorted(rows.items())]
