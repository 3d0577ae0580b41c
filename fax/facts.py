"""The fax facts: kinds, keys and the ids in them. A fax sent is a job (``fx…``), one fact queued, one per dial
and its end, one final; a fax received is its call's Uniqueid, one fact when it began (or was refused) and one
final. Every fax has at most one ``fax.done``: its key is the fax's id."""

from __future__ import annotations

import re

from engine.model.facts import fact_key

QUEUED = "fax.queued"  # a PDF to send: number, pages, files, case, who asked
ATTEMPT = "fax.attempt"  # one dial of a job: attempt number, channel id
ATTEMPT_END = "fax.attempt_end"  # how that dial ended: outcome, Asterisk's reason, retry time
RECEIVING = "fax.receiving"  # a call in on a fax number got a line: number, did, file
REFUSED = "fax.refused"  # a call in on a fax number found every line in use: answered busy
DONE = "fax.done"  # the end of a fax: result sent | received | failed | uncertain, pages, station, files

KINDS = (QUEUED, ATTEMPT, ATTEMPT_END, RECEIVING, REFUSED, DONE)

JOB = re.compile(r"fx[0-9a-f]{10}")
CHANNEL = re.compile(r"(fx[0-9a-f]{10})-(\d+)")  # a dial's ChannelId: the job and the attempt


def queued_key(job: str) -> str:
    return fact_key(QUEUED, job)


def attempt_key(job: str, n: int) -> str:
    return fact_key(ATTEMPT, job, n)


def attempt_end_key(job: str, n: int) -> str:
    return fact_key(ATTEMPT_END, job, n)


def done_key(fax_id: str) -> str:
    return fact_key(DONE, fax_id)


def channel_of(job: str, n: int) -> str:
    return f"{job}-{n}"


def job_of(channel: str) -> tuple[str, int] | None:
    m = CHANNEL.fullmatch(channel)
    return (m.group(1), int(m.group(2))) if m else None
