"""What became of a dial, from what Asterisk reported for its ChannelId (sans-I/O).

A failure is classified from DialEnd's DialStatus and the Hangup cause, never from OriginateResponse's
Reason (0 for busy and congestion alike): docs/asterisk.md#flow-originate.
"""

from __future__ import annotations

CONGESTION_CAUSES = {34, 38, 41, 42}
NO_ANSWER_CAUSES = {18, 19, 0}
INVALID_CAUSES = {1, 3, 28}


def classify(dial_status: str, cause: int | None, reason: int | None) -> str:
    """An unanswered (or answered) dial's outcome from what Asterisk reported for its ChannelId."""
    status = dial_status.upper()
    if status == "ANSWER" or reason == 4:
        return "answered"
    if status == "BUSY" or cause == 17:
        return "busy"
    if status == "CONGESTION" or cause in CONGESTION_CAUSES:
        return "congestion"
    if cause == 21:
        return "rejected"
    if cause in INVALID_CAUSES:
        return "invalid"
    if status in ("NOANSWER", "CANCEL") or cause in NO_ANSWER_CAUSES:
        return "no_answer"
    return "failed"


# what the pacer calls each outcome, and which retry rule it falls under (None: never again)
PACER_OUTCOME = {"busy": "busy", "no_answer": "noanswer", "rejected": "noanswer"}
RETRY_RULE = {"no_answer": "no_answer", "busy": "busy", "congestion": "no_answer", "rejected": "no_answer",
              "failed": "no_answer", "machine": "machine", "abandoned": "abandoned", "invalid": None,
              "connected": None}  # fmt: skip
