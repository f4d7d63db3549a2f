"""The websocket hub: forwards bus messages to the sockets of the users they concern.

Each socket listens on audience keys (``user:5``, ``team:2``, ``role:manager``, ``wall``,
``all``). A message may carry ``sticky``: the hub then remembers it per key until a message
with the same ``sticky`` and ``final: true`` passes, and replays what is remembered to a socket
that (re)connects: a browser that lost its network for a moment gets the calls still ringing.
A sticky message whose final never came (the process that sent it died) expires after
``STICKY_TTL`` seconds, so a stale popup is never replayed.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from typing import Any

from fastapi import WebSocket

from crm_core.auth.principal import Principal
from crm_core.bus import Bus
from crm_core.events import ROUTING_KEYS, Message

log = logging.getLogger("callcard.hub")

STICKY_TTL = 4 * 3600.0  # longer than any real call


def audience_keys(principal: Principal) -> set[str]:
    if principal.role == "wall":
        return {"wall", "all"}
    keys = {"all", f"role:{principal.role}"}
    if principal.id is not None:
        keys.add(f"user:{principal.id}")
    if principal.team_id is not None:
        keys.add(f"team:{principal.team_id}")
    if principal.role in ("admin", "manager"):
        keys.add("wall")
    return keys


class Connection:
    """One websocket with its own send queue, so one slow browser never delays the others."""

    def __init__(self, ws: WebSocket, principal: Principal) -> None:
        self.ws = ws
        self.principal = principal
        self.keys = audience_keys(principal)
        self.queue: asyncio.Queue[str] = asyncio.Queue(1000)

    def send(self, text: str) -> None:
        try:
            self.queue.put_nowait(text)
        except asyncio.QueueFull:
            log.warning("websocket of %s is not reading; message dropped", self.principal.username)

    async def writer(self) -> None:
        while True:
            text = await self.queue.get()
            await self.ws.send_text(text)


class Hub:
    def __init__(self) -> None:
        self.by_key: dict[str, set[Connection]] = {}
        self.sticky: dict[str, dict[str, tuple[str, float]]] = {}
        self._task: asyncio.Task | None = None
        self.listeners: list[Any] = []  # callables(message) run for every message (wall counters)

    async def start(self, bus: Bus) -> None:
        ready = asyncio.Event()
        self._task = asyncio.create_task(self._run(bus, ready))
        await ready.wait()

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
        # what was remembered belongs to this run of the app: an app started again in the
        # same process (tests, a reload) must not replay the previous run's ringing calls
        self.sticky.clear()

    async def _run(self, bus: Bus, ready: asyncio.Event) -> None:
        async with bus.subscribe(self._safe_dispatch):
            ready.set()
            await asyncio.Event().wait()  # messages arrive through the handler until cancelled

    def _safe_dispatch(self, message: Message) -> None:
        try:
            self.dispatch(message)
        except Exception:
            log.exception("could not dispatch %s", message.get("type"))

    def dispatch(self, message: Message) -> None:
        for listener in self.listeners:
            try:
                listener(message)
            except Exception:
                log.exception("hub listener failed on %s", message.get("type"))
        keys = message.get("audience") or []
        public = {k: v for k, v in message.items() if k not in ROUTING_KEYS}
        text = json.dumps(public, default=str, ensure_ascii=False)
        sticky = message.get("sticky")
        if sticky:
            for key in keys:
                if message.get("final"):
                    self.sticky.get(key, {}).pop(sticky, None)
                else:
                    self.sticky.setdefault(key, {})[sticky] = (text, time.monotonic())
        sent: set[int] = set()
        for key in keys:
            for conn in self.by_key.get(key, ()):
                if id(conn) not in sent:
                    sent.add(id(conn))
                    conn.send(text)

    def add(self, conn: Connection) -> None:
        replay: dict[str, str] = {}
        for key in conn.keys:
            self.by_key.setdefault(key, set()).add(conn)
            replay.update(self._fresh_sticky(key))
        for text in replay.values():
            conn.send(text)

    def _fresh_sticky(self, key: str) -> dict[str, str]:
        remembered = self.sticky.get(key, {})
        oldest = time.monotonic() - STICKY_TTL
        for name in [n for n, (_, at) in remembered.items() if at < oldest]:
            del remembered[name]
        return {name: text for name, (text, _) in remembered.items()}

    def remove(self, conn: Connection) -> None:
        for key in conn.keys:
            conns = self.by_key.get(key)
            if conns is not None:
                conns.discard(conn)
                if not conns:
                    del self.by_key[key]

    def connected(self, key: str) -> int:
        return len(self.by_key.get(key, ()))


hub = Hub()
