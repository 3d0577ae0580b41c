"""The site file's ``[http]`` section: its schema (checked with file and line by the loader) and the typed
settings the HTTP listener is built with."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from engine.config_fields import Field, listen_address, split_listen

HTTP_FIELDS: dict[str, Field] = {
    "listen": Field(str, "127.0.0.1:8080", check=listen_address,
                    doc='HOST:PORT of the engine\'s HTTP listener (/metrics, /wallboard); "" for none'),
}


@dataclass(frozen=True)
class HttpSettings:
    listen: str  # "" : no listener

    @classmethod
    def of(cls, values: Mapping[str, Any]) -> HttpSettings:
        """From the section's checked values (``site["http"]``)."""
        return cls(listen=values["listen"])

    def address(self) -> tuple[str, int]:
        return split_listen(self.listen)
