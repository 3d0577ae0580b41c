"""A report written out: a text table with each figure's formula under it, JSON, CSV, an xlsx workbook
(openpyxl) and a PNG plot (matplotlib): service level and offered calls by interval for the services and hotline
reports, occupancy by agent for the agents report."""

from __future__ import annotations

import csv
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

PLOTS = ("services", "hotline", "agents")  # the reports with a plot; campaigns have none


def cell(v: Any) -> str:
    if v is None:
        return "-"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, Mapping):
        return " ".join(f"{k}:{cell(x)}" for k, x in v.items()) or "-"
    return str(v)


def _table(columns: list[str], rows: list[dict[str, Any]]) -> list[str]:
    cells = [[cell(r.get(c)) for c in columns] for r in rows]
    widths = [max([len(c), *(len(r[i]) for r in cells)]) for i, c in enumerate(columns)]
    # names left-aligned, figures right-aligned
    keys = sum(1 for c in columns if c in ("period", "service", "agent", "name", "team", "campaign"))

    def line(vals: list[str]) -> str:
        pairs = enumerate(zip(vals, widths, strict=True))
        return "  ".join(v.ljust(w) if i < keys else v.rjust(w) for i, (v, w) in pairs)

    return [line(columns), *(line(r) for r in cells)]


def text(report: Mapping[str, Any]) -> str:
    filters = " ".join(f"{k}={v}" for k, v in report["filters"].items())
    out = [f"{report['report']} report, {report['site']}: {report['from']} to {report['to']} "
           f"({report['timezone']}), by {report['interval']}{'  ' + filters if filters else ''}", ""]  # fmt: skip
    cols = list(report["columns"])
    out += _table(cols, [*report["rows"], report["total"]])
    if report.get("teams"):
        out += ["", "by team:", *_table(list(report.get("team_columns", cols)), report["teams"])]
    if "commission" in report:  # sales: the split of all sales, in the site's currency
        out += ["", f"commission ({report['currency']}): " + ", ".join(
            f"{k.removeprefix('commission_')} {cell(v)}" for k, v in report["commission"].items())]
    if "abandoned_calls" in report:
        out += ["", f"abandoned calls ({len(report['abandoned_calls'])}):"]
        out += [f"  {a['time']}  {a['service']:<12} {a['caller']:<14} waited {cell(a['wait'])} s"
                f"{'  (short)' if a['short'] else ''}" for a in report["abandoned_calls"]]  # fmt: skip
    if "first_contact_resolution" in report:
        fu = report["follow_ups"]
        out += ["", f"follow-up rate {cell(fu['follow_up_rate'])} against the goal {fu['goal']} "
                    f"(met: {cell(fu['goal_met'])}); low-survey cases opened {report['low_survey_opened']}; "
                    f"first-contact resolution {cell(report['first_contact_resolution'])} "
                    f"({report['repeat_contacts']} repeat contact(s) of {report['cases_resolved']} resolved)"]
    if report.get("satisfaction_target") is not None:
        out += ["", f"satisfaction target: {report['satisfaction_target']} %"]
    out += ["", "formulas:"] + [f"  {k}: {v}" for k, v in report["formulas"].items()]
    return "\n".join(out)


def write_json(report: Mapping[str, Any], path: str) -> None:
    Path(path).write_text(json.dumps(report, indent=1, ensure_ascii=False) + "\n")


def write_csv(report: Mapping[str, Any], path: str) -> None:
    """The rows and the total, one figure a column; a dict figure (pauses, dispositions) as ``key:value`` pairs."""
    cols = list(report["columns"])
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(cols)
        for r in [*report["rows"], *([] if "team_columns" in report else report.get("teams", [])), report["total"]]:
            w.writerow(["" if r.get(c) is None else cell(r.get(c)) for c in cols])


def write_xlsx(report: Mapping[str, Any], path: str) -> None:
    """A sheet of rows (total last), a sheet per list (teams, abandoned calls) and the formulas."""
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = report["report"]
    cols = list(report["columns"])
    ws.append(cols)
    for r in [*report["rows"], report["total"]]:
        ws.append([_xl(r.get(c)) for c in cols])
    if report.get("teams"):
        t = wb.create_sheet("teams")
        t_cols = list(report.get("team_columns", cols))
        t.append(t_cols)
        for r in report["teams"]:
            t.append([_xl(r.get(c)) for c in t_cols])
    if "abandoned_calls" in report:
        a = wb.create_sheet("abandoned")
        keys = ["time", "service", "caller", "wait", "short", "call_id"]
        a.append(keys)
        for r in report["abandoned_calls"]:
            a.append([_xl(r[k]) for k in keys])
    f = wb.create_sheet("formulas")
    f.append(["figure", "formula"])
    for k, v in report["formulas"].items():
        f.append([k, v])
    wb.save(path)


def _xl(v: Any) -> Any:
    return cell(v) if isinstance(v, Mapping) else v


def write_plot(report: Mapping[str, Any], path: str) -> None:
    import matplotlib

    matplotlib.use("Agg")  # no display: a file only
    import matplotlib.pyplot as plt

    rows = report["rows"]
    fig, ax = plt.subplots(figsize=(max(6.0, 0.35 * len(rows) + 3), 4.5))
    try:
        if report["report"] == "agents":
            labels = [f"{r['agent']} {r['period']}" for r in rows]
            ax.bar(range(len(rows)), [100 * (r["occupancy"] or 0) for r in rows], color="tab:blue")
            ax.set_ylabel("occupancy, %")
            ax.set_xticks(range(len(rows)), labels, rotation=60, ha="right", fontsize=7)
        else:
            periods = list(dict.fromkeys(r["period"] for r in rows))
            offered = dict.fromkeys(periods, 0)
            sl: dict[str, dict[str, float]] = {}  # service -> period -> service level, %
            for r in rows:
                offered[r["period"]] += r["offered"]
                if r["service_level"] is not None:
                    sl.setdefault(r.get("service") or "hotline", {})[r["period"]] = 100 * r["service_level"]
            x = list(range(len(periods)))
            ax.bar(x, [offered[p] for p in periods], color="tab:gray", label="offered")
            ax.set_ylabel("offered calls")
            ax2 = ax.twinx()
            for service, by_period in sorted(sl.items()):
                ax2.plot(x, [by_period.get(p, float("nan")) for p in periods], marker="o",
                         label=f"service level {service}")  # fmt: skip
            ax2.set_ylabel("service level, %")
            ax2.set_ylim(0, 105)
            ax2.legend(loc="lower right", fontsize=7)
            ax.set_xticks(x, periods, rotation=60, ha="right", fontsize=7)
        ax.set_title(f"{report['report']}: {report['from']} to {report['to']}")
        fig.tight_layout()
        fig.savefig(path, format="png")
    finally:
        plt.close(fig)
