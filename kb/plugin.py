"""The knowledge base's wiring: with the SQL store (its articles and full-text index live there)."""

from __future__ import annotations

from engine.app import Engine
from kb.services import KnowledgeBase
from kb.store import ArticleStore


def install(engine: Engine) -> KnowledgeBase | None:
    sql = getattr(engine.store, "engine", None)
    if sql is None:  # the virtual PBX's in-memory store: no knowledge base
        return None
    kb = KnowledgeBase(ArticleStore(sql), engine.record, engine.clock.now, lambda: engine.features["api"].policy)
    engine.features["kb"] = kb
    return kb
