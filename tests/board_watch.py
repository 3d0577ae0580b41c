"""Watching the agent board through a virtual-time run: every holder it showed, and at the end the proof that
no agent was held by two sides (the board checks each record after every change) and no side asked for an
agent another side held (every Conflict is counted)."""

from typing import Any

from acd.board import Board, Holder


class BoardWatch:
    def __init__(self) -> None:
        self.board: Board | None = None
        self.holders: dict[str, set[Holder]] = {}

    def attach(self, eng: Any) -> None:
        """``on_engine`` of a virtual-time run: chained in front of the live feed's observer."""
        board: Board = eng.features["acd"].board
        feed = board.observer

        def observe(r: Any) -> None:
            self.holders.setdefault(r.agent_id, set()).add(r.holder)
            if feed is not None:
                feed(r)

        board.observer = observe
        self.board = board

    def assert_clean(self) -> None:
        assert self.board is not None, "the run built no engine"
        assert self.board.breaches == [], self.board.breaches[:5]
        assert self.board.check() == []
        assert self.board.refused == [], self.board.refused[:5]

    def seen(self) -> set[Holder]:
        return set().union(*self.holders.values()) if self.holders else set()
