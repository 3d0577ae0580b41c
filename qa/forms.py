"""Scoring forms as data: a TOML file per form in the site's folder, checked with file and line, and the score a
set of answers earns on it (pure, but for reading the file).

```toml
[form]
name = "inbound"                      # how grades name it
title = "Inbound call quality"

[[sections]]
id = "open"
title = "Opening"

[[questions]]
id = "greet"
section = "open"
text = "Greets with the company's name"
weight = 2                            # share of the score
scale = ["no", "partly", "yes"]       # worst first: answer i of n earns i / (n - 1) of the weight
na = true                             # "n/a" allowed: the question leaves the score
critical = false                      # its worst answer makes the whole score 0
```
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from engine.config_fields import Field, check_fields
from engine.config_problems import ConfigError, Problems, parse_toml, read_text

NA = "n/a"
_ID = re.compile(r"[a-z0-9][a-z0-9_-]{0,39}")


def _ident(v: Any) -> str | None:
    return None if _ID.fullmatch(v) else "lower-case letters, digits, '_' and '-', up to 40"


def _weight(v: Any) -> str | None:
    return None if v > 0 else "must be greater than 0"


def _scale(v: Any) -> str | None:
    if len(v) < 2 or not all(isinstance(x, str) and x.strip() for x in v):
        return "must list at least two answers, worst first"
    if len(set(v)) != len(v) or NA in v:
        return f"answers must differ and not be {NA!r} (that is the na key's)"
    return None


FORM_FIELDS = {"name": Field(str, required=True, check=_ident), "title": Field(str, "")}
SECTION_FIELDS = {"id": Field(str, required=True, check=_ident), "title": Field(str, "")}
QUESTION_FIELDS = {
    "id": Field(str, required=True, check=_ident),
    "section": Field(str, required=True),
    "text": Field(str, required=True),
    "weight": Field((int, float), 1, check=_weight),
    "scale": Field(list, ["no", "yes"], check=_scale),
    "na": Field(bool, False),
    "critical": Field(bool, False),
}


@dataclass(frozen=True)
class Question:
    id: str
    section: str
    text: str
    weight: float
    scale: tuple[str, ...]
    na: bool
    critical: bool


@dataclass(frozen=True)
class Form:
    name: str
    title: str
    sections: tuple[tuple[str, str], ...]  # (id, title)
    questions: tuple[Question, ...]
    source: str

    @property
    def hash(self) -> str:
        """SHA-256 of the form's content: a grade names the exact form it was given on."""
        body = {"name": self.name, "title": self.title, "sections": self.sections,
                "questions": [asdict(q) for q in self.questions]}  # fmt: skip
        return hashlib.sha256(json.dumps(body, sort_keys=True, ensure_ascii=False).encode()).hexdigest()

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "title": self.title, "hash": self.hash,
                "sections": [{"id": i, "title": t} for i, t in self.sections],
                "questions": [asdict(q) for q in self.questions]}  # fmt: skip


@dataclass(frozen=True)
class Scored:
    score: float  # 0-100
    critical_failed: tuple[str, ...]  # critical questions answered with their worst answer (score 0)
    points: dict[str, float | None]  # per question, its share earned 0-1 (None: n/a)


def load_form(path: Path) -> Form:
    """Read and check one form file; ConfigError lists every problem as ``file:line: key: message``."""
    text = read_text(path)
    data = parse_toml(path, text)
    problems = Problems(path, text)
    report = problems.report
    for key in data:
        if key not in ("form", "sections", "questions"):
            report(key, "unknown table (a form has [form], [[sections]] and [[questions]])")
    head = check_fields(data.get("form", {}) if isinstance(data.get("form"), dict) else {}, FORM_FIELDS, "form",
                        report)  # fmt: skip
    sections: list[tuple[str, str]] = []
    for i, s in enumerate(_tables(data, "sections", report)):
        v = check_fields(s, SECTION_FIELDS, f"sections[{i}]", report)
        if "id" in v:
            if any(v["id"] == sid for sid, _ in sections):
                report(f"sections[{i}].id", f"section {v['id']!r} is named twice")
            sections.append((v["id"], v["title"] or v["id"]))
    questions: list[Question] = []
    for i, q in enumerate(_tables(data, "questions", report)):
        v = check_fields(q, QUESTION_FIELDS, f"questions[{i}]", report)
        if not {"id", "section", "text"} <= v.keys():
            continue
        if any(v["id"] == o.id for o in questions):
            report(f"questions[{i}].id", f"question {v['id']!r} is named twice")
        if v["section"] not in {sid for sid, _ in sections}:
            report(f"questions[{i}].section", f"no section {v['section']!r} in [[sections]]")
        questions.append(Question(v["id"], v["section"], v["text"], float(v["weight"]), tuple(v["scale"]), v["na"],
                                  v["critical"]))  # fmt: skip
    if not questions:
        report("questions", "a form needs at least one [[questions]]")
    if problems.items:
        raise ConfigError(problems.sorted())
    return Form(head["name"], head["title"] or head["name"], tuple(sections), tuple(questions), str(path))


def _tables(data: dict[str, Any], key: str, report: Any) -> list[dict[str, Any]]:
    raw = data.get(key, [])
    if not isinstance(raw, list) or not all(isinstance(x, dict) for x in raw):
        report(key, f"must be an array of tables ([[{key}]])")
        return []
    return raw


def score(form: Form, answers: dict[str, str]) -> Scored:
    """The score ``answers`` (question id -> an answer of its scale, or "n/a") earn. ValueError says what is
    wrong: a question unanswered or unknown, an answer off the scale, n/a where the form allows none, nothing to
    score."""
    known = {q.id for q in form.questions}
    extra = sorted(set(answers) - known)
    if extra:
        raise ValueError(f"no question {extra[0]!r} on form {form.name!r}")
    points: dict[str, float | None] = {}
    earned = total = 0.0
    failed: list[str] = []
    for q in form.questions:
        a = answers.get(q.id)
        if a is None or a == "":
            raise ValueError(f"question {q.id!r} is not answered")
        if a == NA:
            if not q.na:
                raise ValueError(f"question {q.id!r} must be answered: n/a is not allowed")
            points[q.id] = None
            continue
        if a not in q.scale:
            raise ValueError(f"{a!r} is not an answer of question {q.id!r} ({', '.join(q.scale)})")
        p = q.scale.index(a) / (len(q.scale) - 1)
        points[q.id] = p
        earned += q.weight * p
        total += q.weight
        if q.critical and p == 0:
            failed.append(q.id)
    if total == 0:
        raise ValueError("every question is n/a: nothing to score")
    return Scored(0.0 if failed else round(100 * earned / total, 2), tuple(failed), points)
