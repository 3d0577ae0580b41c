"""How an SMS text travels and what it costs, pure: GSM 7-bit when every character is in the GSM 03.38 alphabet,
else UCS-2 (Chinese text always is), and how many parts a long text is cut into.

One part holds 160 GSM septets or 70 UCS-2 units; a long text's parts each give 6 octets to the concatenation
header, leaving 153 septets or 67 units. A character of GSM's extension table (``{``, ``€``...) takes two
septets, and a character outside the Basic Multilingual Plane (an emoji) two UCS-2 units. Kannel cuts the text
the same way when its ``concatenation`` is on; these counts are what a report bills.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

GSM_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM_EXTENSION = frozenset("^{}\\[~]|€\f")
SINGLE = {"gsm": 160, "ucs2": 70}
PART = {"gsm": 153, "ucs2": 67}

Coding = Literal["gsm", "ucs2"]


@dataclass(frozen=True)
class Encoded:
    coding: Coding
    units: int  # GSM septets or UCS-2 (UTF-16) code units
    parts: int

    @property
    def kannel_coding(self) -> int:
        """Kannel's ``coding`` parameter: 0 for 7-bit, 2 for UCS-2."""
        return 0 if self.coding == "gsm" else 2


def coding_of(text: str) -> Coding:
    return "gsm" if all(c in GSM_BASIC or c in GSM_EXTENSION for c in text) else "ucs2"


def units_of(text: str, coding: Coding) -> int:
    if coding == "gsm":
        return sum(2 if c in GSM_EXTENSION else 1 for c in text)
    return len(text.encode("utf-16-be")) // 2


def encode(text: str) -> Encoded:
    """The coding, size and part count of ``text``; an empty text is one (empty) part."""
    coding = coding_of(text)
    units = units_of(text, coding)
    parts = 1 if units <= SINGLE[coding] else -(-units // PART[coding])
    return Encoded(coding, units, parts)
