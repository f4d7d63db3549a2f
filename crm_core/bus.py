"""The event bus: cross-part news (``call.ringing``, ``survey.rated``, ...) as small JSON dicts.

One interface, two implementations: :class:`InProcessBus` for the embedded default and
:class:`RedisBus` (Redis pub/sub) in production, where the CTI process, Celery workers and
several web processes share one channel.

A message is a dict with a ``type`` and an ``audience``: a list of keys such as ``user:5``,
``team:2``, ``wall`` or ``all``. The websocket hub delivers it to the sockets subscribed to
any of those keys. Every message is declared in :mod:`crm_core.events`; ``publish`` takes the
typed event (or its dict) and the wire carries its dict.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager, suppress

from crm_core.events import BusEvent, Message, as_message

log = logging.getLogger("callcard.bus")

CHANNEL = "callcard:events"


def channel_for(url: str) -> str:
    """The pub/sub channel of one installation: Redis pub/sub ignores database numbers, so the
    channel carries the number (``redis://host/3`` -> ``callcard:events:3``)."""
    from urllib.parse import urlparse

    path = urlparse(url).path.strip("/")
    return f"{CHANNEL}:{path or '0'}"


class Subscription:
    """Messages for one subscriber, delivered in its loop: queued for ``get``/``async for``, or
    handed to ``handler`` at once (the websocket hub: no extra task hop on the popup path)."""

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        maxsize: int = 10_000,
        handler: Callable[[Message], None] | None = None,
    ) -> None:
        self.loop = loop
        self.handler = handler
        self.queue: asyncio.Queue[Message] = asyncio.Queue(maxsize)

    def offer(self, message: Message) -> None:
        if self.handler is not None:
            self.handler(message)
            return
        try:
            self.queue.put_nowait(message)
        except asyncio.QueueFull:
            log.warning("subscriber too slow, dropping %s", message.get("type"))

    async def get(self) -> Message:
        return await self.queue.get()

    def __aiter__(self) -> AsyncIterator[Message]:
        return self._iter()

    async def _iter(self) -> AsyncIterator[Message]:
        while True:
            yield await self.queue.get()


class Bus:
    """Publish from anywhere (async or sync code, any thread); subscribe from async code."""

    def __init__(self) -> None:
        self._subs: list[Subscription] = []
        self._lock = threading.Lock()

    async def publish(self, message: BusEvent | Message) -> None:
        raise NotImplementedError

    def publish_sync(self, message: BusEvent | Message) -> None:
        raise NotImplementedError

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None

    @asynccontextmanager
    async def subscribe(
        self, handler: Callable[[Message], None] | None = None
    ) -> AsyncIterator[Subscription]:
        """``handler``: called in the subscriber's loop for each message, which must not raise."""
        sub = Subscription(asyncio.get_running_loop(), handler=handler)
        with self._lock:
            self._subs.append(sub)
        try:
            yield sub
        finally:
            with self._lock:
                self._subs.remove(sub)

    def _deliver_local(self, message: Message) -> None:
        with self._lock:
            subs = list(self._subs)
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        for sub in subs:
            if running is sub.loop:
                sub.offer(message)
            elif not sub.loop.is_closed():
                sub.loop.call_soon_threadsafe(sub.offer, message)


class InProcessBus(Bus):
    async def publish(self, message: BusEvent | Message) -> None:
        self._deliver_local(as_message(message))

    def publish_sync(self, message: BusEvent | Message) -> None:
        self._deliver_local(as_message(message))


class RedisBus(Bus):
    """Redis pub/sub: every process that subscribes gets every message."""

    def __init__(self, url: str) -> None:
        super().__init__()
        import redis

        self.url = url
        self.channel = channel_for(url)
        self._sync = redis.Redis.from_url(url)
        self._async = None
        self._reader: asyncio.Task | None = None

    async def _client(self):
        if self._async is None:
            import redis.asyncio as aioredis

            self._async = aioredis.Redis.from_url(self.url)
        return self._async

    async def publish(self, message: BusEvent | Message) -> None:
        client = await self._client()
        await client.publish(self.channel, json.dumps(as_message(message), default=str))

    def publish_sync(self, message: BusEvent | Message) -> None:
        self._sync.publish(self.channel, json.dumps(as_message(message), default=str))

    async def start(self) -> None:
        if self._reader is None:
            ready = asyncio.Event()
            self._reader = asyncio.create_task(self._read(ready))
            await asyncio.wait_for(ready.wait(), 10)

    async def _read(self, ready: asyncio.Event) -> None:
        import redis.asyncio as aioredis

        delay = 0.5
        while True:
            try:
                client = aioredis.Redis.from_url(self.url)
                pubsub = client.pubsub(ignore_subscribe_messages=True)
                await pubsub.subscribe(self.channel)
                ready.set()
                delay = 0.5
                async for raw in pubsub.listen():
                    if raw.get("type") != "message":
                        continue
                    try:
                        message = json.loads(raw["data"])
                    except (ValueError, TypeError):
                        log.warning("undecodable bus message skipped")
                        continue
                    self._deliver_local(message)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # Redis restarted or unreachable: retry
                log.warning("event bus connection lost (%s); retrying in %.1fs", exc, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 10)

    async def stop(self) -> None:
        if self._reader:
            self._reader.cancel()
            with suppress(asyncio.CancelledError, Exception):
                await self._reader
            self._reader = None
        if self._async is not None:
            await self._async.aclose()
            self._async = None


_bus: Bus | None = None


def get_bus() -> Bus:
    """The process's bus, chosen by ``CALLCARD_BUS_URL`` (empty: in-process)."""
    global _bus
    if _bus is None:
        from crm_core.config import get_settings

        url = get_settings().bus_url
        _bus = RedisBus(url) if url else InProcessBus()
    return _bus


def set_bus(bus: Bus | None) -> None:
    global _bus
    _bus = bus
