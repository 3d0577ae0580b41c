"""The external CRM's screen pop (pure): ``[crm] screen_pop_url`` with the offered call's fields put in.

A template names fields in braces: ``{number}`` (the customer's number in E.164, in full: the external CRM finds
its record by it, so the agent's browser is handed it), ``{call}``, ``{agent}``, ``{direction}`` (in or out),
``{service}`` (the service queued in, or the campaign), ``{lead}`` (an outbound call's lead id, else empty).
Every value is percent-encoded, so none can change the URL's shape.
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from urllib.parse import quote

FIELDS = ("number", "call", "agent", "direction", "service", "lead")


def template_problem(template: str) -> str | None:
    """Why ``template`` cannot be filled in (an unknown field, a brace left open), or None."""
    try:
        names = [name for _, name, spec, conv in string.Formatter().parse(template) if name is not None]
    except ValueError as exc:
        return f"is not a template: {exc} (a literal brace is written {{{{ or }}}})"
    bad = [n for n in names if n not in FIELDS]
    if bad:
        return f"names unknown field(s) {', '.join('{' + n + '}' for n in bad)}: known are " + ", ".join(
            "{" + f + "}" for f in FIELDS
        )
    return None


def pop_url(template: str, values: Mapping[str, object]) -> str:
    """The template with each field's value percent-encoded (a missing one is empty)."""
    return template.format_map({f: quote(str(values.get(f) or ""), safe="") for f in FIELDS})
