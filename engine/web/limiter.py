"""Sign-in rate limit (sans-I/O, clock passed in): failed sign-ins are counted per user name and per client
address in a sliding window; past the limit a sign-in is refused, even with the right password, until the
oldest failure in the window ages out. Guessing one user's password from many addresses meets the per-user
limit, guessing many users' from one address the per-address one."""

from __future__ import annotations

from collections import deque


class LoginLimiter:
    def __init__(self, per_user: int = 5, per_address: int = 20, window: float = 300.0,
                 max_keys: int = 10_000) -> None:  # fmt: skip
        self.limits = {"user": per_user, "address": per_address}
        self.window = window
        self.max_keys = max_keys  # memory stays bounded whatever names and addresses are thrown at it
        self._failures: dict[tuple[str, str], deque[float]] = {}

    def retry_after(self, user: str, address: str, now: float) -> float:
        """0 when a sign-in may be tried now; else the seconds until it may."""
        wait = 0.0
        for key in (("user", user), ("address", address)):
            times = self._recent(key, now)
            if times is not None and len(times) >= self.limits[key[0]]:
                wait = max(wait, times[-self.limits[key[0]]] + self.window - now)
        return wait

    def failed(self, user: str, address: str, now: float) -> None:
        for key in (("user", user), ("address", address)):
            times = self._recent(key, now)
            if times is None:
                self._make_room(now)
                times = self._failures[key] = deque(maxlen=max(self.limits.values()))
            times.append(now)

    def succeeded(self, user: str) -> None:
        """The right password, not refused: that user's count starts again (the address's does not)."""
        self._failures.pop(("user", user), None)

    def _recent(self, key: tuple[str, str], now: float) -> deque[float] | None:
        times = self._failures.get(key)
        if times is None:
            return None
        while times and times[0] <= now - self.window:
            times.popleft()
        if not times:
            del self._failures[key]
            return None
        return times

    def _make_room(self, now: float) -> None:
        if len(self._failures) < self.max_keys:
            return
        for key in [k for k, t in self._failures.items() if t[-1] <= now - self.window]:
            del self._failures[key]
        while len(self._failures) >= self.max_keys:  # all recent: forget the one whose last failure is oldest
            del self._failures[min(self._failures, key=lambda k: self._failures[k][-1])]
