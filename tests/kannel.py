"""A throwaway Kannel for tests: sim/kannel.py's private gateway (Debian's bearerbox and smsbox, Kannel's
fakesmsc as the operator); a missing Kannel fails the test, loudly."""

from __future__ import annotations

from pathlib import Path

import pytest

from sim import kannel as _k


class Kannel(_k.Kannel):
    def __init__(self, folder: Path | None = None) -> None:
        try:
            super().__init__(folder)
        except _k.KannelMissing as exc:
            pytest.fail(str(exc))
