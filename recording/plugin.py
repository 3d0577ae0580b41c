"""Recording's wiring: the composition root calls ``install`` to build the recorder on the engine's ports and,
against a real Asterisk, to merge each call's recording at its end and to finish what a dead process left
(calls closed from Asterisk's CEL at every resync, recordings merged at start)."""

from __future__ import annotations

import logging
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncEngine

from engine.app import Engine
from engine.clock import Clock
from engine.config import Site
from engine.ports import Ledger, Records
from engine.recovery import Recovery
from ivr.places import cel_file, places_for
from ivr.settings import IvrSettings
from recording.encoder import EncoderPool
from recording.finalize import Recorder
from recording.index import RecordingIndex
from recording.retention import rules_of
from recording.services import Recordings

log = logging.getLogger("hotline.recording")
RETENTION_EVERY = 3600.0  # seconds between retention passes


def recordings_of(site: Site, ledger: Ledger, sql: AsyncEngine, local_dir: Path,
                  records: Records | None = None) -> Recordings:
    """The recordings service of a site on its store (the engine's, or the CLI's own)."""
    teams = {a.id: (a.groups[0] if a.groups else "") for a in site.agents}  # the first team named: the agent's own
    rec = site["recording"]
    return Recordings(ledger=ledger, index=RecordingIndex(sql), store=sql, teams=teams,
                      asterisk_dir=rec["asterisk_dir"], local_dir=local_dir,
                      rules=rules_of(rec["retention"]), records=records)  # fmt: skip


async def caught_up(recordings: Recordings) -> None:
    """Named task: the index caught up with the ledger at start; a failure is logged, never fatal to the calls."""
    try:
        await recordings.catch_up()
    except Exception:  # noqa: BLE001
        log.exception("recordings index: catching up with the ledger failed")


async def retention_loop(recordings: Recordings, clock: Clock) -> None:
    """Named task: remove what the retention rules say is due, at start and then every hour (engine time)."""
    while True:
        try:
            await recordings.purge(clock.now())
            await recordings.sweep_amd_samples(clock.now())
        except Exception:  # noqa: BLE001 - a store or disk error must not stop the engine's calls; next hour again
            log.exception("retention pass failed")
        await clock.sleep(RETENTION_EVERY)


def install(engine: Engine, local_dir: Path, *, finish: bool) -> Recorder:
    """``local_dir``: Asterisk's recording folder as this machine sees it. ``finish`` false (the virtual PBX):
    it writes no audio and keeps no CEL or CDR, so nothing is merged or closed from them."""
    site = engine.site
    cdr_file = places_for(IvrSettings.of(site["ivr"]), site["asterisk"]["lab"]).cdr  # the IVR's degraded calls
    rec = site["recording"]
    # the virtual PBX merges nothing: no worker processes for it
    pool = EncoderPool(int(rec["encoders"])) if finish and rec["encoders"] > 0 else None
    recorder = Recorder(actions=engine, calls=engine, ledger=engine, records=engine.store,
                        asterisk_dir=rec["asterisk_dir"], local_dir=local_dir, format=rec["format"],
                        bitrate=float(rec["bitrate"]), complexity=int(rec["complexity"]), pool=pool)  # fmt: skip
    engine.features["recorder"] = recorder
    sql = getattr(engine.store, "engine", None)  # the virtual PBX's in-memory store keeps no index
    if sql is not None:
        recordings = recordings_of(site, engine, sql, local_dir, engine.store)
        engine.features["recordings"] = recordings
        engine.fact_hooks.append(recordings.on_facts(engine.spawn))
        engine.feature_tasks.append(("recordings-index", lambda: caught_up(recordings)))
        engine.feature_tasks.append(("recordings-retention", lambda: retention_loop(recordings, engine.clock)))
    if not finish:
        return recorder
    engine.call_end_hooks.append(recorder.on_call_end)
    if pool is not None:
        engine.feature_tasks.append(("recording-encoders", pool.run))
    # reading the lab's real CEL file off-thread at a virtual-time resync let the clock run on before the model
    # took the listing: hence real Asterisk only
    recovery = Recovery(actions=engine, calls=engine, ledger=engine, records=engine.store, ends=engine,
                        spawner=engine, clock=engine.clock, cel_file=cel_file(site), cdr_file=cdr_file,
                        agents_by_endpoint={a.endpoint: a.id for a in site.agents})  # fmt: skip
    engine.resync_hooks.append(recovery.on_resync)
    engine.features["recovery"] = recovery
    engine.feature_tasks.append(("finish-recordings", lambda: recovery.finish_recordings(recorder.on_call_end)))
    return recorder
