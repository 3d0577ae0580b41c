"""The console's languages (the IVR menu's: English and Chinese), picked by the browser's Accept-Language."""

from __future__ import annotations

LANGUAGES = ("en", "zh")


def pick_language(accept: str, default: str = "en") -> str:
    """The first of LANGUAGES by the header's q-values ("zh-CN,zh;q=0.9,en;q=0.8" -> zh); ``default`` if none."""
    best: tuple[float, int, str] | None = None
    for i, part in enumerate(accept.split(",")):
        tag, _, params = part.strip().partition(";")
        q = 1.0
        for p in params.split(";"):
            name, _, value = p.strip().partition("=")
            if name == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        lang = tag.strip().lower().split("-")[0]
        if lang in LANGUAGES and q > 0 and (best is None or (-q, i) < (-best[0], best[1])):
            best = (q, i, lang)
    return best[2] if best else default
