"""The menu interpreter: sans-I/O. Digits and results in, commands out.

A shell (FastAGI in the engine, pyst2 in the degraded script, a plain loop in tests) runs it::

    it = Interpreter(menu, now)
    cmd = it.start()
    while not it.done:
        cmd = it.send(execute(cmd))     # the reply each command asks for, None for the others

Commands that ask for a reply: ``Play`` and ``SayDigits`` (the digit that interrupted, or None),
``WaitDigit`` (a digit or None on timeout), ``RecordMessage`` (seconds recorded, or None). The
others (``Step``, ``SetLanguage``, ``SetVariables``, ``CallbackRequest``) take None. The last
command is a terminal one: ``Handover``, ``Transfer`` or ``Hangup``.
Standard library only (see ``ivr/model.py``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Generator
from dataclasses import dataclass, field
from typing import Any

from ivr.model import DIGITS, Menu, Node

MAX_HOPS = 200  # a menu that keeps moving without input (a loop of play nodes) ends at the default route


@dataclass(frozen=True)
class Play:
    """Play a prompt; ``escape`` digits interrupt it. With ``wait`` the same command then waits that many
    seconds for the first digit (AGI GET OPTION): Asterisk drops digits pressed between two AGI commands,
    so a prompt and the wait after it must be one command."""

    prompt: str
    language: str
    escape: str = ""
    wait: float = 0.0


@dataclass(frozen=True)
class WaitDigit:
    seconds: float


@dataclass(frozen=True)
class SayDigits:
    digits: str
    escape: str = ""


@dataclass(frozen=True)
class RecordMessage:
    kind: str
    case: str
    max_seconds: int


@dataclass(frozen=True)
class Step:
    """One fact for the ledger: node entered, digit, invalid, timeout, default, hangup..."""

    node: str
    kind: str
    detail: str = ""


@dataclass(frozen=True)
class SetLanguage:
    language: str


@dataclass(frozen=True)
class SetVariables:
    values: dict[str, str] = field(default_factory=dict)
    tags: tuple[str, ...] = ()


@dataclass(frozen=True)
class CallbackRequest:
    number: str
    service: str


@dataclass(frozen=True)
class Handover:
    service: str
    priority: int = 0
    skills: dict[str, int] = field(default_factory=dict)
    survey: bool = False
    node: str = ""


@dataclass(frozen=True)
class Transfer:
    number: str
    node: str = ""


@dataclass(frozen=True)
class Hangup:
    node: str = ""


Command = Play | WaitDigit | SayDigits | RecordMessage | Step | SetLanguage | SetVariables | CallbackRequest
Terminal = Handover | Transfer | Hangup
Reply = str | float | None


class Interpreter:
    def __init__(self, menu: Menu, now: dt.datetime, *, language: str | None = None, case: str = "") -> None:
        self.menu = menu
        self.now = now
        self.language = language or menu.languages[0]
        self.case = case  # the id a recorded message is linked to
        self.node = menu.start
        self.done = False
        self.variables: dict[str, str] = {}
        self.tags: list[str] = []
        self._gen = self._run()

    def start(self) -> Command | Terminal:
        return self._next(None)

    def send(self, reply: Reply) -> Command | Terminal:
        if self.done:
            raise RuntimeError("the menu has ended")
        return self._next(reply)

    def hung_up(self) -> Step:
        """The caller hung up: the step to record (at the node the caller was in)."""
        self.done = True
        self._gen.close()
        return Step(self.node, "hangup")

    def _next(self, reply: Reply) -> Command | Terminal:
        cmd = self._gen.send(reply if self._started else None)
        self._started = True
        if isinstance(cmd, Handover | Transfer | Hangup):
            self.done = True
        return cmd

    _started = False

    # ---- the walk --------------------------------------------------------------------------------------
    def _run(self) -> Generator[Any, Reply, None]:
        name = self.menu.start
        for _ in range(MAX_HOPS):
            node = self.menu.nodes[name]
            self.node = name
            yield Step(name, "enter")
            nxt = yield from self._node(node)
            if nxt is None:
                return
            name = nxt
        yield Step(self.node, "default", "too many steps without input")
        yield Handover(self.menu.default_service, node=self.node)

    def _node(self, n: Node) -> Generator[Any, Reply, str | None]:
        t = n.type
        if t == "play":
            yield Play(n["prompt"], self.language)
            return str(n["next"])
        if t == "menu":
            return (yield from self._menu(n))
        if t == "collect":
            return (yield from self._collect(n))
        if t == "hours":
            state = self.menu.hours.state(self.now)
            yield Step(n.name, state)
            if state == "holiday" and n["holiday"]:
                return str(n["holiday"])
            return str(n["open"] if state == "open" else n["closed"])
        if t == "language":
            self.language = n["language"]
            yield SetLanguage(self.language)
            return str(n["next"])
        if t == "set":
            self.variables.update({k: str(v) for k, v in n["variables"].items()})
            self.tags += [x for x in n["tags"] if x not in self.tags]
            yield SetVariables({k: str(v) for k, v in n["variables"].items()}, tuple(n["tags"]))
            return str(n["next"])
        if t == "route":
            yield Handover(n["service"], int(n["priority"]), dict(n["skills"]), bool(n["survey"]), n.name)
            return None
        if t == "callback":
            return (yield from self._callback(n))
        if t == "record":
            if n["prompt"]:
                yield Play(n["prompt"], self.language)
            got = yield RecordMessage(n["kind"], self.case, int(n["max_seconds"]))
            yield Step(n.name, "recorded" if got is not None else "not_recorded", n["kind"])
            if n["done"]:
                yield Play(n["done"], self.language)
            if n["next"]:
                return str(n["next"])
            yield Hangup(n.name)
            return None
        if t == "transfer":
            if n["prompt"]:
                yield Play(n["prompt"], self.language)
            yield Transfer(str(n["number"]), n.name)
            return None
        if t == "hangup":
            if n["prompt"]:
                yield Play(n["prompt"], self.language)
            yield Hangup(n.name)
            return None
        raise ValueError(f"node {n.name}: unknown type {t!r}")  # the loader rejects this first

    def _menu(self, n: Node) -> Generator[Any, Reply, str | None]:
        options: dict[str, str] = n["options"]
        retries = int(n["retries"])
        for attempt in range(retries + 1):
            prompt = n["prompt"] if attempt == 0 or not n["reprompt"] else n["reprompt"]
            digit = yield Play(prompt, self.language, DIGITS, float(n["timeout"]))
            if digit is None:
                yield Step(n.name, "timeout", str(attempt + 1))
                if n["timeout_prompt"] and attempt < retries:
                    yield Play(n["timeout_prompt"], self.language)
                continue
            digit = str(digit)
            if digit in options:
                yield Step(n.name, "digit", digit)
                return options[digit]
            yield Step(n.name, "invalid", digit)
            if n["invalid"]:
                yield Play(n["invalid"], self.language)
        return (yield from self._default(n))

    def _default(self, n: Node) -> Generator[Any, Reply, str | None]:
        if n.values.get("default"):
            yield Step(n.name, "default", str(n["default"]))
            return str(n["default"])
        yield Step(n.name, "default", self.menu.default_service)
        yield Handover(self.menu.default_service, node=n.name)
        return None

    def _digits(self, prompt: str, lo: int, hi: int, term: str, first: float, inter: float
                ) -> Generator[Any, Reply, tuple[str, str]]:  # fmt: skip
        """Collect digits: (digits, 'ok' | 'timeout' | 'short')."""
        digit = yield Play(prompt, self.language, DIGITS, first)
        if digit is None:
            return "", "timeout"
        got = ""
        while digit is not None:
            if term and digit == term:
                break
            got += str(digit)
            if len(got) >= hi:
                break
            digit = yield WaitDigit(inter)
        return got, ("ok" if lo <= len(got) <= hi else "short")

    def _collect(self, n: Node) -> Generator[Any, Reply, str | None]:
        retries = int(n["retries"])
        for attempt in range(retries + 1):
            got, how = yield from self._digits(n["prompt"], int(n["min"]), int(n["max"]), str(n["terminator"]),
                                               float(n["first_timeout"]), float(n["inter_timeout"]))  # fmt: skip
            if how == "ok":
                self.variables[n["variable"]] = got
                yield Step(n.name, "collected", str(len(got)))
                yield SetVariables({n["variable"]: got})
                return str(n["next"])
            yield Step(n.name, "timeout" if how == "timeout" else "invalid", str(attempt + 1))
            if n["invalid"] and attempt < retries:
                yield Play(n["invalid"], self.language)
        return (yield from self._default(n))

    def _callback(self, n: Node) -> Generator[Any, Reply, str | None]:
        """Capture a number, read it back, 1 confirms and 2 re-enters."""
        retries = int(n["retries"])
        for attempt in range(retries + 1):
            got, how = yield from self._digits(n["prompt"], int(n["min"]), int(n["max"]), "#",
                                               float(n["first_timeout"]), float(n["inter_timeout"]))  # fmt: skip
            if how != "ok":
                yield Step(n.name, "timeout" if how == "timeout" else "invalid", str(attempt + 1))
                continue
            digit = yield SayDigits(got, "12")
            if digit is None:
                digit = yield Play(n["confirm"], self.language, "12", float(n["inter_timeout"]) + 2)
            if digit == "1":
                service = n["service"] or self.menu.default_service
                yield Step(n.name, "digit", "1")
                yield CallbackRequest(got, service)
                if n["done"]:
                    yield Play(n["done"], self.language)
                if n["next"]:
                    return str(n["next"])
                yield Hangup(n.name)
                return None
            yield Step(n.name, "invalid" if digit else "timeout", str(attempt + 1))
        return (yield from self._default(n))


def survey(menu: Menu, language: str) -> Generator[Any, Reply, int | None]:
    """The post-call survey: ask for 1-5, retry on anything else; the score (or None)."""
    s = menu.survey
    for _ in range(int(s.get("retries", 1)) + 1):
        digit = yield Play(s["prompt"], language, "12345", float(s.get("timeout", 5.0)))
        if digit is not None and str(digit) in "12345":
            if s.get("thanks"):
                yield Play(s["thanks"], language)
            return int(str(digit))
        if digit is not None and s.get("invalid"):
            yield Play(s["invalid"], language)
    return None
