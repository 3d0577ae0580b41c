"""The SMS facts in the ledger, and their keys: what makes a message sent once.

A campaign's messages are the facts under ``sms:<campaign>``; a recipient's ``sms.sent`` is keyed by campaign
and number, so a batch run again (after a stop, or with more names) sends nobody twice. Each try of a number
has an attempt number, carried by its delivery report's URL, so a report names the try it is about. Customers'
replies are under ``sms:in``, opt-outs under ``sms:opt-out``.
"""

from __future__ import annotations

import re
from typing import Any

from engine.model.facts import Fact, fact_key

INBOX = "sms:in"
OPT_OUTS = "sms:opt-out"
CAMPAIGN_NAME = re.compile(r"[A-Za-z0-9_.-]{1,60}")  # it rides in the callbacks' URLs, where Kannel reads '%'
REF = re.compile(r"[A-Za-z0-9_.-]{0,100}")  # likewise an event's reference
KINDS = ("sms.sending", "sms.sent", "sms.skipped", "sms.refused", "sms.uncertain", "sms.dlr")


def campaign_call(campaign: str) -> str:
    return f"sms:{campaign}"


def _fact(kind: str, at: float, call: str, key: tuple[Any, ...], **data: Any) -> Fact:
    return Fact(kind, at, call, "", fact_key(kind, *key), data)


def _to(campaign: str, phone: str, ref: str) -> tuple[str, ...]:
    return (campaign, phone, ref) if ref else (campaign, phone)


def sent(campaign: str, phone: str, attempt: int, at: float, parts: int, coding: str, confirmed: str = "",
         ref: str = "") -> Fact:  # fmt: skip
    """``confirmed``: how a send with no answer was found taken ("dlr"), "" when the gateway said so. ``ref``:
    the event a message after a call is about (a case, a call), "" in a batch: the key is per event then."""
    return _fact("sms.sent", at, campaign_call(campaign), _to(campaign, phone, ref), phone=phone, ref=ref,
                 attempt=attempt, parts=parts, coding=coding, confirmed=confirmed)  # fmt: skip


def sending(campaign: str, phone: str, attempt: int, at: float, parts: int, coding: str, ref: str = "") -> Fact:
    """Written before the message goes to the gateway: a run that stops before the gateway answers leaves it."""
    return _fact("sms.sending", at, campaign_call(campaign), (*_to(campaign, phone, ref), attempt), phone=phone,
                 ref=ref, attempt=attempt, parts=parts, coding=coding)  # fmt: skip


def uncertain(campaign: str, phone: str, attempt: int, at: float, detail: str, ref: str = "") -> Fact:
    return _fact("sms.uncertain", at, campaign_call(campaign), (*_to(campaign, phone, ref), attempt), phone=phone,
                 ref=ref, attempt=attempt, detail=detail)  # fmt: skip


def skipped(campaign: str, phone: str, reason: str, at: float, day: str, detail: str = "", ref: str = "") -> Fact:
    """Not sent by this run: ``dnc``, ``opted_out``, ``window`` (outside the send window: a run on another day
    may send it, so the key holds the day), ``bad`` (the template lacks a field), ``too_long``."""
    return _fact("sms.skipped", at, campaign_call(campaign), (*_to(campaign, phone, ref), reason, day), phone=phone,
                 ref=ref, reason=reason, detail=detail)  # fmt: skip


def refused(campaign: str, phone: str, attempt: int, at: float, detail: str, ref: str = "") -> Fact:
    return _fact("sms.refused", at, campaign_call(campaign), _to(campaign, phone, ref), phone=phone, ref=ref,
                 attempt=attempt, detail=detail)  # fmt: skip


def delivery(campaign: str, phone: str, attempt: int, status: str, at: float, reply: str, ref: str = "") -> Fact:
    return _fact("sms.dlr", at, campaign_call(campaign), (*_to(campaign, phone, ref), attempt, status), phone=phone,
                 ref=ref, attempt=attempt, status=status, reply=reply)  # fmt: skip


def incoming(phone: str, to: str, text: str, at: float, gateway_time: str) -> Fact:
    return _fact("sms.in", at, INBOX, (phone, gateway_time, text), phone=phone, to=to, text=text)


def opt_out(phone: str, word: str, at: float) -> Fact:
    return _fact("sms.opt_out", at, OPT_OUTS, (phone,), phone=phone, word=word)


def is_opt_out(text: str, words: frozenset[str]) -> str | None:
    """The opt-out word a reply is (``td``, ``退订。``), else None: the whole reply, any case, stray marks cut."""
    word = text.strip().strip(".,!。，！ ").upper()
    return word if word in words else None
