"""The fax lines (sans-I/O): at most ``lines`` faxes at once, both directions together. A call in takes a free
line or is refused; a fax to send waits in order for one. What holds a line is named by its channel id."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field


@dataclass
class Lines:
    size: int
    held: dict[str, str] = field(default_factory=dict)  # channel id -> "in" or "out"
    waiting: deque[str] = field(default_factory=deque)  # jobs to send, first come first served
    refused: int = 0  # calls in answered busy since start
    most: int = 0  # the most lines held at once since start

    @property
    def free(self) -> int:
        return self.size - len(self.held)

    def take_in(self, channel: str) -> bool:
        """A fax call in: True if it has a line now. Waiting sends do not hold one back (a caller cannot wait)."""
        if channel in self.held:
            return True
        if self.free <= 0:
            self.refused += 1
            return False
        self._hold(channel, "in")
        return True

    def wait(self, job: str) -> None:
        if job not in self.waiting:
            self.waiting.append(job)

    def next_out(self) -> str | None:
        """The first waiting job, if a line is free for it (its line is then held under the job's name until
        ``dialing`` names its channel)."""
        if not self.waiting or self.free <= 0:
            return None
        job = self.waiting.popleft()
        self._hold(job, "out")
        return job

    def dialing(self, job: str, channel: str) -> None:
        if self.held.pop(job, None) is not None:
            self.held[channel] = "out"

    def release(self, channel: str) -> bool:
        return self.held.pop(channel, None) is not None

    def _hold(self, channel: str, way: str) -> None:
        self.held[channel] = way
        self.most = max(self.most, len(self.held))
