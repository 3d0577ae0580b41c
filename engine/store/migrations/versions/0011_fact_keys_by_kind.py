"""Ledger keys begin with the fact's kind (``engine.model.facts.fact_key``): ``new:<uid>`` becomes
``channel.new:<uid>``. Facts already stored are rewritten, so a fact learned again after the upgrade (a degraded
call read from the CDR file again, a channel replayed from CEL) still finds its key and is not stored twice.

The old prefixes are listed here as they were, one per kind (two kinds shared ``session`` and two ``reload``,
which is why keys now carry the kind). A key that does not begin with its kind's old prefix is left alone.
Downgrading gives the old keys back; it fails on the unique index only if an ``ivr.reload_refused`` and an
``ivr.reloaded`` fact were stored for the same file time after the upgrade.

Revision ID: 0011
Revises: 0010
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

# kind -> the key's old first component
OLD_PREFIX = {
    "channel.new": "new", "channel.up": "up", "channel.hangup": "hangup", "hangup.request": "hreq",
    "dial.begin": "dialbegin", "dial.end": "dialend", "bridge.enter": "benter", "bridge.leave": "bleave",
    "hold": "hold", "unhold": "unhold", "call.end": "end",
    "call.queued": "queued", "call.tag": "tag", "ivr.step": "ivr", "ivr.tags": "tags", "ivr.callback": "callback",
    "ivr.transfer": "transfer", "ivr.end": "ivr.end", "ivr.message": "message", "ivr.overflow": "overflow",
    "ivr.survey": "survey", "ivr.reloaded": "reload", "ivr.reload_refused": "reload", "ivr.degraded": "degraded",
    "route.decision": "decision", "agent.offer": "offer", "agent.status": "agent", "agent.paused": "pause",
    "agent.wrap_up": "wrapup", "acd.timeout": "timeout", "acd.guard": "guard", "acd.agent_ended": "agentend",
    "acd.session": "session", "acd.announce": "announce", "acd.voicemail": "voicemail",
    "acd.agents_synced": "synced", "acd.callback": "acd-callback", "acd.callback_offer": "cboffer",
    "acd.callback_connected": "cbconnected", "acd.callback_attempt": "cbattempt", "acd.callback_done": "cbdone",
    "outbound.placed": "placed", "outbound.result": "result", "outbound.verdict": "verdict",
    "outbound.machine": "machine", "outbound.connect": "connect", "outbound.talk_end": "talkend",
    "outbound.abandon": "abandon", "outbound.disposition": "disposition", "outbound.callback": "callback",
    "outbound.preview": "preview", "outbound.skip": "skip", "outbound.qa": "qa",
    "dialer.session": "session", "dialer.lent": "lent", "dialer.returned": "returned",
    "dialer.reserved": "reserved", "dialer.released": "released",
    "recording.started": "recstart", "recording.saved": "recsaved", "recording.failed": "recfailed",
}  # fmt: skip
# kinds whose whole old key was a constant: no parts follow
WHOLE = {"store.created": "store:created", "ivr.degraded_since": "degraded-since"}

ledger = sa.table("ledger", sa.column("kind", sa.String), sa.column("key", sa.String))


def _rename(kind: str, old: str, new: str) -> None:
    """Keys of ``kind`` that begin ``old:`` begin ``new:`` instead (the parts after it unchanged)."""
    head = old + ":"
    op.get_bind().execute(
        sa.update(ledger)
        .where(ledger.c.kind == kind, sa.func.substr(ledger.c.key, 1, len(head)) == head)
        .values(key=sa.literal(new + ":") + sa.func.substr(ledger.c.key, len(head) + 1))
    )


def _whole(kind: str, old: str, new: str) -> None:
    op.get_bind().execute(sa.update(ledger).where(ledger.c.kind == kind, ledger.c.key == old).values(key=new))


def upgrade() -> None:
    for kind, old in OLD_PREFIX.items():
        if old != kind:
            _rename(kind, old, kind)
    for kind, old in WHOLE.items():
        _whole(kind, old, kind)


def downgrade() -> None:
    for kind, old in OLD_PREFIX.items():
        if old != kind:
            _rename(kind, kind, old)
    for kind, old in WHOLE.items():
        _whole(kind, kind, old)
