"""[crm]: the customer card the agent's page pops, the external CRM it may open instead or as well, and the
signed webhooks the engine tells that CRM of calls, dispositions and cases with. The site file's schema of the
section, and its reading."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from crm.screen_pop import FIELDS, template_problem
from engine.config_fields import Field, Report, positive

EVENT_GROUPS = ("call", "disposition", "case", "sale")
POPS = ("card", "url", "both")


def _url(v: Any) -> str | None:
    return None if v == "" or re.match(r"https?://[^/\s]+", v) else "must be an http:// or https:// URL"


def _groups(v: Any) -> str | None:
    if not v:
        return f"must name at least one of {', '.join(EVENT_GROUPS)} (no webhook: leave webhook_url empty)"
    bad = [g for g in v if g not in EVENT_GROUPS]
    return f"unknown event group(s) {', '.join(map(str, bad))}: known are {', '.join(EVENT_GROUPS)}" if bad else None


def _template(v: Any) -> str | None:
    return None if v == "" else _url(v) or template_problem(v)


CRM_FIELDS: dict[str, Field] = {
    "screen_pop": Field(str, "card", check=lambda v: None if v in POPS else "must be card, url or both",
                        doc="what a call offered to an agent pops on its page: card (the customer's card: leads, "
                        "previous calls, cases), url (the external CRM's page at screen_pop_url instead) or both"),
    "screen_pop_url": Field(str, "", check=_template, doc="the external CRM's page for the offered call, with "
                            "fields in braces: " + ", ".join("{" + f + "}" for f in FIELDS) + " ({number} in full, "
                            "E.164)"),
    "webhook_url": Field(str, "", check=_url, doc="where each event is POSTed as signed JSON (\"\": no webhooks)"),
    "webhook_secret_file": Field(str, "", doc="file holding the HMAC secret the webhooks are signed with (required "
                                 "with a webhook_url; 16 or more characters)"),
    "webhook_events": Field(list, list(EVENT_GROUPS), check=_groups, doc="which events go: call (a caller's call "
                            "once it ended, as its record, and each outbound dial's result), disposition (an agent's "
                            "disposition of an outbound call), case (a case opened, assigned, changed, resolved, "
                            "linked, overdue or purged), sale (an order placed with a sale, and each correction "
                            "of it)"),
    "webhook_timeout": Field((int, float), 10, check=positive, doc="seconds to wait for the receiver's answer"),
    "webhook_retry_max": Field((int, float), 300, check=positive, doc="the longest wait between two tries of an "
                               "event the receiver did not take (the waits double from 1 s up to it)"),
    "customer_keep_days": Field(int, 30, check=lambda v: None if v >= 1 else "must be >= 1", doc="days a customer's "
                                "record keeps its numbers, notes and merge reasons after its last contact (a call, a "
                                "message, a fax, a dial, a note), once no lead or case holds one of its numbers"),
}  # fmt: skip


def check_crm(values: dict[str, Any], folder: Path, report: Report) -> None:
    """A URL pop needs its URL; a webhook needs its secret, readable and long enough: no unsigned webhooks, no
    default secret."""
    if values.get("screen_pop", "card") != "card" and not values.get("screen_pop_url"):
        report("crm.screen_pop", f"{values['screen_pop']!r} needs crm.screen_pop_url")
    if not values.get("webhook_url"):
        return
    if not values.get("webhook_secret_file"):
        report("crm.webhook_secret_file", "required with crm.webhook_url")
        return
    try:
        CrmSettings.of(values, folder)
    except CrmSettingsError as exc:
        field, _, why = str(exc).partition(": ")
        report(field, why)


class CrmSettingsError(ValueError):
    """A secret of [crm] cannot be read: the message names the field and the file."""


@dataclass(frozen=True)
class CrmSettings:
    webhook_url: str
    secret: bytes
    groups: frozenset[str]
    timeout: float
    retry_max: float
    screen_pop: str = "card"
    screen_pop_url: str = ""
    customer_keep_days: int = 30

    @classmethod
    def of(cls, values: dict[str, Any], folder: Path) -> CrmSettings:
        """The section's values with the secret read from its file (relative to the site file's folder)."""
        v = {k: values.get(k, f.default) for k, f in CRM_FIELDS.items()}
        secret = b""
        if v["webhook_url"]:
            path = folder / Path(v["webhook_secret_file"]).expanduser()
            try:
                text = path.read_text().strip()
            except OSError as exc:
                raise CrmSettingsError(f"crm.webhook_secret_file: cannot read {path}: {exc.strerror or exc}") from None
            if len(text) < 16:
                raise CrmSettingsError(f"crm.webhook_secret_file: the secret in {path} must be 16 or more characters "
                                       "(e.g. the output of `openssl rand -hex 24`)")  # fmt: skip
            secret = text.encode()
        return cls(screen_pop=v["screen_pop"], screen_pop_url=v["screen_pop_url"], webhook_url=v["webhook_url"],
                   secret=secret, groups=frozenset(v["webhook_events"]),
                   timeout=float(v["webhook_timeout"]), retry_max=float(v["webhook_retry_max"]),
                   customer_keep_days=int(v["customer_keep_days"]))  # fmt: skip
