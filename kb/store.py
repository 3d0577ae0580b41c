"""The ``kb_articles`` table and its full-text search (migration 0020): SQLite's FTS5 with the trigram tokenizer,
PostgreSQL's to_tsvector / plainto_tsquery over the 'simple' configuration. A term the index cannot take (shorter than
three characters on SQLite; any Chinese on PostgreSQL, whose 'simple' parser does not split Chinese into words)
is matched as a substring instead."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import and_, func, literal_column, or_, select, text, update
from sqlalchemy.ext.asyncio import AsyncEngine

from engine.store.tables import kb_articles
from kb.model import ArticleFields, terms

_CJK = re.compile(r"[\u3000-\u9fff\uf900-\ufaff]")
LIMIT = 20


class StaleArticle(ValueError):
    """The article changed since the editor read it."""


def _like(term: str) -> Any:
    pattern = "%" + term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    t = kb_articles.c
    return or_(t.title.ilike(pattern, escape="\\"), t.tags.ilike(pattern, escape="\\"),
               t.body.ilike(pattern, escape="\\"))  # fmt: skip


class ArticleStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def add(self, fields: ArticleFields, by: str, now: float) -> int:
        async with self.engine.begin() as conn:
            got = await conn.execute(kb_articles.insert().values(**fields.as_row(), version=1, by=by, created_at=now,
                                                                 updated_at=now).returning(kb_articles.c.id))
            return int(got.scalar_one())

    async def change(self, article: int, version: int, fields: ArticleFields, by: str, now: float) -> int:
        """The next version of ``article`` if ``version`` is still its newest; the new version. KeyError for no
        such article, StaleArticle when someone saved it since."""
        async with self.engine.begin() as conn:
            done = await conn.execute(update(kb_articles).where(kb_articles.c.id == article,
                                                                kb_articles.c.version == version)
                                      .values(**fields.as_row(), version=version + 1, by=by, updated_at=now))
            if done.rowcount == 1:
                return version + 1
            now_v = (await conn.execute(select(kb_articles.c.version).where(kb_articles.c.id == article))).scalar()
        if now_v is None:
            raise KeyError(article)
        raise StaleArticle(f"article {article} is at version {now_v} now, not {version}: read it again")

    async def get(self, article: int) -> dict[str, Any] | None:
        async with self.engine.connect() as conn:
            row = (await conn.execute(select(kb_articles).where(kb_articles.c.id == article))).mappings().first()
        return dict(row) if row is not None else None

    async def newest(self, n: int = LIMIT) -> list[dict[str, Any]]:
        q = select(kb_articles).order_by(kb_articles.c.updated_at.desc(), kb_articles.c.id.desc()).limit(n)
        async with self.engine.connect() as conn:
            return [dict(r) for r in (await conn.execute(q)).mappings().all()]

    async def search(self, query: str, n: int = LIMIT) -> list[dict[str, Any]]:
        """The articles holding every term of ``query``, best first (the index's rank, then the newest)."""
        words = terms(query)
        if not words:
            return []
        pg = self.engine.dialect.name == "postgresql"
        indexed = [w for w in words if len(w) >= 3 and not (pg and _CJK.search(w))]
        rest = [_like(w) for w in words if w not in indexed]
        t = kb_articles.c
        if not indexed:
            q = select(kb_articles).where(and_(*rest)).order_by(t.updated_at.desc())
        elif pg:
            document = func.to_tsvector(literal_column("'simple'"), t.title + " " + t.tags + " " + t.body)
            wanted = func.plainto_tsquery(literal_column("'simple'"), " ".join(indexed))  # every word, no syntax
            q = (select(kb_articles).where(document.op("@@")(wanted), *rest)
                 .order_by(func.ts_rank(document, wanted).desc(), t.updated_at.desc()))  # fmt: skip
        else:
            match = " AND ".join(f'"{w}"' for w in indexed)  # quoted: a term is a phrase, never the index's syntax
            q = (select(kb_articles).join(text("kb_search"), text("kb_search.rowid = kb_articles.id"))
                 .where(text("kb_search MATCH :match"), *rest)
                 .order_by(text("bm25(kb_search)"), t.updated_at.desc()).params(match=match))  # fmt: skip
        async with self.engine.connect() as conn:
            return [dict(r) for r in (await conn.execute(q.limit(n))).mappings().all()]
