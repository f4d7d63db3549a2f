"""Bus messages off the CTI's hot path: one thread sends what queued up, in order."""

from __future__ import annotations

import json
import logging
import queue
import threading
import time
from collections.abc import Callable

from crm_core.bus import Bus, RedisBus
from crm_core.events import BusEvent, Message, as_message

log = logging.getLogger("callcard.cti.popups")


class QueuedPublisher:
    """Publishes bus messages off the hot path when the bus is Redis.

    ``RedisBus.publish_sync`` is a network round trip per message; a burst of 100 ringing calls
    would queue them in the listener's loop. Here one thread takes whatever has queued up and
    sends it in one pipeline, in order. The in-process bus is called directly (no thread hop).
    Other Redis writes of the CTI (presence snapshot) go through :meth:`run` to keep their order.
    """

    def __init__(self, bus: Bus) -> None:
        self.bus = bus
        self.redis = None
        if isinstance(bus, RedisBus):
            import redis

            self.redis = redis.Redis.from_url(bus.url)
            self.channel = bus.channel
            self.queue: queue.SimpleQueue = queue.SimpleQueue()
            self.thread = threading.Thread(target=self._loop, name="bus-publisher", daemon=True)
            self.thread.start()

    def __call__(self, message: BusEvent | Message) -> None:
        if self.redis is None:
            self.bus.publish_sync(message)
        else:
            self.queue.put(("message", message))  # turned into its dict on the publisher thread

    def run(self, job: Callable[[], None]) -> None:
        """Run ``job()`` on the publisher thread (in order with the messages), or now."""
        if self.redis is None:
            job()
        else:
            self.queue.put(("job", job))

    def _loop(self) -> None:
        while True:
            items = [self.queue.get()]
            while len(items) < 500:
                try:
                    items.append(self.queue.get_nowait())
                except queue.Empty:
                    break
            if any(kind == "stop" for kind, _ in items):
                items = [i for i in items if i[0] != "stop"]
                stopping = True
            else:
                stopping = False
            pipe = self.redis.pipeline(transaction=False)
            for kind, item in items:
                if kind == "message":
                    pipe.publish(self.channel, json.dumps(as_message(item), default=str))
                else:
                    if len(pipe):
                        self._send(pipe)
                        pipe = self.redis.pipeline(transaction=False)
                    try:
                        item()
                    except Exception:
                        log.exception("background bus job failed")
            if len(pipe):
                self._send(pipe)
            if stopping:
                return

    def _send(self, pipe) -> None:
        for attempt in range(3):
            try:
                pipe.execute()
                return
            except Exception as exc:
                log.warning("publishing to the Redis bus failed (%s); attempt %d", exc, attempt + 1)
                time.sleep(0.2 * (attempt + 1))
        log.error("bus messages dropped after 3 attempts")

    def close(self, timeout: float = 5.0) -> None:
        if self.redis is not None:
            self.queue.put(("stop", None))
            self.thread.join(timeout)
            self.redis.close()
