"""Phone numbers as people type them -> E.164, or a reason a person can act on.

A number is read in a region (ISO 3166 country code: a campaign's ``region``, the hotline's for callers):
* written without '+' or the region's international prefix (00 in China, 011 in the US), it is a number of
  that country as its people write it (trunk prefix, area code in parentheses, "1" before a US number...)
  and must be a mobile or fixed line by the phonenumbers library's plan data (China's: by its own rules in
  dialer/phone_cn.py, see ``_OWN_RULES``);
* written with '+' or that prefix, a number of the region's own country is checked the same way; any other
  country's is accepted in E.164 shape (a known country code, 8-15 digits): we do not judge foreign plans.
Spaces, dashes and parentheses are layout; full-width forms count as their ASCII selves. Pure: no I/O.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import phonenumbers as pn
from phonenumbers import PhoneNumberType, ValidationResult
from phonenumbers import timezone as pn_timezone

from dialer.phone_cn import ChineseNumberError, chinese_number

Kind = Literal["mobile", "fixed", "fixed_or_mobile", "e164"]

DEFAULT_REGION = "CN"
# NFKC folds full-width forms but leaves these typographic dashes alone
_LAYOUT = " \t-()\u2010\u2011\u2012\u2013\u2014\u2212"
# numbers a campaign may call and a caller may be called back on; toll-free, premium and the like are refused
_KINDS: dict[int, Kind] = {
    PhoneNumberType.MOBILE: "mobile",
    PhoneNumberType.FIXED_LINE: "fixed",
    PhoneNumberType.FIXED_LINE_OR_MOBILE: "fixed_or_mobile",  # the US plan does not tell them apart
}
# China's numbers keep the rules lead files have been checked by (dialer/phone_cn.py): they name what is wrong,
# and the library's data differs from them both ways (it takes Beijing's 10 without the trunk 0, easily a
# mobile missing a digit, and refuses 7-digit subscribers after some 3-digit area codes)
_OWN_RULES: dict[str, Callable[[bool, str], tuple[str, Kind]]] = {"CN": chinese_number}


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


def _international(plus: bool, digits: str, region: str) -> str | None:
    """The digits after '+' or the region's usual international prefix; None for a national number."""
    if plus:
        return digits
    md = pn.PhoneMetadata.metadata_for_region(region)
    # the plain prefix only: China's pattern also matches carrier-select codes that begin like mobiles
    idd = (md.preferred_international_prefix or md.international_prefix) if md else None
    if idd and re.fullmatch(r"\d+", idd) and digits.startswith(idd):
        return digits[len(idd) :]
    return None


def _country_code(intl: str) -> int:
    if not intl:
        raise PhoneError("too short: no number after the international prefix")
    if intl.startswith("0"):
        raise PhoneError("country code cannot start with 0")
    for k in (1, 2, 3):  # country codes are prefix-free
        if pn.region_code_for_country_code(int(intl[:k])) != pn.UNKNOWN_REGION:
            return int(intl[:k])
    raise PhoneError(f"unknown country code: no country's code begins {intl[:3]}")


def _foreign(intl: str) -> Phone:
    if len(intl) < 8:
        raise PhoneError(f"too short for an international number ({len(intl)} digits after '+', need 8-15)")
    if len(intl) > 15:
        raise PhoneError(f"too long for an international number ({len(intl)} digits after '+', need 8-15)")
    return Phone("+" + intl, "e164")


def _lengths(region: str) -> str:
    md = pn.PhoneMetadata.metadata_for_region(region)
    n = sorted(md.general_desc.possible_length) if md and md.general_desc else []
    if not n:
        return "?"
    if len(n) == 1:
        return str(n[0])
    return f"{n[0]}-{n[-1]}" if n == list(range(n[0], n[-1] + 1)) else " or ".join(map(str, n))


def _why(n: pn.PhoneNumber | None, region: str) -> str:
    """Why the library refuses a number of the region's country."""
    if n is None:
        return f"not a {region} number"
    got, need = len(pn.national_significant_number(n)), _lengths(region)
    why = pn.is_possible_number_with_reason(n)
    if why == ValidationResult.TOO_SHORT:
        return f"too short for a {region} number ({got} digits, need {need})"
    if why == ValidationResult.TOO_LONG:
        return f"too long for a {region} number ({got} digits, need {need})"
    if why == ValidationResult.INVALID_LENGTH:
        return f"wrong length for a {region} number ({got} digits, need {need})"
    if why == ValidationResult.IS_POSSIBLE_LOCAL_ONLY:
        return f"local number without area code ({got} digits, need {need})"
    if pn.is_valid_number(n):
        kind = PhoneNumberType.to_string(pn.number_type(n)).lower().replace("_", "-")
        return f"a {kind} number, not a mobile or fixed line"
    return f"not a valid {region} number (unknown area code or prefix)"


def parse_phone(raw: str, region: str = DEFAULT_REGION) -> Phone:
    """Normalise one number read in ``region``; PhoneError(reason) when it cannot be a number we may dial."""
    plus, digits = _digits(raw)
    intl = _international(plus, digits, region)
    home = pn.country_code_for_region(region)
    if intl is not None and _country_code(intl) != home:
        return _foreign(intl)
    own = _OWN_RULES.get(region)
    if own is not None:
        try:
            e164, kind = own(intl is not None, intl if intl is not None else digits)
        except ChineseNumberError as exc:
            raise PhoneError(str(exc)) from None
        return Phone(e164, kind)
    try:
        n: pn.PhoneNumber | None = pn.parse("+" + intl if intl is not None else digits, region)
    except pn.NumberParseException:
        n = None
    if n is not None and pn.is_valid_number(n) and pn.number_type(n) in _KINDS:
        return Phone(pn.format_number(n, pn.PhoneNumberFormat.E164), _KINDS[pn.number_type(n)])
    raise PhoneError(_why(n, region))


def normalise(raw: str, region: str = DEFAULT_REGION) -> str:
    """The E.164 form of ``raw`` (idempotent: an E.164 number comes back unchanged)."""
    return parse_phone(raw, region).e164


@functools.lru_cache(maxsize=4096)  # asked again for every waiting caller at every tick of the ACD
def callback_number(raw: str, region: str) -> str | None:
    """The E.164 form of a caller's number we can call back; None when it is withheld, anonymous or not a
    mobile or fixed line of ``region`` (or an E.164 number)."""
    try:
        return parse_phone(raw, region).e164
    except PhoneError:
        return None


def time_zone(e164: str) -> str:
    """The IANA zone of a number when its plan places it in exactly one, else "" (the site's zone applies)."""
    try:
        zones = pn_timezone.time_zones_for_number(pn.parse(e164))
    except pn.NumberParseException:
        return ""
    return zones[0] if len(zones) == 1 and zones[0] != pn_timezone.UNKNOWN_TIMEZONE else ""
