"""The wall counters as a background service of each web process.

Fed by ``hub.listeners`` (every bus message this process receives), rebuilt from the database
at start. After a change it pushes one ``wall.counters`` snapshot to the wall sockets of this
process; changes that arrive together are coalesced into one push per loop turn.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from starlette.concurrency import run_in_threadpool

from crm_core.config import CoreSettings
from crm_core.database import session_scope
from crm_core.events import BusEvent, Message, OperatorState, WallCall
from dashboard.hub import hub
from dashboard.i18n import local_zone
from dashboard.wall.counters import WallCounters, wall_event
from dashboard.wall.rebuild import load_sales, overdue_per_employee, rebuild

log = logging.getLogger("callcard.wall")

#: the running service of this process (the /wall page renders its snapshot)
current: WallService | None = None
#: at most one snapshot per this many seconds to the wall screens
PUSH_INTERVAL = 0.1


def _change_of(event: BusEvent) -> list[Any]:
    """``[type, key, phase]`` of one change, listed in the next push's ``events``."""
    if isinstance(event, WallCall):
        return [event.type, event.call_id or None, event.phase]
    if isinstance(event, OperatorState):
        return [event.type, event.extension or None, None]
    return [event.type, event.call_id or event.client_id, None]  # survey.rated


class WallService:
    name = "wall counters"

    def __init__(self, settings: CoreSettings, refresh_seconds: float = 60.0) -> None:
        self.settings = settings
        self.refresh_seconds = refresh_seconds
        self.counters = WallCounters(local_zone())
        self._pending = False
        self._last_push = 0.0
        self._events: list[list[Any]] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._ticker: asyncio.Task | None = None

    async def start(self) -> None:
        global current
        self._loop = asyncio.get_running_loop()
        hub.listeners.append(self.on_message)  # first, so no event is lost while rebuilding
        await run_in_threadpool(self._rebuild)
        self._ticker = asyncio.create_task(self._tick())
        current = self

    async def stop(self) -> None:
        global current
        if self.on_message in hub.listeners:
            hub.listeners.remove(self.on_message)
        if self._ticker:
            self._ticker.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._ticker
        if current is self:
            current = None

    def _rebuild(self) -> None:
        with session_scope(self.settings) as db:
            rebuild(db, self.counters)

    def on_message(self, message: Message) -> None:
        event = wall_event(message)
        if event is not None and self.counters.apply(event):
            if len(self._events) < 500:
                self._events.append(_change_of(event))
            self.schedule_push()

    def schedule_push(self) -> None:
        if self._pending or self._loop is None:
            return
        self._pending = True
        wait = self._last_push + PUSH_INTERVAL - self._loop.time()
        if wait > 0:
            self._loop.call_later(wait, self._push)
        else:
            self._loop.call_soon(self._push)

    def _push(self) -> None:
        self._pending = False
        self._last_push = self._loop.time() if self._loop else 0.0
        events, self._events = self._events, []
        hub.dispatch(self.counters.snapshot_event(events).to_message())

    def snapshot(self) -> dict[str, Any]:
        return self.counters.snapshot()

    async def _tick(self) -> None:
        """Day change and overdue tasks (which become overdue by time passing, not by event)."""
        while True:
            await asyncio.sleep(self.refresh_seconds)
            try:
                if self.counters.roll_day():
                    await run_in_threadpool(self._rebuild)
                rows = await run_in_threadpool(self._overdue)
                if self.counters.set_overdue(rows):
                    self.schedule_push()
                if self.counters.set_sales(await run_in_threadpool(self._sales)):
                    self.schedule_push()
            except Exception:
                log.exception("wall refresh failed")

    def _sales(self) -> dict | None:
        with session_scope(self.settings) as db:
            return load_sales(db, self.counters)

    def _overdue(self) -> list[dict]:
        with session_scope(self.settings) as db:
            return overdue_per_employee(db)


def snapshot_now(settings: CoreSettings | None = None) -> dict[str, Any]:
    """The current snapshot: from the running service, else rebuilt once from the database."""
    if current is not None:
        return current.snapshot()
    from crm_core.config import get_settings

    counters = WallCounters(local_zone())
    with session_scope(settings or get_settings()) as db:
        rebuild(db, counters)
    return counters.snapshot()
