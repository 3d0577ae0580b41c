"""Recording's wiring: the composition root calls ``install`` to build the recorder on the engine's ports and,
against a real Asterisk, to merge each call's recording at its end and to finish what a dead process left
(calls closed from Asterisk's CEL at every resync, recordings merged at start)."""

from __future__ import annotations

from pathlib import Path

from engine.app import Engine
from engine.recovery import Recovery
from ivr.places import cel_file, places_for
from ivr.settings import IvrSettings
from recording.finalize import Recorder


def install(engine: Engine, local_dir: Path, *, finish: bool) -> Recorder:
    """``local_dir``: Asterisk's recording folder as this machine sees it. ``finish`` false (the virtual PBX):
    it writes no audio and keeps no CEL or CDR, so nothing is merged or closed from them."""
    site = engine.site
    cdr_file = places_for(IvrSettings.of(site["ivr"]), site["asterisk"]["lab"]).cdr  # the IVR's degraded calls
    recorder = Recorder(actions=engine, calls=engine, ledger=engine, records=engine.store,
                        asterisk_dir=site["recording"]["asterisk_dir"], local_dir=local_dir)  # fmt: skip
    engine.features["recorder"] = recorder
    if not finish:
        return recorder
    engine.call_end_hooks.append(recorder.on_call_end)
    # reading the lab's real CEL file off-thread at a virtual-time resync let the clock run on before the model
    # took the listing: hence real Asterisk only
    recovery = Recovery(actions=engine, calls=engine, ledger=engine, records=engine.store, ends=engine,
                        spawner=engine, clock=engine.clock, cel_file=cel_file(site), cdr_file=cdr_file,
                        agents_by_endpoint={a.endpoint: a.id for a in site.agents})  # fmt: skip
    engine.resync_hooks.append(recovery.on_resync)
    engine.features["recovery"] = recovery
    engine.feature_tasks.append(("finish-recordings", lambda: recovery.finish_recordings(recorder.on_call_end)))
    return recorder
