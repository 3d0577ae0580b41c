"""[sms]: the Kannel gateway the engine sends through, the callbacks it gives Kannel, the send window, the rate
and the opt-out words (the site file's schema of the section, and its reading)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dialer.settings import _window
from engine.config_fields import Field, Report, positive


def _url(v: Any) -> str | None:
    return None if v == "" or re.match(r"https?://[^/\s]+", v) else "must be an http:// or https:// URL"


def _words(v: Any) -> str | None:
    return None if all(isinstance(w, str) and w.strip() for w in v) else "must list words"


SMS_FIELDS: dict[str, Field] = {
    "gateway": Field(str, "", check=_url, doc="Kannel's sendsms URL, e.g. http://127.0.0.1:13013/cgi-bin/sendsms "
                     "(\"\": no SMS)"),
    "username": Field(str, "hotline", doc="Kannel sendsms-user's username"),
    "password_file": Field(str, "", doc="file holding that user's password (required with a gateway)"),
    "sender": Field(str, "", doc="the messages' sender number or name (\"\": the gateway's own)"),
    "callback_url": Field(str, "", check=_url, doc="the engine's HTTP listener as the gateway reaches it: delivery "
                          "reports and customers' replies come back there (required with a gateway)"),
    "token_file": Field(str, "", doc="file holding the secret the gateway's callbacks carry (required with a gateway)"),
    "window": Field(str, "08:00-21:00", check=_window, doc="send window in the recipient's local time"),
    "rate": Field((int, float), 10, check=positive, doc="messages a second a campaign sends at most"),
    "max_parts": Field(int, 6, check=positive, doc="a text longer than this many parts is refused"),
    "opt_out_words": Field(list, ["TD", "T", "STOP", "UNSUBSCRIBE", "退订"], check=_words,
                           doc="a reply that is one of these (any case) opts its sender out of SMS"),
    "retry_for": Field((int, float), 600, check=positive, doc="seconds a batch waits for a gateway that is down "
                       "before it stops (the next run goes on where it stopped)"),
    "confirm_wait": Field((int, float), 60, check=positive, doc="seconds to wait for the delivery report of a "
                          "message whose send got no answer, before sending it again"),
    "after": Field(list, [], doc="[[sms.after]] rules: a message after a call (name, on, service, template)"),
}  # fmt: skip


def check_sms(values: dict[str, Any], folder: Path, report: Report) -> None:
    """With a gateway, its password, the callbacks' address and their secret are required (no default password);
    each ``[[sms.after]]`` rule is read, its template too (from the site's folder)."""
    from sms.notices import read_rules

    if values.get("after"):
        read_rules(values["after"], folder, report)
        if not values.get("gateway"):
            report("sms.after", "messages after calls need sms.gateway")
    if not values.get("gateway"):
        return
    for key in ("password_file", "callback_url", "token_file"):
        if not values.get(key):
            report(f"sms.{key}", "required with sms.gateway")


class SmsSettingsError(ValueError):
    """A secret of [sms] cannot be read: the message names the field and the file."""


@dataclass(frozen=True)
class SmsSettings:
    gateway: str
    username: str
    password: str
    sender: str
    callback_url: str
    token: str
    window: tuple[int, int]  # minutes after local midnight, [start, end)
    rate: float
    max_parts: int
    opt_out_words: frozenset[str]
    retry_for: float
    confirm_wait: float

    @classmethod
    def of(cls, values: dict[str, Any], folder: Path) -> SmsSettings:
        """The section's values with the secrets read from their files (relative to the site file's folder);
        SmsSettingsError names a file that cannot be read."""
        v = {k: values.get(k, f.default) for k, f in SMS_FIELDS.items()}

        def secret(key: str) -> str:
            if not v[key]:
                return ""
            path = folder / Path(v[key]).expanduser()
            try:
                text = path.read_text().strip()
            except OSError as exc:
                raise SmsSettingsError(f"sms.{key}: cannot read {path}: {exc.strerror or exc}") from None
            if not text:
                raise SmsSettingsError(f"sms.{key}: {path} is empty")
            if key == "token_file" and not re.fullmatch(r"[A-Za-z0-9_-]{16,}", text):
                # it rides in the callbacks' URLs, where '+', '/' or '%' would not come back as written
                raise SmsSettingsError(f"sms.{key}: the secret in {path} must be 16 or more letters, digits, '-' or "
                                       "'_' (e.g. the output of `openssl rand -hex 24`)")  # fmt: skip
            return text

        m = [int(x) for x in re.findall(r"\d\d", v["window"])]
        return cls(gateway=v["gateway"], username=v["username"], password=secret("password_file"), sender=v["sender"],
                   callback_url=v["callback_url"].rstrip("/"), token=secret("token_file"),
                   window=(m[0] * 60 + m[1], m[2] * 60 + m[3]), rate=float(v["rate"]), max_parts=int(v["max_parts"]),
                   opt_out_words=frozenset(w.strip().upper() for w in v["opt_out_words"]),
                   retry_for=float(v["retry_for"]), confirm_wait=float(v["confirm_wait"]))  # fmt: skip
