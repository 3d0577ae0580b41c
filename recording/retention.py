"""Retention by rule (pure): which indexed recordings are due for removal, and under which rule.

A rule names a kind (inbound, outbound, complaint, voicemail) and the days its recordings are kept, for all of
that kind or only one service's or one campaign's; the most specific rule that matches a recording decides.
A kind no rule names is kept. A campaign's recordings also go once its lead data has been destroyed
(``hotline leads purge``): they hold the same people's voices and numbers. A rule with
``keep_after_lead_purge = true`` keeps them to its own day count instead.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from engine.config_fields import Field, Report, check_fields
from recording.catalog import KINDS

DAY = 86400.0


def _kind(v: Any) -> str | None:
    return None if v in KINDS else f"must be one of {', '.join(KINDS)}"


def _days(v: Any) -> str | None:
    return None if v >= 0 else "must be 0 (the day it was made) or more"


RULE_FIELDS: dict[str, Field] = {
    "kind": Field(str, required=True, check=_kind, doc="inbound, outbound, complaint or voicemail"),
    "days": Field((int, float), required=True, check=_days, doc="days a recording is kept from its start"),
    "service": Field(str, "", doc="only this service's inbound recordings"),
    "campaign": Field(str, "", doc="only this campaign's outbound recordings"),
    "keep_after_lead_purge": Field(bool, False, doc="outbound: keep them to `days` after the campaign's lead data "
                                                    "is destroyed"),
}  # fmt: skip


@dataclass(frozen=True)
class Rule:
    kind: str
    days: float
    service: str = ""
    campaign: str = ""
    keep_after_lead_purge: bool = False

    @property
    def name(self) -> str:
        scope = f" {self.service}" if self.service else f" {self.campaign}" if self.campaign else ""
        return f"{self.kind}{scope}: {self.days:g} days"

    def matches(self, row: Mapping[str, Any]) -> bool:
        return (row["kind"] == self.kind and self.service in ("", row.get("service", ""))
                and self.campaign in ("", row.get("campaign", "")))  # fmt: skip

    @property
    def specificity(self) -> int:
        return bool(self.service) + bool(self.campaign)


def check_rules(raw: Any, report: Report) -> list[dict[str, Any]]:
    """``[[recording.retention]]`` checked; each problem reported as ``recording.retention[i].key``."""
    if not isinstance(raw, list):
        report("recording.retention", "must be an array of tables ([[recording.retention]])")
        return []
    out: list[dict[str, Any]] = []
    seen: set[tuple[str, str, str]] = set()
    for i, item in enumerate(raw):
        path = f"recording.retention[{i}]"
        if not isinstance(item, dict):
            report(path, "must be a table")
            continue
        values = check_fields(item, RULE_FIELDS, path, report)
        if "kind" not in values or "days" not in values:
            continue
        if values["service"] and values["kind"] == "outbound":
            report(f"{path}.service", "an outbound recording has no service (use campaign)")
        if values["campaign"] and values["kind"] != "outbound":
            report(f"{path}.campaign", f"only outbound recordings belong to a campaign, not {values['kind']}")
        key = (values["kind"], values["service"], values["campaign"])
        if key in seen:
            report(path, "a second rule for the same kind, service and campaign")
        seen.add(key)
        out.append(values)
    return out


def rules_of(raw: Iterable[Mapping[str, Any]]) -> list[Rule]:
    return [Rule(str(r["kind"]), float(r["days"]), str(r.get("service", "")), str(r.get("campaign", "")),
                 bool(r.get("keep_after_lead_purge", False))) for r in raw]  # fmt: skip


def rule_for(row: Mapping[str, Any], rules: Iterable[Rule]) -> Rule | None:
    """The most specific rule that matches the recording; None: no rule, kept."""
    found = sorted((r for r in rules if r.matches(row)), key=lambda r: -r.specificity)
    return found[0] if found else None


def due(rows: Iterable[Mapping[str, Any]], rules: list[Rule], now: float,
        leads_destroyed: Mapping[str, float]) -> list[tuple[Mapping[str, Any], str]]:  # fmt: skip
    """The recordings to remove now, each with why (the rule's name). ``leads_destroyed``: campaign -> when its
    lead data was last destroyed. Rows already purged are left alone."""
    out: list[tuple[Mapping[str, Any], str]] = []
    for row in rows:
        if row.get("purged_at") is not None:
            continue
        rule = rule_for(row, rules)
        campaign = row.get("campaign", "")
        destroyed = leads_destroyed.get(campaign) if row["kind"] == "outbound" else None
        # the recordings of the leads it destroyed: those made before it, not a later list's under the same name
        if (destroyed is not None and float(row["started_at"]) < destroyed
                and not (rule and rule.keep_after_lead_purge)):  # fmt: skip
            out.append((row, f"campaign {campaign}: lead data destroyed"))
        elif rule is not None and now - float(row["started_at"]) >= rule.days * DAY:
            out.append((row, rule.name))
    return out
