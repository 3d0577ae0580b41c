"""Schemas of the site file's plain tables: [site], [mqtt], [asterisk], [store], [recording], [hotline], [ivr],
[http], [wallboard], [qa], [cases], [reports], [sms], [fax], [crm], [sales]."""

from __future__ import annotations

from acd.settings import HOTLINE_FIELDS
from cases.settings import CASES_FIELDS
from crm.settings import CRM_FIELDS
from engine.config_fields import Field, endpoint_name, port, positive
from engine.mqtt.settings import MQTT_FIELDS
from engine.regions import timezone_problem as _timezone
from engine.web.settings import HTTP_FIELDS
from engine.web.wallboard.settings import WALLBOARD_FIELDS
from fax.settings import FAX_FIELDS
from ivr.settings import IVR_FIELDS
from qa.settings import QA_FIELDS
from reports.settings import REPORTS_FIELDS
from sales.settings import SALES_FIELDS
from sms.settings import SMS_FIELDS

SECTIONS: dict[str, dict[str, Field]] = {
    "site": {
        "name": Field(str, required=True, check=endpoint_name, doc="short site name, used in MQTT topics"),
        "timezone": Field(str, "Asia/Shanghai", check=_timezone, doc="IANA time zone of the site"),
    },
    "mqtt": MQTT_FIELDS,  # engine/mqtt/settings.py
    "asterisk": {
        "ami_host": Field(str, "127.0.0.1", doc="AMI address"),
        "ami_port": Field(int, 5038, check=port),
        "ami_user": Field(str, "engine"),
        "ami_secret_file": Field(str, "", doc="file holding the AMI secret; empty with lab = true"),
        "lab": Field(bool, False, doc="take the AMI secret and recording folder from `hotline lab`"),
        "agi_host": Field(str, "127.0.0.1", doc="address the FastAGI server binds"),
        "agi_port": Field(int, 4573, check=port),
        "trunk": Field(str, "trunk", check=endpoint_name, doc="PJSIP endpoint of the carrier"),
        "action_timeout": Field((int, float), 10.0, check=positive, doc="seconds an AMI action may take"),
        "ping_interval": Field((int, float), 5.0, check=positive, doc="seconds between AMI pings"),
        "cel_file": Field(str, "", doc="Asterisk's cel-custom Master.csv as this machine sees it: calls that ended "
                          "while the engine was away are closed from it (empty: the lab's, else Asterisk's default)"),
    },
    "store": {
        "url": Field(str, "sqlite+aiosqlite:///hotline.db", doc="async URL (SQLite path from the site's folder)"),
        "queue_log_file": Field(str, "", doc="also write Asterisk-format queue_log lines to this file"),
    },
    "recording": {
        "asterisk_dir": Field(str, "/var/spool/asterisk/monitor", doc="folder as Asterisk sees it"),
        "local_dir": Field(str, "", doc="the same folder as the engine sees it (empty with lab = true)"),
        "format": Field(str, "opus", check=lambda v: None if v in ("opus", "wav") else "must be opus or wav",
                        doc="stored file: opus (stereo Ogg Opus) or wav (16-bit stereo)"),
        "bitrate": Field((int, float), 16, check=lambda v: None if 12 <= v <= 512 else "must be 12-512 (kbit/s)",
                         doc="Opus bit-rate of the whole file, kbit/s, shared by the two sides"),
        "complexity": Field(int, 5, check=lambda v: None if 0 <= v <= 10 else "must be 0-10",
                            doc="the Opus encoder's complexity: lower takes less CPU for a little quality"),
        "encoders": Field(int, 1, check=lambda v: None if 0 <= v <= 16 else "must be 0-16",
                          doc="worker processes that merge and encode recordings below Asterisk's priority; "
                          "0: a thread of the engine's process"),
        "retention": Field(list, [], doc="[[recording.retention]] rules: kind, days, service, campaign, "
                           "keep_after_lead_purge"),
    },
    "hotline": HOTLINE_FIELDS,  # acd/settings.py
    "ivr": IVR_FIELDS,  # ivr/settings.py
    "http": HTTP_FIELDS,  # engine/web/settings.py
    "wallboard": WALLBOARD_FIELDS,  # engine/web/wallboard/settings.py
    "qa": QA_FIELDS,  # qa/settings.py
    "cases": CASES_FIELDS,  # cases/settings.py
    "reports": REPORTS_FIELDS,  # reports/settings.py
    "sms": SMS_FIELDS,  # sms/settings.py
    "fax": FAX_FIELDS,  # fax/settings.py
    "crm": CRM_FIELDS,  # crm/settings.py
    "sales": SALES_FIELDS,  # sales/settings.py
}
