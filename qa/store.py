"""Grades and calibrations in SQL: rows only ever added (the database refuses any change: migration 0014)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from engine.store.tables import calibrations, grades


class GradeStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def add(self, row: dict[str, Any]) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(grades.insert().values(**row))

    async def of(self, recording: str) -> list[dict[str, Any]]:
        q = select(grades).where(grades.c.recording == recording).order_by(grades.c.created_at, grades.c.version)
        async with self.engine.connect() as conn:
            return [dict(r) for r in (await conn.execute(q)).mappings().all()]

    async def since(self, at: float) -> list[dict[str, Any]]:
        q = select(grades).where(grades.c.created_at >= at).order_by(grades.c.created_at)
        async with self.engine.connect() as conn:
            return [dict(r) for r in (await conn.execute(q)).mappings().all()]

    async def calibrate(self, recording: str, form: str, by: str, at: float) -> bool:
        """Put a call up for blind scoring; False if it is already."""
        async with self.engine.begin() as conn:
            if (await conn.execute(select(calibrations).where(calibrations.c.recording == recording))).first():
                return False
            await conn.execute(calibrations.insert().values(recording=recording, form=form, created_by=by,
                                                            created_at=at))  # fmt: skip
        return True

    async def calibration(self, recording: str) -> dict[str, Any] | None:
        async with self.engine.connect() as conn:
            row = (await conn.execute(select(calibrations).where(calibrations.c.recording == recording))).first()
        return dict(row._mapping) if row is not None else None

    async def calibrations(self) -> list[dict[str, Any]]:
        async with self.engine.connect() as conn:
            rows = (await conn.execute(select(calibrations).order_by(calibrations.c.created_at))).mappings().all()
        return [dict(r) for r in rows]
