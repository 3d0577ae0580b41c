"""Fax's wiring: with ``[fax] numbers`` the menu's route first hands those numbers' calls to the fax lines, the
dialplan's hang-up handler reports on ``fax-done``, and the ``fax-sender`` task sends what `hotline fax send`
queued. A site without fax numbers has no fax at all."""

from __future__ import annotations

from engine.app import Engine
from engine.config import Site
from engine.dialplan import FAX_DONE_ROUTE, IVR_ROUTE
from fax.services import EVENTS, FaxService
from fax.settings import FaxSettings
from ivr.session import IvrService


def settings_of(site: Site) -> FaxSettings:
    """[fax], with [asterisk]'s trunk and lab flag."""
    return FaxSettings.of(site["fax"], site["asterisk"]["trunk"], bool(site["asterisk"]["lab"]))


def install(engine: Engine, ivr: IvrService) -> FaxService | None:
    if not engine.site["fax"]["numbers"]:
        return None
    cases = engine.features.get("cases")
    fax = FaxService(settings_of(engine.site), actions=engine, calls=engine, ledger=engine, spawner=engine,
                     clock=engine.clock, case_of=cases.latest_live if cases is not None else None)  # fmt: skip
    engine.route(IVR_ROUTE, fax.front(ivr))
    engine.route(FAX_DONE_ROUTE, fax.done)
    engine.on_events(EVENTS, fax.on_frame)
    engine.resync_hooks.append(fax.on_resync)
    engine.features["fax"] = fax
    engine.feature_tasks.append(("fax-sender", fax.run))
    return fax
