"""Site configuration: one TOML file, checked against a schema, errors as ``file:line: key.path: message``.

The pieces live in their own modules: ``config_problems`` (placing problems on lines),
``config_fields`` (the schema machinery), ``config_sections`` (the plain tables) and
``config_agents`` / ``config_services`` / ``dialer.settings`` (the arrays of tables and their
typed records; campaigns are the dialer's). This module joins them: the ``Site`` and the cross-table checks
of ``load_site``.
"""

from __future__ import annotations

import dataclasses
import difflib
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from crm.settings import check_crm
from dialer.settings import Campaign, build_campaigns
from engine.config_agents import Agent, build_agents
from engine.config_fields import check_fields
from engine.config_problems import ConfigError, Problems, parse_toml, read_text
from engine.config_sections import SECTIONS
from engine.config_services import ServiceConfig, build_services
from engine.store.url import check_section as check_store
from fax.settings import check_fax
from qa.forms import Form, load_form
from recording.retention import check_rules
from sms.settings import check_sms

# the names other modules import from here
__all__ = ["Agent", "Campaign", "ConfigError", "ServiceConfig", "Site", "load_rules", "load_site"]


@dataclass(frozen=True)
class Site:
    path: Path
    values: dict[str, dict[str, Any]]
    agents: list[Agent] = field(default_factory=list)
    services: list[ServiceConfig] = field(default_factory=list)
    campaigns: list[Campaign] = field(default_factory=list)
    forms: list[Form] = field(default_factory=list)  # [qa] forms, loaded and checked

    def __getitem__(self, section: str) -> dict[str, Any]:
        return self.values[section]

    def agent(self, agent_id: str) -> Agent:
        for a in self.agents:
            if a.id == agent_id:
                return a
        raise KeyError(agent_id)

    def with_values(self, **sections: dict[str, Any]) -> Site:
        """A copy with some keys changed (tests and tools); the schema has been checked already."""
        values = {k: dict(v) for k, v in self.values.items()}
        for section, updates in sections.items():
            values[section].update(updates)
        return Site(self.path, values, list(self.agents), list(self.services), list(self.campaigns),
                    list(self.forms))

    def menu_path(self) -> Path | None:
        menu = self.values["ivr"]["menu"]
        return (self.path.parent / menu) if menu else None

    def service_names(self) -> list[str]:
        return [sv.name for sv in self.services] or [self.values["hotline"]["service"]]

    def skill_names(self) -> set[str]:
        return {k for a in self.agents for k in a.skills}

    def summary(self) -> str:
        return (
            f"{self.path}: ok: site {self['site']['name']!r}, hotline {self['hotline']['number']}, "
            f"{len(self.agents)} agent(s), AMI {self['asterisk']['ami_host']}:{self['asterisk']['ami_port']}, "
            f"store {self['store']['url'].split(':', 1)[0]}"
        )


def load_site(path: str | os.PathLike[str]) -> Site:
    """Parse and validate; raise ConfigError listing every problem as file:line: key: message."""
    p = Path(path)
    text = read_text(p)
    data = parse_toml(p, text)
    problems = Problems(p, text)
    report = problems.report

    values: dict[str, dict[str, Any]] = {}
    for name, table in data.items():
        if name in ("agents", "services", "campaigns"):
            continue
        if name not in SECTIONS:
            near = difflib.get_close_matches(name, [*SECTIONS, "agents", "services", "campaigns"], n=1)
            hint = f" (did you mean '{near[0]}'?)" if near else ""
            report(name, f"unknown section{hint}")
        elif not isinstance(table, dict):
            report(name, "must be a table")
    for name, spec in SECTIONS.items():
        table = data.get(name, {})
        values[name] = check_fields(table if isinstance(table, dict) else {}, spec, name, report)

    agents, seen = build_agents(data.get("agents", []), report)
    services, names = build_services(data.get("services", []), agents, report)

    hot = values.get("hotline", {})
    if hot.get("agent") and hot["agent"] not in seen:
        report("hotline.agent", f"no agent with id {hot['agent']!r} in [[agents]]")
    campaign_agents_of = _campaign_agent_ids(data.get("campaigns", []))
    for g in hot.get("guard_agents") or []:
        if g not in seen:
            report("hotline.guard_agents", f"no agent with id {g!r} in [[agents]]")
        elif g not in campaign_agents_of:
            report("hotline.guard_agents", f"agent {g!r} works no campaign: the guard takes agents off the dialer")
    if services and hot.get("service") not in names:
        report("hotline.service", f"no service named {hot.get('service')!r} in [[services]]")
    ast = values["asterisk"]
    if not ast.get("lab") and not ast.get("ami_secret_file"):
        report("asterisk.ami_secret_file", "required unless lab = true (no default password)")
    if not ast.get("lab") and not values["recording"].get("local_dir"):
        report("recording.local_dir", "required unless asterisk.lab = true")
    values["recording"]["retention"] = check_rules(values["recording"]["retention"], report)
    check_sms(values["sms"], p.parent, report)
    check_fax(values["fax"], bool(ast.get("lab")), report)
    check_crm(values["crm"], p.parent, report)
    if values["sms"].get("gateway") and not values["http"].get("listen"):
        report("sms.gateway", "needs http.listen: the gateway's delivery reports and replies come to the engine there")
    check_store(values["store"], p.parent, report)  # a relative SQLite path is the site folder's
    menu = values["ivr"].get("menu")
    if menu and not (p.parent / menu).exists():
        report("ivr.menu", f"menu file {p.parent / menu} not found")
    campaigns = build_campaigns(data.get("campaigns", []), seen, values["site"].get("timezone", "Asia/Shanghai"),
                                report)
    forms, form_problems = _forms(p.parent, values["qa"]["forms"], report)
    if problems.items or form_problems:
        raise ConfigError(problems.sorted() + form_problems)
    return Site(p, values, agents, services, campaigns, forms)


def _forms(base: Path, paths: list[str], report: Any) -> tuple[list[Form], list[str]]:
    """The [qa] forms, each checked in its own file (its problems named by its own file and line)."""
    forms: list[Form] = []
    problems: list[str] = []
    for rel in paths:
        f = base / rel
        if not f.is_file():
            report("qa.forms", f"form file {f} not found")
            continue
        try:
            form = load_form(f)
        except ConfigError as exc:
            problems += exc.problems
            continue
        if any(o.name == form.name for o in forms):
            report("qa.forms", f"a second form named {form.name!r} ({rel})")
            continue
        forms.append(form)
    return forms, problems


def _campaign_agent_ids(raw_campaigns: Any) -> set[str]:
    """Agent ids the raw [[campaigns]] name; a wrong shape is reported by the campaigns' own check."""
    ids: set[str] = set()
    for raw in raw_campaigns if isinstance(raw_campaigns, list) else []:
        agents = raw.get("agents") if isinstance(raw, dict) else None
        if isinstance(agents, list):
            ids.update(a for a in agents if isinstance(a, str))
    return ids


def load_rules(path: str | os.PathLike[str], site: Site) -> Site:
    """The site with its ``[[services]]`` (and their rule steps) replaced by a rules file's: the what-if of
    ``hotline replay``. Problems as ``file:line: key: message``, like the site file's."""
    p = Path(path)
    text = read_text(p, "rules file")
    data = parse_toml(p, text)
    problems = Problems(p, text)
    for name in data:
        if name != "services":
            problems.report(name, "a rules file holds [[services]] tables only")
    services, names = build_services(data.get("services", []), site.agents, problems.report)
    if not services:
        problems.report("services", "no [[services]]: nothing to replay with")
    elif site["hotline"]["service"] not in names:
        problems.report("services", f"the hotline's service {site['hotline']['service']!r} is missing")
    if problems.items:
        raise ConfigError(problems.sorted())
    return dataclasses.replace(site, services=services)
