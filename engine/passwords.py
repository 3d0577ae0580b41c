"""Password hashing with Argon2id (argon2-cffi): hash, verify, and the same work for a name nobody has.

Verifying costs tens of milliseconds of CPU by design: the web calls it in a worker thread, never on the loop.
"""

from __future__ import annotations

import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError


class Passwords:
    def __init__(self, hasher: PasswordHasher | None = None) -> None:
        # argon2-cffi's defaults are RFC 9106's second recommended setting (64 MiB, 3 passes); tests pass a
        # cheaper hasher
        self.hasher = hasher or PasswordHasher()
        self._decoy = ""  # verified against when the name is unknown: a wrong name costs what a wrong password does

    def hash(self, password: str) -> str:
        return self.hasher.hash(password)

    def verify(self, stored: str | None, password: str) -> bool:
        """True when ``password`` matches ``stored``; ``stored`` None (no such user) does the same work."""
        if stored is None and not self._decoy:
            self._decoy = self.hasher.hash(secrets.token_urlsafe(16))  # made at first need, not at every start
        try:
            return self.hasher.verify(self._decoy if stored is None else stored, password) and stored is not None
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, stored: str) -> bool:
        return self.hasher.check_needs_rehash(stored)


def generate() -> str:
    """A password to print once: 20 URL-safe characters (120 bits)."""
    return secrets.token_urlsafe(15)
