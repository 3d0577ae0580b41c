"""Sign-in sessions (sans-I/O, clock passed in) and the cookie that names one.

A session lives on the server: the cookie only carries its id, signed (itsdangerous) so a forged or altered
cookie is turned away before any look-up. Signing out forgets the session at once; the web checks the user's
row at every request as well, so disabling a user or changing its password ends sessions opened before it,
even from another process (`hotline users disable`). Each session has its CSRF token: every POST must send it
back (a form field or the X-CSRF-Token header). Sessions are in memory: a restarted engine signs everyone out.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass

from itsdangerous import BadSignature, URLSafeSerializer


@dataclass(frozen=True)
class Session:
    sid: str
    user: str
    csrf: str
    issued: float
    expires: float


class Sessions:
    def __init__(self, lifetime: float = 8 * 3600.0, max_sessions: int = 10_000) -> None:
        self.lifetime = lifetime  # a shift: signed in once per day's work
        self.max_sessions = max_sessions
        self._open: dict[str, Session] = {}

    def open(self, user: str, now: float) -> Session:
        self._prune(now)
        s = Session(secrets.token_urlsafe(32), user, secrets.token_urlsafe(32), now, now + self.lifetime)
        self._open[s.sid] = s
        return s

    def get(self, sid: str, now: float) -> Session | None:
        s = self._open.get(sid)
        if s is not None and now >= s.expires:
            del self._open[sid]
            return None
        return s

    def close(self, sid: str) -> None:
        self._open.pop(sid, None)

    def close_user(self, user: str) -> None:
        for sid in [k for k, s in self._open.items() if s.user == user]:
            del self._open[sid]

    def __len__(self) -> int:
        return len(self._open)

    def _prune(self, now: float) -> None:
        if len(self._open) < self.max_sessions:
            return
        for sid in [k for k, s in self._open.items() if now >= s.expires]:
            del self._open[sid]
        while len(self._open) >= self.max_sessions:  # drop the oldest: bounded memory under a flood of sign-ins
            del self._open[min(self._open, key=lambda k: self._open[k].issued)]


class Signer:
    """Signs and reads back the cookies' values; ``salt`` keeps a session cookie from passing as a sign-in one."""

    def __init__(self, secret: bytes) -> None:
        self._session = URLSafeSerializer(secret, salt="hotline.session")
        self._signin = URLSafeSerializer(secret, salt="hotline.signin")

    def session(self, sid: str) -> str:
        return self._session.dumps(sid)

    def session_id(self, cookie: str | None) -> str | None:
        return _loads(self._session, cookie)

    def signin(self, nonce: str) -> str:
        return self._signin.dumps(nonce)

    def signin_nonce(self, cookie: str | None) -> str | None:
        return _loads(self._signin, cookie)


def _loads(s: URLSafeSerializer, cookie: str | None) -> str | None:
    if not cookie:
        return None
    try:
        value = s.loads(cookie)
    except BadSignature:
        return None
    return value if isinstance(value, str) else None


def same_token(expected: str, given: str | None) -> bool:
    """Constant-time comparison of a CSRF token."""
    return bool(given) and hmac.compare_digest(expected.encode(), (given or "").encode())
