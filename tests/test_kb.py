"""The knowledge base without a browser: an article's fields named when wrong, a search's words, the full-text
search on real stores (SQLite's FTS5 trigram index and PostgreSQL's own: English words, Chinese words of two
characters and more, every word required, an edit found under its new words only), a save only by the training
staff and only on the newest version, each a ledger fact; the training role kept out of cases, orders and the
floor; Markdown rendered without raw HTML; a case's resolution linking the article it cites."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from engine.model.facts import Fact
from engine.policy import Actor, Policy, Role
from engine.store.store import Store, migrate
from engine.web.cases.view import kb_parts
from engine.web.kb.routes import render_markdown
from kb.model import ArticleError, article_fields, terms
from kb.services import KnowledgeBase
from kb.store import ArticleStore, StaleArticle

POLICY = Policy(lambda agent: frozenset({"front"}))
TRAINER = Actor("trainer", Role.TRAINING, via="web")
AGENT = Actor("1001", Role.AGENT, via="web")
REFUND = {"lang": "zh", "title": "如何办理退款", "tags": "退款, 售后",
          "body": "客户要求退款时，先核对订单号，再按**七天无理由**流程办理。"}  # fmt: skip
ADDRESS = {"lang": "en", "title": "Changing the delivery address", "tags": "delivery",
           "body": "An order not yet shipped can be sent elsewhere: confirm the order number first."}  # fmt: skip


def test_an_articles_fields_and_a_searchs_words():
    got = article_fields({**REFUND, "title": "  如何   办理退款 ", "tags": "退款，售后, "})
    assert (got.title, got.tags) == ("如何 办理退款", "退款, 售后")
    for values, says in [({**REFUND, "lang": "fr"}, "lang 'fr': zh or en"), ({**REFUND, "title": ""}, "title"),
                         ({**REFUND, "body": " "}, "body: write the answer"),
                         ({**REFUND, "title": "x" * 121}, "title: at most 120")]:  # fmt: skip
        with pytest.raises(ArticleError, match=says):
            article_fields(values)
    assert terms('退款，"refund" AND (policy)* OR-x') == ["退款", "refund", "and", "policy", "or", "x"]


def test_full_text_search_on_each_store(store_url):
    async def main() -> None:
        await asyncio.to_thread(migrate, store_url)
        store = Store(store_url)
        facts: list[Fact] = []

        async def record(f: list[Fact]) -> None:
            facts.extend(f)

        kb = KnowledgeBase(ArticleStore(store.engine), record, lambda: 1000.0, lambda: POLICY)
        try:
            refund, _ = await kb.save(TRAINER, dict(REFUND))
            address, _ = await kb.save(TRAINER, dict(ADDRESS))

            async def found(q: str) -> list[int]:
                return [a["id"] for a in await kb.store.search(q)]

            assert await found("退款") == [refund], "a two-character Chinese word"
            assert await found("七天无理由") == [refund], "a longer Chinese word inside a sentence"
            assert await found("订单号 流程") == [refund], "every word, anywhere in it"
            assert await found("delivery address") == [address]
            assert await found("order") == [address], "English"
            assert await found("退款 delivery") == [], "every word must be in one article"
            assert await found("") == [] and await found("nothing here") == []
            # the next version is found by its new words, not its old ones
            await kb.save(TRAINER, {**ADDRESS, "title": "Sending an order elsewhere", "tags": "shipping"}, address, 1)
            assert await found("shipping") == [address] and await found("delivery") == []
            with pytest.raises(StaleArticle, match="is at version 2 now, not 1"):
                await kb.save(TRAINER, dict(ADDRESS), address, 1)
            with pytest.raises(PermissionError, match="kept by the training staff"):
                await kb.save(AGENT, dict(ADDRESS))
            assert [(f.kind, f.data["article"], f.data["version"], f.data["by"]) for f in facts] == [
                ("kb.saved", refund, 1, "trainer"), ("kb.saved", address, 1, "trainer"),
                ("kb.saved", address, 2, "trainer")]  # fmt: skip
        finally:
            await store.close()

    asyncio.run(main())


def test_the_training_role_keeps_the_base_and_sees_no_customers():
    assert POLICY.kb_refusal(TRAINER, "write") is None and POLICY.kb_refusal(Actor("a", Role.ADMIN), "write") is None
    assert POLICY.kb_refusal(AGENT, "read") is None
    assert POLICY.kb_refusal(AGENT, "write") == "the knowledge base is kept by the training staff"
    case: dict[str, Any] = {"id": "c1", "team": "front", "owner": "1001", "kind": "complaint"}
    assert POLICY.case_refusal(TRAINER, "read", case).startswith("cases hold customers' data")
    assert POLICY.view_refusal(TRAINER, "cases", "").startswith("cases hold customers' data")
    assert POLICY.order_refusal(TRAINER, "read", "front", "1001") is not None
    assert POLICY.view_refusal(TRAINER, "wallboard") is not None
    assert POLICY.view_refusal(TRAINER, "recording", "1001") is not None
    assert POLICY.refusal(TRAINER, "pause", "1001") is not None


def test_markdown_without_raw_html_and_a_resolution_citing_an_article():
    html = str(render_markdown("**bold** <script>alert(1)</script> [x](javascript:alert(1))"))
    assert "<strong>bold</strong>" in html and "<script>" not in html and 'href="javascript' not in html
    assert kb_parts("refunded as KB-12 says") == [("refunded as ", ""), ("KB-12", "12"), (" says", "")]
    assert kb_parts("no article") == [("no article", "")]
