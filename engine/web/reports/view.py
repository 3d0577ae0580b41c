"""A report dict (reports/services.py) as the page shows it: its tables of cells, the abandoned calls and the
formulas. Figures are written as the command line's text writes them (reports/export.py ``cell``), and every
formula is the report's own. Pure."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from engine.web.reports.texts import figure_name
from reports.export import cell

NAMES = frozenset({"period", "service", "agent", "name", "team", "campaign"})  # row keys, not figures


def table(report: Mapping[str, Any], rows: list[Mapping[str, Any]], lang: str,
          columns: list[str] | None = None) -> dict[str, Any]:  # fmt: skip
    """Header cells (key, label, whether it has a formula) and rows of cells; a key column is a row header."""
    formulas = report["formulas"]
    cols = [{"key": c, "label": figure_name(c, lang), "formula": c in formulas, "name": c in NAMES}
            for c in columns or report["columns"]]  # fmt: skip
    return {"columns": cols, "rows": [[cell(r.get(c["key"])) for c in cols] for r in rows]}


def outside(report: Mapping[str, Any]) -> list[tuple[str, Any]]:
    """The figures with a formula that are not a column: the report's own (e.g. the cases report's first-contact
    resolution), or one level down in a part of it (the cases report's ``follow_ups``: ``goal_met``)."""
    out = []
    for key in report["formulas"]:
        if key in report["columns"]:
            continue
        parts = [report, *(v for v in report.values() if isinstance(v, Mapping))]
        found = [p[key] for p in parts if key in p]
        if found and not isinstance(found[0], list | Mapping):  # lists are shown as their own tables
            out.append((key, found[0]))
    return out


def page_view(report: Mapping[str, Any], lang: str) -> dict[str, Any]:
    abandoned = report.get("abandoned_calls")
    return {
        "main": table(report, list(report["rows"]), lang),
        "total": [cell(report["total"].get(c)) for c in report["columns"]],
        "teams": table(report, list(report["teams"]), lang, report.get("team_columns")) if report.get("teams")
        else None,
        "abandoned": None if abandoned is None else [
            {"time": a["time"], "service": a["service"], "caller": a["caller"], "wait": cell(a["wait"]),
             "short": a["short"], "call_id": a["call_id"]} for a in abandoned],  # fmt: skip
        "formulas": [{"key": k, "label": figure_name(k, lang), "text": v} for k, v in report["formulas"].items()],
        "satisfaction_target": report.get("satisfaction_target"),
        "follow_up_goal": (report.get("follow_ups") or {}).get("goal"),  # the cases report's
        "outside": [{"key": k, "label": figure_name(k, lang), "value": cell(v)} for k, v in outside(report)],
    }
