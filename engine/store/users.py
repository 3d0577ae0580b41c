"""The users table: add, look up, list, set a password, disable. Each change is one transaction that writes the
row and a ledger fact (``user.added``, ``user.password``, ``user.disabled``) naming the actor, so who made whom
an admin, and when, stays in the append-only ledger. The hash never goes into the ledger."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from engine.model.facts import fact_key
from engine.policy import Actor
from engine.store.store import Store
from engine.store.tables import ledger, users
from engine.users import User


class UserExists(ValueError):
    pass


class NoSuchUser(KeyError):
    pass


def _user(row: Any) -> User:
    return User(row["name"], row["role"], row["agent"], row["team"], row["phone"], bool(row["disabled"]),
                row["created_at"], row["changed_at"])  # fmt: skip


class UserStore:
    def __init__(self, store: Store) -> None:
        self.store = store

    async def get(self, name: str) -> tuple[User, str] | None:
        """The user and its password hash, or None."""
        async with self.store.engine.connect() as conn:
            row = (await conn.execute(select(users).where(users.c.name == name))).mappings().first()
        return None if row is None else (_user(row), row["password_hash"])

    async def list(self) -> list[User]:
        async with self.store.engine.connect() as conn:
            rows = (await conn.execute(select(users).order_by(users.c.name))).mappings().all()
        return [_user(r) for r in rows]

    async def add(self, user: User, password_hash: str, by: Actor, now: float) -> None:
        async def work() -> None:
            async with self.store.engine.begin() as conn:
                if (await conn.execute(select(users.c.name).where(users.c.name == user.name))).first():
                    raise UserExists(user.name)
                await conn.execute(users.insert().values(
                    name=user.name, role=user.role, agent=user.agent, team=user.team, phone=user.phone,
                    password_hash=password_hash, disabled=False, created_at=now, changed_at=now))  # fmt: skip
                await _fact(conn, "user.added", user.name, by, now,
                            {"user_role": user.role, "agent": user.agent, "team": user.team,
                             "phone": user.phone})

        await self.store.write(work())

    async def set_password(self, name: str, password_hash: str, by: Actor, now: float) -> None:
        await self._change(name, {"password_hash": password_hash}, "user.password", by, now)

    async def disable(self, name: str, by: Actor, now: float) -> None:
        await self._change(name, {"disabled": True}, "user.disabled", by, now)

    async def _change(self, name: str, values: dict[str, Any], kind: str, by: Actor, now: float) -> None:
        async def work() -> None:
            async with self.store.engine.begin() as conn:
                # changed_at moves on: sessions signed in before the change stop working at their next request
                done = await conn.execute(update(users).where(users.c.name == name).values(changed_at=now, **values))
                if done.rowcount == 0:
                    raise NoSuchUser(name)
                await _fact(conn, kind, name, by, now, {})

        await self.store.write(work())


async def _fact(conn: AsyncConnection, kind: str, name: str, by: Actor, now: float, data: dict[str, Any]) -> None:
    # actor, role, via as the service API writes them: the role is the actor's; the user's is user_role
    row = {"actor": by.id, "role": by.role.value, "via": by.via, "user": name, **data}
    await conn.execute(ledger.insert().values(at=now, kind=kind, call_id="", uniqueid="",
                                              key=fact_key(kind, name, f"{now:.6f}"), data=row, recorded_at=now))
