"""SQL tables. The ledger is append-only; call_records is derived from it and can be rebuilt."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData()

ledger = Table(
    "ledger",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", Float, nullable=False),
    Column("kind", String(40), nullable=False),
    Column("call_id", String(160), nullable=False, index=True),
    Column("uniqueid", String(160), nullable=False),
    Column("key", String(320), nullable=False, unique=True),
    Column("data", JSON, nullable=False),
    Column("recorded_at", Float, nullable=False),
    Index("ix_ledger_kind_at", "kind", "at"),  # facts of a kind since a time: open calls at every resync
    Index("ix_ledger_at", "at"),  # migration 0015: the newest fact before a time (reports)
)

call_records = Table(
    "call_records",
    metadata,
    Column("call_id", String(160), primary_key=True),
    Column("caller", String(64), nullable=False),
    Column("dialed", String(64), nullable=False),
    Column("arrived_at", Float, nullable=False),
    Column("answered_at", Float),
    Column("queued_at", Float),
    Column("agent_id", String(64), nullable=False),
    Column("ring_started_at", Float),
    Column("agent_answered_at", Float),
    Column("connected_at", Float),
    Column("ended_at", Float),
    Column("ring_time", Float),
    Column("queue_wait", Float),
    Column("talk_time", Float),
    Column("hold_time", Float, nullable=False),
    Column("handle_time", Float),
    Column("hangup_side", String(16), nullable=False),
    Column("outcome", String(24), nullable=False),
    Column("digit", String(64), nullable=False),
    Column("recording", Text, nullable=False),
    Column("recording_seconds", Float),
    Column("tag", String(120), nullable=False, server_default=""),
    Column("service", String(64), nullable=False, server_default=""),
    Column("wrap_up_time", Float, nullable=False, server_default="0"),
    # "" = the engine saw the end; "reconstructed" = from Asterisk's CEL/CDR; "approximate" (closed_reason says why)
    Column("closed", String(16), nullable=False, server_default=""),
    Column("closed_reason", String(200), nullable=False, server_default=""),
    Index("ix_call_records_arrived_at", "arrived_at"),  # migration 0015: reports read a time range of records
    Index("ix_call_records_caller", "caller"),  # migration 0018: a customer's calls (the screen pop)
)

queue_log = Table(
    "queue_log",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("time", Integer, nullable=False),
    Column("callid", String(160), nullable=False),
    Column("queuename", String(80), nullable=False),
    Column("agent", String(80), nullable=False),
    Column("event", String(32), nullable=False),
    Column("data1", String(200), nullable=False, server_default=""),
    Column("data2", String(200), nullable=False, server_default=""),
    Column("data3", String(200), nullable=False, server_default=""),
    Column("data4", String(200), nullable=False, server_default=""),
    Column("data5", String(200), nullable=False, server_default=""),
)

# Leads of outbound campaigns. phone is NULL once purged: the unique index lets any number of NULLs through.
leads = Table(
    "leads",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("campaign", String(80), nullable=False),
    Column("phone", String(32)),
    Column("name", Text, nullable=False, server_default=""),
    Column("team", String(64)),
    Column("tz", String(64), nullable=False, server_default=""),
    Column("extra", JSON),
    Column("status", String(16), nullable=False, server_default="new"),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("last_outcome", String(32)),
    Column("last_attempt_at", Float),
    Column("next_attempt_at", Float),
    Column("imported_at", Float, nullable=False),
    Column("agent", String(64)),  # a call back promised by this agent: dialed for them (migration 0006)
    Column("batch", Integer),  # the imported file it came in (migration 0019: lead_batches)
    UniqueConstraint("campaign", "phone", name="uq_leads_campaign_phone"),
    Index("ix_leads_campaign_status", "campaign", "status"),
    Index("ix_leads_phone", "phone"),  # migration 0018: a customer's leads in every campaign
    Index("ix_leads_batch", "batch"),  # migration 0019
)

# Each imported lead file (migration 0019): source, cost (hundredths) and team, its counts at import, and once its
# personal data is destroyed, the quality figures it came to (dialer/batches.py).
lead_batches = Table(
    "lead_batches",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("campaign", String(80), nullable=False),
    Column("source", String(120), nullable=False, server_default=""),
    Column("cost", BigInteger, nullable=False, server_default="0"),
    Column("team", String(64)),
    Column("file", String(255), nullable=False, server_default=""),
    Column("imported_at", Float, nullable=False),
    Column("file_rows", Integer, nullable=False),  # data rows in the file, good and bad
    Column("valid", Integer, nullable=False),  # rows with a number we may dial
    Column("repeated", Integer, nullable=False),  # valid rows repeating a number earlier in the same file
    Column("already", Integer, nullable=False),  # valid numbers the campaign had from an earlier file
    Column("imported", Integer, nullable=False),  # leads this batch added
    Column("destroyed_at", Float),
    Column("figures", JSON),
)

# Do-not-call numbers: campaign "" is the global list (NULL would let the unique constraint admit duplicates).
dnc = Table(
    "dnc",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("campaign", String(80), nullable=False, server_default=""),
    Column("phone", String(32), nullable=False),
    Column("added_at", Float, nullable=False),
    Column("source", String(200), nullable=False, server_default=""),
    UniqueConstraint("campaign", "phone", name="uq_dnc_campaign_phone"),
)

# What purged leads add up to (per status, per last outcome, attempts), so reports outlive the personal data.
lead_aggregates = Table(
    "lead_aggregates",
    metadata,
    Column("campaign", String(80), primary_key=True),
    Column("key", String(120), primary_key=True),
    Column("value", Integer, nullable=False),
    Column("purged_at", Float, nullable=False),
)

# Campaign definitions as they were when an engine started with them: one row per distinct version, never
# updated or deleted, so a report can say which rules were in force (migration 0007).
campaign_versions = Table(
    "campaign_versions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("campaign", String(80), nullable=False),
    Column("hash", String(64), nullable=False),
    Column("definition", JSON, nullable=False),
    Column("first_seen", Float, nullable=False),
    UniqueConstraint("campaign", "hash", name="uq_campaign_versions_campaign_hash"),
)

# People who sign in to the web console (migration 0012): the current state; each change is also a ledger fact.
users = Table(
    "users",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("role", String(16), nullable=False),
    Column("agent", String(64), nullable=False, server_default=""),
    Column("team", String(64), nullable=False, server_default=""),
    Column("phone", String(80), nullable=False, server_default=""),
    Column("password_hash", String(255), nullable=False),
    Column("disabled", Boolean, nullable=False, server_default="0"),
    Column("created_at", Float, nullable=False),
    Column("changed_at", Float, nullable=False),
)

# The index of stored recordings (migration 0013): a projection of the ledger's recording facts.
recordings = Table(
    "recordings",
    metadata,
    Column("id", String(128), primary_key=True),
    Column("call_id", String(128), nullable=False, index=True),
    Column("kind", String(16), nullable=False),
    Column("direction", String(8), nullable=False),
    Column("service", String(64), nullable=False, server_default=""),
    Column("campaign", String(64), nullable=False, server_default=""),
    Column("agent", String(64), nullable=False, server_default=""),
    Column("team", String(64), nullable=False, server_default=""),
    Column("started_at", Float, nullable=False, index=True),
    Column("seconds", Float, nullable=False),
    Column("channels", Integer, nullable=False),
    Column("format", String(8), nullable=False),
    Column("bytes", Integer, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("path", String(512), nullable=False),
    Column("purged_at", Float, nullable=True),
    Column("purge_rule", String(128), nullable=False, server_default=""),
    Column("talk", JSON, nullable=True),  # migration 0014: the sides' talk figures, as the recorder read them
)

# QA's grades (migration 0014): rows are only ever added (the database refuses UPDATE and DELETE); a correction
# is the next version, naming the one it corrects and why.
grades = Table(
    "grades",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("recording", String(128), nullable=False, index=True),
    Column("call_id", String(128), nullable=False),
    Column("agent", String(64), nullable=False, server_default=""),
    Column("form", String(40), nullable=False),
    Column("form_hash", String(64), nullable=False),
    Column("grader", String(64), nullable=False),
    Column("grader_role", String(16), nullable=False),
    Column("version", Integer, nullable=False),
    Column("supersedes", String(32), nullable=True),
    Column("reason", Text, nullable=False, server_default=""),
    Column("answers", JSON, nullable=False),
    Column("comments", Text, nullable=False, server_default=""),
    Column("marks", JSON, nullable=False),
    Column("score", Float, nullable=False),
    Column("critical_failed", JSON, nullable=False),
    Column("blind", Boolean, nullable=False, server_default="0"),
    Column("created_at", Float, nullable=False),
    UniqueConstraint("recording", "form", "grader", "version", name="uq_grades_version"),
)

# Calls several graders score blind (migration 0014).
calibrations = Table(
    "calibrations",
    metadata,
    Column("recording", String(128), primary_key=True),
    Column("form", String(40), nullable=False),
    Column("created_by", String(64), nullable=False),
    Column("created_at", Float, nullable=False),
)

# Cases (migration 0016): complaints, follow-ups and low survey scores, the projection of the ledger's case.*
# facts (cases.model.fold); number and note are emptied when a closed case's personal data is purged.
cases = Table(
    "cases",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("kind", String(16), nullable=False),
    Column("source", String(24), nullable=False),
    Column("status", String(16), nullable=False),
    Column("number", String(64), nullable=False, server_default=""),
    Column("call_id", String(160), nullable=False, server_default=""),
    Column("lead", String(64), nullable=False, server_default=""),
    Column("owner", String(64), nullable=False, server_default=""),
    Column("team", String(64), nullable=False, server_default=""),
    Column("note", Text, nullable=False, server_default=""),
    Column("resolution", Text, nullable=False, server_default=""),
    Column("opened_at", Float, nullable=False, index=True),
    Column("due_at", Float, nullable=False),
    Column("resolved_at", Float),
    Column("closed_at", Float),
    Column("overdue_at", Float),
    Column("purged_at", Float),
    Column("links", JSON, nullable=False),
    Column("updated_at", Float, nullable=False),
    Index("ix_cases_status_due", "status", "due_at"),
    Index("ix_cases_number", "number"),  # migration 0018: a customer's cases
)

# The reports' rollups (migration 0015): reports/buckets.py's 15-minute bucket rows, and the same summed over the
# site's local days; derived from the ledger, call records and grades, rebuilt on demand (reports/rollups.py).
BUCKET_COUNTS = ("arrived", "offered", "answered", "abandoned", "short_abandoned", "other", "callbacks", "voicemails",
                 "timeouts", "sl_within", "sl_late_abandons", "wait_n", "handled", "ring_known", "ring_within",
                 "overflowed", "lent", "guard_reserves", "over_limit", "survey_n", "survey_sum", "survey_top2", "qa_n",
                 "dials", "out_machines", "out_connected", "out_abandoned", "out_late", "out_qa_labels",
                 "out_qa_people")  # fmt: skip
BUCKET_SUMS = ("wait_sum", "wait_max", "talk_sum", "hold_sum", "wrap_sum", "handle_sum", "qa_sum", "logged_in_s",
               "available_s", "busy_s", "out_talk_s")  # fmt: skip
BUCKET_MOMENTS = ("first_login", "last_logout")
BUCKET_DICTS = ("pause_s", "out_outcomes", "dispositions")


def _bucket_table(name: str) -> Table:
    return Table(
        name,
        metadata,
        Column("start", BigInteger, primary_key=True, autoincrement=False),
        Column("service", String(64), primary_key=True),
        Column("agent", String(64), primary_key=True),
        Column("campaign", String(80), primary_key=True),
        *[Column(n, Integer, nullable=False, server_default="0") for n in BUCKET_COUNTS],
        *[Column(n, Float, nullable=False, server_default="0") for n in BUCKET_SUMS],
        *[Column(n, Float, nullable=True) for n in BUCKET_MOMENTS],
        *[Column(n, JSON, nullable=False) for n in BUCKET_DICTS],
        Index(f"ix_{name}_service_start", "service", "start"),
        Index(f"ix_{name}_campaign_start", "campaign", "start"),
    )


report_buckets = _bucket_table("report_buckets")
report_days = _bucket_table("report_days")
# migration 0017: each agent's day rows summed over services and campaigns (service and campaign ""): a year's agents
# report reads one row per agent and day, not one per agent, day, service and campaign
report_agent_days = _bucket_table("report_agent_days")

report_rollup_state = Table(
    "report_rollup_state",
    metadata,
    # ledger_id: facts up to it are counted; horizon: the end of the counted time; timezone: the days'
    Column("name", String(40), primary_key=True),
    Column("value", String(200), nullable=False),
)

# The knowledge base's articles (migration 0020; its full-text index is the migration's: FTS5 on SQLite, a GIN
# index over to_tsvector on PostgreSQL). Each save is also a kb.saved fact.
kb_articles = Table(
    "kb_articles",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("lang", String(8), nullable=False),
    Column("title", String(120), nullable=False),
    Column("tags", String(200), nullable=False, server_default=""),
    Column("body", Text, nullable=False),
    Column("version", Integer, nullable=False),
    Column("by", String(64), nullable=False),
    Column("created_at", Float, nullable=False),
    Column("updated_at", Float, nullable=False),
)

# Customers (migration 0021): one record per person, known by its numbers (E.164, each one customer's); a merged
# record points at the one kept. Notes are free text by the staff, destroyed with the record's personal data.
customers = Table(
    "customers",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("created_at", Float, nullable=False),
    Column("updated_at", Float, nullable=False),  # its newest contact: the list's order
    Column("check_at", Float, nullable=True, index=True),  # when the retention pass looks at it next
    Column("merged_into", Integer, nullable=True, index=True),
    Column("purged_at", Float, nullable=True),
)

# Each merge: who and why (the reason is the staff's words, so it goes with the kept record's personal data; the
# customer.merged fact keeps who and which for ever). kept follows later merges of the kept record.
customer_merges = Table(
    "customer_merges",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("kept", Integer, nullable=False, index=True),
    Column("merged", Integer, nullable=False),
    Column("at", Float, nullable=False),
    Column("by", String(64), nullable=False),
    Column("role", String(16), nullable=False),
    Column("reason", Text, nullable=False),
)

customer_numbers = Table(
    "customer_numbers",
    metadata,
    Column("number", String(32), primary_key=True),
    Column("customer", Integer, nullable=False, index=True),
    Column("added_at", Float, nullable=False),
)

customer_notes = Table(
    "customer_notes",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("customer", Integer, nullable=False, index=True),
    Column("at", Float, nullable=False),
    Column("by", String(64), nullable=False),
    Column("text", Text, nullable=False),
)

# A projection of the ledger's facts that carry a customer's number where no call record does (customers/projector.py):
# SMS, faxes, outbound dials. key: the fact's, so a fact read twice is one row.
customer_contacts = Table(
    "customer_contacts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("ledger_id", Integer, nullable=False),
    Column("key", String(320), nullable=False, unique=True),
    Column("number", String(32), nullable=False, index=True),
    Column("at", Float, nullable=False),
    Column("kind", String(16), nullable=False),
    Column("call_id", String(160), nullable=False, server_default=""),
    Column("data", JSON, nullable=False),
)

# How far the projection read the ledger (customers/projector.py): "contacts" -> the newest ledger id read.
customer_marks = Table(
    "customer_marks",
    metadata,
    Column("name", String(40), primary_key=True),
    Column("ledger_id", Integer, nullable=False),
)
