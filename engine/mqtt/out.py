"""MQTT out: a thin asyncio shell that publishes the live bus to a broker with aiomqtt, reconnecting on its own.

It never makes the engine wait: the bus hands it changes through a bounded subscription (one that falls
behind starts over from a snapshot), connecting runs in aiomqtt's executor thread, and while the broker is
away the task only sleeps (it holds no subscription then, so nothing piles up). Every connection starts with
a fresh subscription, whose first item is a snapshot of every retained state: after a reconnect the broker
holds the whole floor again, whatever it kept or lost meanwhile. Each connection also sweeps the broker: a
retained state of an agent, service or campaign the engine no longer has (taken out of the site file) is
cleared, so a wallboard does not show it for ever.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import ssl
from collections.abc import Callable

import aiomqtt

from engine.live.bus import Bus, Change, Snapshot, Subscription
from engine.mqtt.backoff import Backoff
from engine.mqtt.settings import Broker
from engine.mqtt.topics import RETAINED_TOPICS, STATE_QOS, STATUS, STATUS_QOS, message, status_payload

log = logging.getLogger("hotline.mqtt")


class MqttOut:
    def __init__(self, bus: Bus, broker: Broker, prefix: str, now: Callable[[], float], *, limit: int = 10_000,
                 backoff: Backoff | None = None, keepalive: int = 30, timeout: float = 5.0,
                 client_id: str = "", sweep_wait: float = 1.0) -> None:  # fmt: skip
        self.bus = bus
        self.broker = broker
        self.prefix = prefix
        self.now = now
        self.limit = limit  # changes queued for the broker at most; beyond it a snapshot replaces them
        self.backoff = backoff or Backoff()
        self.keepalive = keepalive
        self.timeout = timeout  # seconds a publish or the disconnect may take before the link counts as lost
        self.client_id = client_id or f"hotline-{os.getpid()}"
        self._tls = ssl.create_default_context() if broker.tls else None
        self.status_topic = f"{prefix}/{STATUS}"
        # what tools and tests can read
        self.connected = False
        self.connects = 0
        self.snapshots = 0  # full republications: one per connection, plus one per fall-behind
        self.published = 0
        self.last_error = ""
        self._quiet = False
        # seconds the sweep listens for the broker's retained states before clearing the stale ones
        self.sweep_wait = sweep_wait
        self.cleared = 0  # stale retained topics cleared, all connections together
        self._found: set[str] = set()  # retained state topics the broker held at this connection's sweep

    def _client(self) -> aiomqtt.Client:
        will = aiomqtt.Will(self.status_topic, status_payload("offline", reason="connection lost"),
                            qos=STATUS_QOS, retain=True)  # fmt: skip
        return aiomqtt.Client(self.broker.host, self.broker.port, username=self.broker.username,
                              password=self.broker.password, identifier=self.client_id, will=will,
                              keepalive=self.keepalive, timeout=self.timeout, tls_context=self._tls,
                              max_queued_incoming_messages=10_000)  # fmt: skip

    async def run(self) -> None:
        """Named feature task: connect, publish, and after any loss wait (1 s doubling to 30 s) and start over."""
        while True:
            try:
                await self._connection()
            except* (aiomqtt.MqttError, OSError) as group:  # refused, lost, timed out, a TLS handshake failed
                self._lost(group.exceptions[0])
            except* Exception as group:  # noqa: BLE001 - a fault of ours must not stop the engine either
                log.error("MQTT out failed; starting over", exc_info=group.exceptions[0])
                self.last_error = repr(group.exceptions[0])
            await asyncio.sleep(self.backoff.next())  # real seconds, whatever the engine's clock: it is the broker's

    def _lost(self, exc: BaseException) -> None:
        cause = f" ({exc.__cause__})" if exc.__cause__ is not None else ""
        self.last_error = (str(exc) or type(exc).__name__) + cause
        # one warning when the link goes (or the first attempt fails), then quiet until it is back
        level = logging.DEBUG if self._quiet else logging.WARNING
        self._quiet = True
        log.log(level, "MQTT broker %s: %s; retrying (backoff up to %.0f s)", self.broker, self.last_error,
                self.backoff.limit)  # fmt: skip

    async def _connection(self) -> None:
        client = self._client()
        async with client:
            self.connected = True
            self.connects += 1
            self.backoff.reset()
            self._quiet = False
            log.info("MQTT connected to %s, topics under %s/", self.broker, self.prefix)
            sub = self.bus.subscribe(self.limit, name="mqtt")
            try:
                async with asyncio.TaskGroup() as tg:
                    tg.create_task(self._watch(client), name="mqtt-watch")
                    tg.create_task(self._pump(client, sub), name="mqtt-pump")
                    tg.create_task(self._sweep(client), name="mqtt-sweep")
            except asyncio.CancelledError:
                # a clean stop is not a lost link: the last states, then offline, then aiomqtt disconnects
                # cleanly (no will); bounded, a stop must not hang on a broker that stopped answering
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(self._last_words(client, sub), self.timeout)
                raise
            finally:
                sub.close()
                self.connected = False

    async def _watch(self, client: aiomqtt.Client) -> None:
        """Ends the connection when the broker goes (aiomqtt's message iterator raises MqttError then); takes
        note of the retained states the sweep's subscription brings."""
        self._found = set()
        async for m in client.messages:
            if m.retain and m.payload:  # an empty retained payload is a clearing, not a state
                self._found.add(str(m.topic))

    async def _sweep(self, client: aiomqtt.Client) -> None:
        """Clear the retained states of agents, services and campaigns the engine does not have: the broker
        keeps a retained message until someone replaces or clears it, and the engine publishes only its own."""
        filters = [f"{self.prefix}/{kind}/+" for kind in RETAINED_TOPICS.values()]
        for f in filters:
            await client.subscribe(f, qos=0)
        await asyncio.sleep(self.sweep_wait)  # the broker sends its retained copies right after the subscription
        for f in filters:
            await client.unsubscribe(f)
        stale = []
        for topic in sorted(self._found):
            # asked again before each clearing: the engine may have published this state since the last one
            # (a clearing sent after the pump's copy would wipe it); nothing awaits between the look and the send
            if topic not in self._ours():
                stale.append(topic)
                await client.publish(topic, b"", qos=STATE_QOS, retain=True)
                self.cleared += 1
        if stale:
            log.info("MQTT: cleared %d retained state(s) the engine no longer has, e.g. %s", len(stale), stale[0])

    def _ours(self) -> set[str]:
        """The topics of the retained states the engine has now."""
        ours = set()
        for topic in RETAINED_TOPICS:
            for change in self.bus.states(topic):
                m = message(self.prefix, change)
                if m is not None:
                    ours.add(m.topic)
        return ours

    async def _pump(self, client: aiomqtt.Client, sub: Subscription) -> None:
        # first of all, online: it replaces the last will's offline a previous connection may have left
        await client.publish(self.status_topic, status_payload("online", at=self.now()), qos=STATUS_QOS, retain=True)
        first = True
        while True:
            # Python 3.11's asyncio.wait_for, under aiomqtt's publish, swallows a cancellation that lands as the
            # broker's acknowledgement does: the stop is honoured here, or the pump would wait on the bus for ever
            if (task := asyncio.current_task()) is not None and task.cancelling():
                raise asyncio.CancelledError
            item = await sub.get()
            if isinstance(item, Snapshot):
                if not first:  # the broker took longer than the bus's changes kept coming: events were lost
                    log.warning("MQTT out fell %d changes behind; call events skipped, every state republished",
                                self.limit)  # fmt: skip
                first = False
                self.snapshots += 1
                for change in item.states:
                    await self._send(client, change)
            else:
                await self._send(client, item)

    async def _last_words(self, client: aiomqtt.Client, sub: Subscription) -> None:
        """What the stop overtook: the call events still queued, every state as it is now (a snapshot cut short
        is completed so), and offline."""
        while (item := sub.get_nowait()) is not None:
            if isinstance(item, Change) and not item.retained:
                await self._send(client, item)
        for change in self.bus.snapshot().states:
            await self._send(client, change)
        offline = status_payload("offline", reason="stopped", at=self.now())
        await client.publish(self.status_topic, offline, qos=STATUS_QOS, retain=True)

    async def _send(self, client: aiomqtt.Client, change: Change) -> None:
        m = message(self.prefix, change)
        if m is None:
            return
        await client.publish(m.topic, m.payload, qos=m.qos, retain=m.retain)
        self.published += 1
