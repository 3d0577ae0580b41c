"""The knowledge base as a service: articles read by everyone signed in, written by the training staff (the
policy's ``kb_refusal``), each save a ``kb.saved`` fact (who, which article, which version, its title)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from engine.model.facts import Fact, fact_key
from engine.policy import Actor, Policy
from kb.model import article_fields
from kb.store import ArticleStore


class KnowledgeBase:
    def __init__(self, store: ArticleStore, record: Callable[[list[Fact]], Awaitable[None]],
                 now: Callable[[], float], policy: Callable[[], Policy]) -> None:  # fmt: skip
        self.store = store
        self._record = record
        self.now = now
        self.policy = policy  # looked up when used: the service API's, built after this

    async def save(self, actor: Actor, values: dict[str, Any], article: int | None = None,
                   version: int = 0) -> tuple[int, int]:  # fmt: skip
        """A new article (``article`` None) or the next version of one; (article, version). PermissionError when
        the actor may not write, ValueError (ArticleError, StaleArticle) naming what is wrong, KeyError for no
        such article."""
        why = self.policy().kb_refusal(actor, "write")
        if why is not None:
            raise PermissionError(why)
        fields = article_fields(values)
        now = self.now()
        if article is None:
            article, version = await self.store.add(fields, actor.id, now), 1
        else:
            version = await self.store.change(article, version, fields, actor.id, now)
        key = f"kb:{article}"
        await self._record([Fact("kb.saved", now, key, "", fact_key("kb.saved", article, version),
                                 {"article": article, "version": version, "title": fields.title, "lang": fields.lang,
                                  "by": actor.id, "role": actor.role.value})])  # fmt: skip
        return article, version
