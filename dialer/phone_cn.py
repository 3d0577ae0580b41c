"""China's numbering rules, with reasons a person can act on ("too short for a Chinese mobile (10 digits,
need 11)", "Beijing numbers need the leading 0").

Chinese mobiles are 1[3-9] + 9 digits; fixed lines are 0 + area code + subscriber (area codes 10 and 2X
have two digits and 8-digit subscribers, the others three digits and 7- or 8-digit subscribers). Called by
dialer/phone.py for numbers of country 86 read in region CN (written with +86, 0086, 86 or none of these).
Pure: no I/O.
"""

from __future__ import annotations

from typing import Literal

NOT_A_NUMBER = "not a Chinese mobile, fixed-line or E.164 number"


class ChineseNumberError(ValueError):
    """The reason a number cannot be a Chinese mobile or fixed line."""


def _after_86(nsn: str) -> str:
    # "+86 (0)10 ..." and "86 010 ...": people keep the trunk 0 they are used to dialling
    return nsn[1:] if nsn.startswith("0") else nsn


def _chinese(nsn: str) -> Literal["mobile", "fixed"]:
    """A Chinese national significant number (no trunk 0, no 86): mobile or fixed line."""
    if not nsn:
        raise ChineseNumberError("too short: no number after the country code 86")
    if nsn[0] == "1" and not nsn.startswith("10"):
        if nsn[1:2] in ("1", "2"):
            hint = " (Chinese mobiles start with 13-19)" if len(nsn) == 11 else ""
            raise ChineseNumberError(NOT_A_NUMBER + hint)
        if len(nsn) < 11:
            raise ChineseNumberError(f"too short for a Chinese mobile ({len(nsn)} digits, need 11)")
        if len(nsn) > 11:
            raise ChineseNumberError(f"too long for a Chinese mobile ({len(nsn)} digits, need 11)")
        return "mobile"
    if nsn[0] == "0":
        raise ChineseNumberError(NOT_A_NUMBER)
    area, sizes = (2, (8,)) if nsn[0] in "12" else (3, (7, 8))
    code, sub = "0" + nsn[:area], nsn[area:]
    want = "8-digit" if sizes == (8,) else "7- or 8-digit"
    if len(sub) < sizes[0]:
        raise ChineseNumberError(f"too short for a fixed line: area code {code} takes {want} numbers, got {len(sub)}")
    if len(sub) > sizes[-1]:
        raise ChineseNumberError(f"too long for a fixed line: area code {code} takes {want} numbers, got {len(sub)}")
    if sub[0] == "0":
        raise ChineseNumberError(f"the number after area code {code} cannot start with 0")
    return "fixed"


def chinese_number(international: bool, digits: str) -> tuple[str, Literal["mobile", "fixed"]]:
    """(E.164, kind) of a number of country 86: ``digits`` follow '+' or 00 when ``international``, else they
    are the digits as written. ChineseNumberError(reason) when the shape is wrong."""
    if international:
        nsn = _after_86(digits[2:])
    elif digits.startswith("86") and len(digits) >= 12:
        nsn = _after_86(digits[2:])  # 86 without '+': no domestic number starts with 86
    elif digits.startswith("0"):
        nsn = digits[1:]
    elif digits.startswith("10"):
        hint = " (Beijing numbers need the leading 0: 010)" if len(digits) == 10 else ""
        raise ChineseNumberError(NOT_A_NUMBER + hint)
    elif digits.startswith("1"):
        nsn = digits
    elif 7 <= len(digits) <= 8:
        raise ChineseNumberError("fixed-line number without area code")
    else:
        raise ChineseNumberError(NOT_A_NUMBER)
    return "+86" + nsn, _chinese(nsn)
