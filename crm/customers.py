"""A customer as the agent's screen pop shows one (pure): everything the store holds under one phone number, read
in the site's region so that the same person is one customer however the number was written.

Leads and cases keep numbers in E.164; a call record keeps the caller's number as the network gave it
(``13912345678``, ``+8613912345678``, ``008613912345678``...). ``spellings`` lists the forms one E.164 number may
have been stored in, so a look-up is a few equality matches on an index, never a scan that normalises every row.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import phonenumbers as pn

from dialer.phone import callback_number
from engine.privacy import mask_number

CALLS_SHOWN = 5  # previous calls on the card: the newest; the rest are counted
CASES_SHOWN = 5
LEAD_FIELDS_SHOWN = 12  # a lead file's extra columns on the card, in the file's order
_PHONE_LIKE = re.compile(r"\+?[\d\s()-]{7,}")  # a second number in a lead file (a landline beside the mobile)


def customer_number(raw: str, region: str) -> str | None:
    """The E.164 number a customer is known by; None when withheld, anonymous or no phone number at all."""
    return callback_number(raw, region) if raw and "*" not in raw else None  # withheld: callback_number says None


def spellings(e164: str, region: str) -> list[str]:
    """The forms ``e164`` may be stored in on a site in ``region`` (the network gives callers' numbers as the
    site's country writes them): with and without '+', after the site's international prefix, and, for a number
    of the site's own country only, national (with and without the trunk prefix). A foreign number's national
    forms are left out: on this site they would be someone else's."""
    digits = e164.lstrip("+")
    out = [e164, digits]
    site = pn.PhoneMetadata.metadata_for_region(region)
    if site is None:
        return out
    prefix = site.preferred_international_prefix or site.international_prefix or ""
    if prefix.isdigit():
        out.append(prefix + digits)
    try:
        n = pn.parse(e164)
    except pn.NumberParseException:
        return list(dict.fromkeys(out))
    if n.country_code == site.country_code:
        nsn = pn.national_significant_number(n)
        out.append(nsn)
        if site.national_prefix and site.national_prefix.isdigit():
            out.append(site.national_prefix + nsn)
    return list(dict.fromkeys(out))


@dataclass
class Card:
    """One customer's card: its leads, previous calls and cases, newest first. ``number`` is masked."""

    number: str
    leads: list[dict[str, Any]] = field(default_factory=list)
    calls: list[dict[str, Any]] = field(default_factory=list)
    more_calls: int = 0  # previous calls beyond those shown
    cases: list[dict[str, Any]] = field(default_factory=list)
    customer: int | None = None  # the customer's record (/customers/{id}), made when its first call popped
    notes: list[dict[str, Any]] = field(default_factory=list)  # the record's newest notes

    @property
    def known(self) -> bool:
        return bool(self.leads or self.calls or self.cases or self.notes)

    @property
    def name(self) -> str:
        return next((str(x["name"]) for x in self.leads if x.get("name")), "")

    def as_dict(self) -> dict[str, Any]:
        return {"number": self.number, "known": self.known, "name": self.name, "leads": self.leads,
                "calls": self.calls, "more_calls": self.more_calls, "cases": self.cases, "customer": self.customer,
                "notes": self.notes}  # fmt: skip


def _shown(value: object) -> str:
    """A lead file's extra value as the card shows it: anything that looks like a phone number masked."""
    text = str(value)
    return mask_number(text) if _PHONE_LIKE.fullmatch(text.strip()) else text


def card_of(e164: str, *, leads: Iterable[Mapping[str, Any]], calls: Iterable[Mapping[str, Any]],
            cases: Iterable[Mapping[str, Any]], current: str = "",
            may_read: Callable[[Mapping[str, Any]], bool] = lambda case: True) -> Card:  # fmt: skip
    """The card from the store's rows for one number: ``leads`` (the leads table's), ``calls`` (call records'),
    ``cases`` (the cases table's), any order. ``current``: the call being offered, not a previous one;
    ``may_read``: whether the page's viewer may read a case (engine/policy.py ``case_refusal``): one it may not
    is shown by its kind, status and time only, without its note and resolution."""
    card = Card(mask_number(e164))
    for r in sorted(leads, key=lambda r: -(r.get("last_attempt_at") or r.get("imported_at") or 0)):
        extra = r.get("extra") or {}
        fields = [[str(k), _shown(v)] for k, v in list(dict(extra).items())[:LEAD_FIELDS_SHOWN]]
        card.leads.append({"lead": r["id"], "campaign": r["campaign"], "name": r.get("name") or "",
                           "status": r["status"], "attempts": r.get("attempts") or 0,
                           "last_outcome": r.get("last_outcome") or "", "last_attempt_at": r.get("last_attempt_at"),
                           "fields": fields})  # fmt: skip
    previous = sorted((r for r in calls if r["call_id"] != current), key=lambda r: -float(r["arrived_at"]))
    card.more_calls = max(0, len(previous) - CALLS_SHOWN)
    for r in previous[:CALLS_SHOWN]:
        card.calls.append({"call": r["call_id"], "at": r["arrived_at"], "service": r.get("service") or "",
                           "outcome": r["outcome"], "agent": r.get("agent_id") or "", "talk": r.get("talk_time"),
                           "recorded": bool(r.get("recording"))})  # fmt: skip
    for r in sorted(cases, key=lambda r: -float(r["opened_at"]))[:CASES_SHOWN]:
        readable = may_read(r)
        card.cases.append({"case": r["id"], "kind": r["kind"], "status": r["status"], "opened_at": r["opened_at"],
                           "note": (r.get("note") or "") if readable else "",
                           "resolution": (r.get("resolution") or "") if readable else ""})  # fmt: skip
    return card
