"""Knowledge-base articles (pure): what an article may hold, and how a search's words become terms.

An article is Markdown, in Chinese or English, with a title and tags. A search splits what was typed into terms
(by spaces and punctuation); an article matches when it holds every term. Terms of three characters or more go
to the store's full-text index; a shorter one (a two-character Chinese word such as 退款) is matched as a
substring, which the few hundred articles of a knowledge base afford.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

LANGS = ("zh", "en")
MAX_TITLE, MAX_TAGS, MAX_BODY = 120, 200, 20_000
MAX_TERMS = 8
_SPLIT = re.compile(r"[\s\"'`*^(){}\[\]:;,.!?&|<>~+\-，。！？、：；“”‘’（）《》]+")


class ArticleError(ValueError):
    """An article's field that cannot be kept: the message names it."""


@dataclass(frozen=True)
class ArticleFields:
    lang: str
    title: str
    tags: str
    body: str

    def as_row(self) -> dict[str, Any]:
        return {"lang": self.lang, "title": self.title, "tags": self.tags, "body": self.body}


def article_fields(values: dict[str, Any]) -> ArticleFields:
    lang = str(values.get("lang", "")).strip()
    if lang not in LANGS:
        raise ArticleError(f"lang {lang!r}: zh or en")
    title = " ".join(str(values.get("title", "")).split())
    if not title:
        raise ArticleError("title: give the article a title")
    if len(title) > MAX_TITLE:
        raise ArticleError(f"title: at most {MAX_TITLE} characters")
    tags = ", ".join(t for t in (x.strip() for x in re.split(r"[,，]", str(values.get("tags", "")))) if t)
    if len(tags) > MAX_TAGS:
        raise ArticleError(f"tags: at most {MAX_TAGS} characters in all")
    body = str(values.get("body", "")).replace("\r\n", "\n").strip()
    if not body:
        raise ArticleError("body: write the answer")
    if len(body) > MAX_BODY:
        raise ArticleError(f"body: at most {MAX_BODY} characters")
    return ArticleFields(lang, title, tags, body)


def terms(query: str) -> list[str]:
    """The words of a search, without the index's own syntax, at most ``MAX_TERMS``, each once."""
    return list(dict.fromkeys(t.lower() for t in _SPLIT.split(query) if t))[:MAX_TERMS]
