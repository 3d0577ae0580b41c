"""What the agent page knows from the site file: each agent's name and the campaign it works (its mode and
disposition codes), and the site's pause reasons (``[hotline] pause_reasons``, the same the phone's *23 offers)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from engine.config import Site


@dataclass(frozen=True)
class AgentInfo:
    id: str
    name: str = ""
    campaign: str = ""  # the campaign it works ("" none: no outbound buttons)
    mode: str = ""  # predictive, progressive, preview (the lead card and its buttons)
    dispositions: tuple[tuple[str, str], ...] = ()  # (code, label), by code

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "campaign": self.campaign, "mode": self.mode,
                "dispositions": [list(d) for d in self.dispositions]}  # fmt: skip


def _by_code(pairs: Mapping[str, str]) -> tuple[tuple[str, str], ...]:
    return tuple(sorted(((str(k), str(v)) for k, v in pairs.items()), key=lambda kv: (len(kv[0]), kv[0])))


@dataclass(frozen=True)
class Roster:
    agents: Mapping[str, AgentInfo] = field(default_factory=lambda: MappingProxyType({}))
    pause_reasons: tuple[str, ...] = ()  # in code order; none: the page asks for the reason in words

    @classmethod
    def of(cls, site: Site) -> Roster:
        works = {a: c for c in site.campaigns for a in c.agents}
        agents = {}
        for a in site.agents:
            c = works.get(a.id)
            agents[a.id] = AgentInfo(a.id, a.name, c.name if c else "", c.mode if c else "",
                                     _by_code(c.dispositions) if c else ())  # fmt: skip
        reasons = _by_code(site["hotline"]["pause_reasons"] or {})
        return cls(MappingProxyType(agents), tuple(r for _, r in reasons))
