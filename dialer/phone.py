"""Phone numbers as people type them -> E.164 (``+86...`` for China), or a reason a person can act on.

Accepted: Chinese mobiles (1[3-9] + 9 digits), Chinese fixed lines with their area code (0 + area code +
subscriber: area codes 10 and 2X have two digits, the others three; 10-11 digits without the trunk 0),
either with a +86 / 0086 / 86 prefix, and any E.164 number written with '+' (or China's international
prefix 00). Spaces, dashes and parentheses are layout; full-width forms count as their ASCII selves.
Pure: no I/O.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import Literal

Kind = Literal["mobile", "fixed", "e164"]

NOT_A_NUMBER = "not a Chinese mobile, fixed-line or E.164 number"
# NFKC folds full-width forms but leaves these typographic dashes alone
_LAYOUT = " \t-()\u2010\u2011\u2012\u2013\u2014\u2212"


class PhoneError(ValueError):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Phone:
    e164: str
    kind: Kind

    def __str__(self) -> str:
        return self.e164


def _digits(raw: str) -> tuple[bool, str]:
    """(had a leading '+', the digits) or PhoneError for anything that is not layout."""
    text = unicodedata.normalize("NFKC", raw).strip()
    if not text:
        raise PhoneError("empty")
    plus = text.startswith("+")
    body = text[1:] if plus else text
    if any(ch.isalpha() for ch in body):
        raise PhoneError("letters in number")
    if "+" in body:
        raise PhoneError("'+' is only allowed at the start")
    depth = 0
    for ch in body:
        depth += (ch == "(") - (ch == ")")
        if depth < 0 or depth > 1:
            raise PhoneError("unbalanced parentheses")
    if depth:
        raise PhoneError("unbalanced parentheses")
    digits = []
    for ch in body:
        if ch in "0123456789":
            digits.append(ch)
        elif ch not in _LAYOUT:
            raise PhoneError(f"unexpected character {ch!r} in number")
    if not digits:
        raise PhoneError("no digits")
    return plus, "".join(digits)


def _after_86(nsn: str) -> str:
    # "+86 (0)10 ..." and "86 010 ...": people keep the trunk 0 they are used to dialling
    return nsn[1:] if nsn.startswith("0") else nsn


def _chinese(nsn: str) -> Phone:
    """A Chinese national significant number (no trunk 0, no 86): mobile or fixed line."""
    if not nsn:
        raise PhoneError("too short: no number after the country code 86")
    if nsn[0] == "1" and not nsn.startswith("10"):
        if nsn[1:2] in ("1", "2"):
            hint = " (Chinese mobiles start with 13-19)" if len(nsn) == 11 else ""
            raise PhoneError(NOT_A_NUMBER + hint)
        if len(nsn) < 11:
            raise PhoneError(f"too short for a Chinese mobile ({len(nsn)} digits, need 11)")
        if len(nsn) > 11:
            raise PhoneError(f"too long for a Chinese mobile ({len(nsn)} digits, need 11)")
        return Phone("+86" + nsn, "mobile")
    if nsn[0] == "0":
        raise PhoneError(NOT_A_NUMBER)
    # area codes 10 and 2X have two digits and 8-digit subscribers; the others three digits and 7 or 8
    area, sizes = (2, (8,)) if nsn[0] in "12" else (3, (7, 8))
    code, sub = "0" + nsn[:area], nsn[area:]
    want = "8-digit" if sizes == (8,) else "7- or 8-digit"
    if len(sub) < sizes[0]:
        raise PhoneError(f"too short for a fixed line: area code {code} takes {want} numbers, got {len(sub)}")
    if len(sub) > sizes[-1]:
        raise PhoneError(f"too long for a fixed line: area code {code} takes {want} numbers, got {len(sub)}")
    if sub[0] == "0":
        raise PhoneError(f"the number after area code {code} cannot start with 0")
    return Phone("+86" + nsn, "fixed")


def _international(digits: str) -> Phone:
    """Digits after '+' or 00: China's own numbers are checked as such, others by E.164's length rule."""
    if digits.startswith("86"):
        return _chinese(_after_86(digits[2:]))
    if digits.startswith("0"):
        raise PhoneError("country code cannot start with 0")
    if len(digits) < 8:
        raise PhoneError(f"too short for an international number ({len(digits)} digits after '+', need 8-15)")
    if len(digits) > 15:
        raise PhoneError(f"too long for an international number ({len(digits)} digits after '+', need 8-15)")
    return Phone("+" + digits, "e164")


def parse_phone(raw: str) -> Phone:
    """Normalise one number; PhoneError(reason) when it cannot be a number we may dial."""
    plus, digits = _digits(raw)
    if plus:
        return _international(digits)
    if digits.startswith("00"):
        return _international(digits[2:])
    if digits.startswith("86") and len(digits) >= 12:
        return _chinese(_after_86(digits[2:]))  # 86 without '+': no domestic number starts with 86
    if digits.startswith("0"):
        return _chinese(digits[1:])
    if digits.startswith("1"):
        if digits.startswith("10"):
            hint = " (Beijing numbers need the leading 0: 010)" if len(digits) == 10 else ""
            raise PhoneError(NOT_A_NUMBER + hint)
        return _chinese(digits)
    if 7 <= len(digits) <= 8:
        raise PhoneError("fixed-line number without area code")
    raise PhoneError(NOT_A_NUMBER)


def normalise(raw: str) -> str:
    """The E.164 form of ``raw`` (idempotent: an E.164 number comes back unchanged)."""
    return parse_phone(raw).e164
