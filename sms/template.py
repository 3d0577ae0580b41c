"""A message template, pure: UTF-8 text with ``{field}`` for a recipient's field (``{name}``, or a column of
the lead file); ``{{`` and ``}}`` are literal braces. A template that cannot be read names its file, line and
column; a field a recipient lacks names the field."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

TOKEN = re.compile(r"\{\{|\}\}|\{([A-Za-z_][A-Za-z0-9_]*)\}|\{|\}")


class TemplateError(ValueError):
    pass


@dataclass(frozen=True)
class Template:
    source: str  # the file, for messages
    pieces: tuple[str | tuple[str], ...]  # literal text, or (field,)

    @property
    def fields(self) -> frozenset[str]:
        return frozenset(p[0] for p in self.pieces if isinstance(p, tuple))

    def missing(self, values: dict[str, str]) -> list[str]:
        return sorted(f for f in self.fields if not values.get(f))

    def render(self, values: dict[str, str]) -> str:
        """The text for one recipient; TemplateError names the fields it lacks (an empty value is lacking: a
        message reading "Dear ," is worse than none)."""
        lacking = self.missing(values)
        if lacking:
            raise TemplateError(f"no value for {', '.join('{' + f + '}' for f in lacking)}")
        return "".join(p if isinstance(p, str) else values[p[0]] for p in self.pieces)


def parse_template(text: str, source: str = "<template>") -> Template:
    pieces: list[str | tuple[str]] = []
    at = 0
    for m in TOKEN.finditer(text):
        if m.start() > at:
            pieces.append(text[at : m.start()])
        tok = m.group(0)
        if tok in ("{{", "}}"):
            pieces.append(tok[0])
        elif m.group(1):
            pieces.append((m.group(1),))
        else:
            line = text.count("\n", 0, m.start()) + 1
            col = m.start() - (text.rfind("\n", 0, m.start()) + 1) + 1
            raise TemplateError(f"{source}:{line}:{col}: a lone {tok!r}: write {{field}} for a field, "
                                f"{tok * 2!r} for the brace itself")  # fmt: skip
        at = m.end()
    if at < len(text):
        pieces.append(text[at:])
    return Template(source, tuple(pieces))


def load_template(path: str | Path) -> Template:
    """The template in a file (UTF-8; a final newline is not part of the message)."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise TemplateError(f"{p}: file not found") from None
    except UnicodeDecodeError:
        raise TemplateError(f"{p}: not UTF-8 text") from None
    except OSError as exc:
        raise TemplateError(f"{p}: cannot read: {exc.strerror or exc}") from None
    text = text.removesuffix("\n").removesuffix("\r")
    if not text.strip():
        raise TemplateError(f"{p}: the template is empty")
    return parse_template(text, str(p))
