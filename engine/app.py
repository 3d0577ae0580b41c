"""The engine runtime: AMI link, FastAGI server, call model and store, as named tasks in one TaskGroup.

Features (IVR, ACD, dialer, recording) do not live here: the composition root hands the Engine to each
feature's wiring (its ``plugin.py``), which builds the feature on the engine's narrow ports
(``engine.ports``: the Engine satisfies them all) and registers its FastAGI routes, hooks and tasks on it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from engine.asterisk.ami_codec import Frame
from engine.asterisk.ami_link import AmiLink, LinkDown, LinkUp, Resync, ResyncBegun
from engine.asterisk.fastagi import FastAgiServer
from engine.clock import Clock
from engine.config import Site
from engine.live.bus import Bus
from engine.model.calls import CallModel
from engine.model.facts import Fact, fact_key
from engine.store.store import Store
from engine.tasks import TaskSet

log = logging.getLogger("hotline.engine")
T = TypeVar("T")

CallEndHook = Callable[[str], Awaitable[None]]

BATCH = 5000  # frames applied together at most: what waited while the last write ran
# facts per write at most: the live feed publishes a write's facts at once, and a bus subscriber (1000 changes
# of room by default) must be able to take a write whole
WRITE_FACTS = 250


async def take_batch(queue: asyncio.Queue[T | list[T]], limit: int = BATCH) -> list[T]:
    """The next item (waiting for it) and the ones already queued behind it, about ``limit`` of them; an item
    that is a list (the link's events of one read) counts as its items, in order."""
    items: list[T] = []
    while True:
        item = await queue.get() if not items else queue.get_nowait()
        if isinstance(item, list):
            items += item
        else:
            items.append(item)
        if len(items) >= limit or queue.empty():
            return items


async def _done(write: asyncio.Future[None] | None) -> None:
    """Wait for a write still running (its error is the caller's); None: nothing runs any more."""
    if write is not None:
        await write
    return None


@dataclass
class Engine:
    site: Site
    clock: Clock
    link: AmiLink
    agi: FastAgiServer
    store: Store
    model: CallModel = field(default_factory=CallModel)

    def __post_init__(self) -> None:
        # waiters of ``until``: (predicate, event), checked after every applied event
        self._watchers: list[tuple[Callable[[], bool], asyncio.Event]] = []
        self.call_end_hooks: list[CallEndHook] = []
        # long-running feature tasks (name, coroutine function), started in the engine's TaskGroup
        self.feature_tasks: list[tuple[str, Callable[[], Awaitable[None]]]] = []
        # called with every AMI event the engine reads (``events``) after the model applied it (cheap, synchronous:
        # e.g. wake a decision loop); a hook reading other events declares them with ``on_events``
        self.frame_hooks: list[Callable[[Frame], None]] = []
        # the AMI event names the engine's readers use (the model's, and those hooks declared with ``on_events``);
        # the link passes the others over unparsed: most of what Asterisk sends (VarSet, AGIExec, Cdr...) is of
        # no use here. The link holds this very set, so a hook added later is heard at once.
        self.events: set[str] = set(self.model.events)
        if self.link is not None:  # (tests of the ledger side build an engine without a link)
            self.link.only = self.events
        self.features: dict[str, Any] = {}  # wired features by name (for tools, tests and the web pages)
        self._ended: set[str] = set()
        # before the model takes a resync: close what ended while the engine was away, from Asterisk's records
        self.resync_hooks: list[Callable[[Resync], Awaitable[None]]] = []
        # after it: the time the link came back (features re-derive their state, e.g. the agents')
        self.resynced_hooks: list[Callable[[float], None]] = []
        self.link_up_at: float | None = None
        self._background = TaskSet(log, "engine")
        self.facts_written = 0
        self._applying = False  # the model loop is in the middle of an event
        # told of every batch of facts once written, and of every call record once derived or derived again
        # (the store's own list: the live feed, /metrics): cheap and synchronous, they must not block the loop
        self.fact_hooks: list[Callable[[list[Fact]], None]] = []
        self.record_hooks: list[Callable[[dict[str, Any]], None]] = self.store.record_hooks
        self.bus = Bus()  # the live stream: states and events for the wallboard, MQTT and /metrics

    def on_events(self, names: Iterable[str], hook: Callable[[Frame], None]) -> None:
        """Tell ``hook`` of each AMI event once the model applied it; ``names``: the events it reads (only the
        engine's used events reach any hook)."""
        self.events.update(names)
        self.frame_hooks.append(hook)

    # ---- facts ------------------------------------------------------------------------------
    async def record(self, facts: list[Fact]) -> None:
        self.facts_written += await self.store.append(facts, self.clock.now())
        for hook in self.fact_hooks:
            hook(facts)

    async def fact(self, kind: str, call_id: str, uniqueid: str, key: str, **data: Any) -> None:
        await self.record([Fact(kind, self.clock.now(), call_id, uniqueid, key, data)])

    async def facts(self, call_id: str | None = None, kinds: tuple[str, ...] = (),
                    since: float | None = None) -> list[Fact]:  # fmt: skip
        return await self.store.facts(call_id, kinds, since)

    async def action(self, headers: dict[str, Any], *, as_list: bool = False, timeout: float | None = None) -> Any:
        """An AMI action on the link (the ``Actions`` port)."""
        return await self.link.action(headers, as_list=as_list, timeout=timeout)

    @property
    def ready(self) -> asyncio.Event:
        return self.link.ready

    def route(self, name: str, handler: Any) -> None:
        self.agi.route(name, handler)

    def spawn(self, coro: Awaitable[Any], name: str) -> asyncio.Task[Any]:
        """A background task the engine keeps a reference to (and logs if it fails)."""
        return self._background.spawn(coro, name)

    async def until(self, predicate: Callable[[], bool], timeout: float) -> bool:
        """Wait until the model satisfies ``predicate`` (checked after each applied event), at most ``timeout``
        seconds of the engine's clock (so ring limits hold in virtual time too)."""
        if predicate():
            return True
        done = asyncio.Event()
        watcher = (predicate, done)
        self._watchers.append(watcher)
        waiter = asyncio.ensure_future(done.wait())
        timer = asyncio.ensure_future(self.clock.sleep(timeout))
        try:
            await asyncio.wait([waiter, timer], return_when=asyncio.FIRST_COMPLETED)
        finally:
            waiter.cancel()
            timer.cancel()
            self._watchers.remove(watcher)
        return predicate()

    async def caught_up(self, timeout: float) -> bool:
        """Wait until every AMI event received so far has been applied to the model (at most ``timeout`` of the
        engine's clock). A deadline met while the engine lags behind Asterisk must not be read as "nothing
        happened": the answer may be in the events still waiting."""
        await asyncio.sleep(0)  # let the loop read what the socket holds
        return await self.until(lambda: self.link.queue.empty() and not self._applying, timeout)

    def _ready(self) -> list[asyncio.Event]:
        """The watchers whose predicate holds now."""
        out = []
        for predicate, done in self._watchers:
            try:
                ready = predicate()
            except Exception:  # noqa: BLE001 - the waiter re-evaluates it and gets the error itself
                ready = True
            if ready:
                out.append(done)
        return out

    def _changed(self) -> None:
        for done in self._ready():
            done.set()

    # ---- the event loop of the model --------------------------------------------------------
    async def consume(self) -> None:
        """Apply what the link queued, in order. The frames waiting together are applied one by one and their
        facts written together, ``WRITE_FACTS`` at most to a transaction (a busy link costs one commit per
        batch, not per event); while more frames wait, a write runs on as the next ones are applied. The
        ledger, the hooks and the watchers stay as one event at a time would leave them: a call's end is derived
        once its hang-up and everything before it are written, a watcher whose predicate held after any
        applied event is woken once the facts that far are written, every watcher is checked again after each
        batch's write, the fact hooks hear each write."""
        writing: asyncio.Future[None] | None = None  # the last batch's write, running while the next is applied
        while True:
            if writing is not None and self.link.queue.empty():
                writing = await _done(writing)  # nothing to apply meanwhile: a failed write stops the engine now
            items = await take_batch(self.link.queue)
            self._applying = True
            pending: list[Fact] = []  # facts of the frames applied so far, not written yet
            woken: list[asyncio.Event] = []  # watchers to wake once those are written
            clock, apply, frame_hooks = self.clock, self.model.apply, self.frame_hooks  # looked up once a batch
            for item in items:
                now = clock.now()
                if isinstance(item, Frame):
                    facts = apply(item, now)
                    for hook in frame_hooks:
                        hook(item)
                    if facts:
                        pending += facts
                        if self._ending(facts):
                            writing = await _done(writing)
                            await self._flush(pending, woken)
                            await self._end(self._ending(facts))  # as the model is once they are written
                    if self._watchers:
                        woken += self._ready()
                    if len(pending) >= WRITE_FACTS:
                        writing = await _done(writing)
                        writing = asyncio.ensure_future(self._flush(pending, woken))
                        pending, woken = [], []
                    continue
                writing = await _done(writing)
                await self._flush(pending, woken)
                if isinstance(item, Resync):
                    await self._resync(item, now)
                elif isinstance(item, ResyncBegun):
                    self.model.begin_resync()
                elif isinstance(item, LinkDown):
                    self.model.drop_resync()
                elif isinstance(item, LinkUp):
                    self.link_up_at = now
            self._applying = False
            writing = await _done(writing)  # writes go in order
            writing = asyncio.ensure_future(self._flush(pending, woken, changed=True))

    async def _flush(self, pending: list[Fact], woken: list[asyncio.Event], changed: bool = False) -> None:
        if pending:
            batch = pending[:]
            pending.clear()
            await self.record(batch)
        for done in woken:
            done.set()
        woken.clear()
        if changed:
            self._changed()

    async def _resync(self, item: Resync, now: float) -> None:
        for hook in self.resync_hooks:
            try:
                await hook(item)
            except Exception:  # noqa: BLE001 - the next resync tries again; the engine must go on
                log.exception("resync hook %s failed", getattr(hook, "__qualname__", hook))
        facts = self.model.resync(item.channels, now, item.devices)
        log.info("resync (%s): %d live channel(s), %d fact(s) reconciled", item.reason, len(item.channels), len(facts))
        if facts:
            await self.record(facts)
            await self._end(self._ending(facts))
        for done in self.resynced_hooks:
            done(self.link_up_at if self.link_up_at is not None else now)
        self._changed()

    def _ending(self, facts: list[Fact]) -> list[Fact]:
        """The hang-ups among ``facts`` that leave their call with no channel: calls that end now."""
        hangups = [f for f in facts if f.kind == "channel.hangup" and f.call_id not in self._ended]
        if not hangups:
            return []
        live = {ch.call_id or ch.linkedid for ch in self.model.channels.values()}
        return [f for f in hangups if f.call_id not in live]

    async def _end(self, hangups: list[Fact]) -> None:
        for f in hangups:
            if f.call_id not in self._ended:
                await self.call_ended(f.call_id, [Fact("call.end", self.clock.now(), f.call_id, f.uniqueid,
                                                       fact_key("call.end", f.call_id), {})])  # fmt: skip

    async def call_ended(self, call_id: str, facts: list[Fact]) -> None:
        """Write a call's last facts (its ``call.end`` among them), derive its record, run the end-of-call hooks:
        once per call, whether the engine saw the end or rebuilt it from Asterisk's records."""
        if call_id in self._ended:
            return
        self._ended.add(call_id)
        await self.record(facts)
        await self.store.update_record(call_id)  # the record hooks hear of it
        for hook in self.call_end_hooks:
            self.spawn(hook(call_id), f"call-end:{call_id}")

    async def run(self, duration: float | None = None) -> None:
        # bound before anything else starts, so a taken port fails at once instead of inside the TaskGroup
        await self.agi.start()
        async with asyncio.TaskGroup() as tg:
            tasks = [
                tg.create_task(self.link.run(), name="ami-link"),
                tg.create_task(self.agi.serve(), name="fastagi"),
                tg.create_task(self.consume(), name="call-model"),
                *[tg.create_task(fn(), name=name) for name, fn in self.feature_tasks],
            ]
            if duration is not None:
                await asyncio.sleep(duration)
                await self.stop()
                for t in tasks:
                    t.cancel()

    async def stop(self) -> None:
        await self._background.cancel_all()
        await self.link.close()


def lab_paths(site: Site) -> tuple[str, Path]:
    """AMI secret and local recording folder, from the lab cache when ``asterisk.lab`` is set."""
    ast = site["asterisk"]
    rec = site["recording"]
    if ast["lab"]:
        from engine.lab import Lab, default_lab_dir

        lab = Lab(default_lab_dir())
        return lab.ami_secret(), lab.monitor_dir(rec["asterisk_dir"])
    secret = Path(ast["ami_secret_file"]).expanduser().read_text().strip()
    return secret, Path(rec["local_dir"]).expanduser()


async def records_command(site: Site, action: str, as_json: bool) -> int:
    import json

    from engine.store.store import migrate

    url = site["store"]["url"]
    await asyncio.to_thread(migrate, url)
    store = Store(url)
    try:
        if action == "rebuild":
            n = await store.rebuild_records()
            print(f"rebuilt {n} call record(s) from the ledger")
            return 0
        rows = await store.records()
        if as_json:
            print(json.dumps(rows, indent=1))
        else:
            from engine.privacy import mask_number

            for r in rows:
                print(
                    f"{r['call_id']}  {mask_number(str(r['caller']))}  {r['outcome']:<10} agent={r['agent_id'] or '-'} "
                    f"wait={r['queue_wait']} ring={r['ring_time']} talk={r['talk_time']} hold={r['hold_time']} "
                    f"side={r['hangup_side']} rec={r['recording'] or '-'}"
                    + (f" closed={r['closed']}" if r.get("closed") else "")
                )
        return 0
    finally:
        await store.close()
