"""Kannel's HTTP interfaces: the sendsms request (``KannelGateway``, over an httpx client whose transport a test
swaps) and what its callbacks mean (``delivery_status``), pure but for the one request.

What a send's reply tells: 202 is accepted (Kannel keeps it in its store until the operator takes it); no
connection, or a 503, is "not sent, try again"; 401, or 403 "Authorization failed", is a wrong user or password,
which no retry mends; any other 4xx is this message refused (a 403 "Not routable" is one number no route
serves). A connection lost after the request went out is *uncertain*: Kannel may
have taken the message, and sending it again may double it (seen when smsbox restarts mid-batch), so the
caller waits for its delivery report first.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any

import httpx2 as httpx

from sms.encoding import Encoded

DLR_MASK = 1 | 2 | 8 | 16  # delivered, failed, taken by the operator's SMSC, refused by it
DLR_TYPES = {1: "delivered", 2: "failed", 4: "buffered", 8: "smsc_ack", 16: "smsc_reject"}
FINAL = {"delivered", "failed", "smsc_reject"}


class Sent(enum.Enum):
    ACCEPTED = "accepted"
    DOWN = "down"  # not sent: try again later
    REFUSED = "refused"  # this message, never
    UNCERTAIN = "uncertain"


class GatewayRefusesUs(RuntimeError):
    """The gateway refuses every message of ours (user or password)."""


@dataclass(frozen=True)
class Reply:
    sent: Sent
    detail: str


def delivery_status(kannel_type: str) -> str:
    """A delivery report's ``%d`` as a word ("delivered"...); an unknown code as ``type-N``."""
    try:
        return DLR_TYPES[int(kannel_type)]
    except (ValueError, KeyError):
        return f"type-{kannel_type}"


class KannelGateway:
    def __init__(self, url: str, username: str, password: str, sender: str, client: httpx.AsyncClient) -> None:
        self.url, self.username, self.password, self.sender = url, username, password, sender
        self.client = client

    def params(self, to: str, text: str, enc: Encoded, dlr_url: str) -> dict[str, Any]:
        p: dict[str, Any] = {"username": self.username, "password": self.password, "to": to, "text": text,
                             "charset": "UTF-8", "coding": enc.kannel_coding, "dlr-mask": DLR_MASK,
                             "dlr-url": dlr_url}  # fmt: skip
        if self.sender:
            p["from"] = self.sender
        return p

    async def alive(self) -> bool:
        """Whether the gateway answers at all (any HTTP answer: a bare request is refused, and that is an answer)."""
        try:
            await self.client.get(self.url)
        except httpx.TransportError:
            return False
        return True

    async def send(self, to: str, text: str, enc: Encoded, dlr_url: str) -> Reply:
        try:
            r = await self.client.get(self.url, params=self.params(to, text, enc, dlr_url))
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            return Reply(Sent.DOWN, f"cannot connect: {exc}")
        except httpx.TransportError as exc:
            return Reply(Sent.UNCERTAIN, f"no answer after the request went out: {exc!r}")
        body = r.text.strip()[:200]
        if r.status_code in (200, 202):
            return Reply(Sent.ACCEPTED, body)
        if r.status_code == 401 or (r.status_code == 403 and "authorization" in body.lower()):
            raise GatewayRefusesUs(f"the gateway at {self.url} refuses user {self.username!r}: {r.status_code} {body}")
        if 400 <= r.status_code < 500:
            return Reply(Sent.REFUSED, f"{r.status_code} {body}")
        return Reply(Sent.DOWN, f"{r.status_code} {body}")
