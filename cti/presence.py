"""Operator presence: available, ringing, in call, paused, offline, with the time it began.

Fed from two sources in the CTI process:

- the tracker's ``on_presence(extension, state)``, derived from device and queue-member events
  (``DeviceStateChange``, ``QueueMemberStatus``, ``QueueMemberPause``, ``PeerStatus``,
  ``ContactStatus``), which a real PBX with PJSIP phones sends;
- the call tracker's events (ringing, answered, ended), which cover PBXs and recordings that send
  no device events (the Local-channel traces).

Every change is published as ``operator.state`` (audience ``wall`` and the operator). Snapshot
for late readers: in production the CTI process also writes each state into the Redis hash
``callcard:presence`` (one field per extension, JSON value), so a web process that starts late
answers ``GET /api/presence`` from that hash without waiting for the next change. In the embedded
default the web process *is* the CTI process and reads the board in memory.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from crm_core.database import utcnow
from crm_core.events import OperatorState
from cti.tracker.call import TrackedCall

log = logging.getLogger("callcard.cti.presence")

STATES = ("available", "ringing", "in_call", "paused", "offline")
REDIS_KEY = "callcard:presence"


@dataclass
class OperatorPresence:
    extension: str
    device_state: str = "available"  # from devices/calls: available|ringing|in_call|offline
    paused: bool = False
    since: datetime | None = None
    user_id: int | None = None
    username: str | None = None

    @property
    def state(self) -> str:
        if self.device_state == "available" and self.paused:
            return "paused"
        return self.device_state

    def event(self) -> OperatorState:
        return OperatorState(
            extension=self.extension,
            user_id=self.user_id,
            username=self.username,
            state=self.state,
            since=self.since.isoformat() if self.since else None,
        )

    def as_dict(self) -> dict[str, Any]:
        """The state as stored in Redis and answered by ``GET /api/presence``."""
        return self.event().fields()


UserResolver = Callable[[str], tuple[int | None, str | None]]
Publisher = Callable[[OperatorState], None]


class PresenceBoard:
    """The live state of every operator extension the PBX told us about."""

    def __init__(
        self,
        publish: Publisher | None = None,
        resolve_user: UserResolver | None = None,
        redis_url: str | None = None,
        background: Callable[[Callable[[], None]], None] | None = None,
    ) -> None:
        self.operators: dict[str, OperatorPresence] = {}
        self._announced: set[str] = set()
        self._publish = publish
        self._resolve_user = resolve_user
        self._user_cache: dict[str, tuple[float, tuple[int | None, str | None]]] = {}
        self._redis = None
        self._background = background  # runs Redis writes off the hot path, in order
        if redis_url:
            import redis

            self._redis = redis.Redis.from_url(redis_url)

    # --- inputs ---------------------------------------------------------------------------

    def on_presence(self, extension: str, state: str) -> None:
        """The tracker's device-derived state (DeviceStateChange, QueueMember*, PeerStatus,
        ContactStatus: parsed in :mod:`cti.tracker.presence`)."""
        if state == "paused":
            self.set_device(extension, "available")
            self.set_paused(extension, True)
            return
        if state not in STATES:
            return
        op = self._operator(extension)
        before = op.state
        op.device_state = state
        if state == "available":
            op.paused = False
        self._changed(op, before)

    def on_call_event(self, kind: str, call: TrackedCall, extension: str | None) -> None:
        """Tracker events: the fallback for PBXs that send no device events."""
        if kind == "ringing" and extension:
            self._from_call(extension, "ringing")
        elif kind == "answered" and extension:
            self._from_call(extension, "in_call")
        elif kind == "ring_stopped" and extension:
            self._call_over(extension, only_if="ringing")
        elif kind == "transferred":
            source = call.transfers[-1].get("from") if call.transfers else None
            if source:
                self._call_over(source)
        elif kind == "ended":
            involved = {*call.rang, *call.answered}
            if call.answered_by:
                involved.add(call.answered_by)
            if extension:
                involved.add(extension)
            for ext in sorted(involved):
                self._call_over(ext)

    def _from_call(self, ext: str, state: str) -> None:
        op = self._operator(ext)
        if op.device_state == "offline":
            return  # a device event said so; trust it over a call event
        before = op.state
        op.device_state = state
        self._changed(op, before)

    def _call_over(self, ext: str, only_if: str | None = None) -> None:
        op = self.operators.get(ext)
        if op is None or op.device_state not in ("ringing", "in_call"):
            return
        if only_if is not None and op.device_state != only_if:
            return
        self.set_device(ext, "available")

    # --- state changes --------------------------------------------------------------------

    def _operator(self, ext: str) -> OperatorPresence:
        op = self.operators.get(ext)
        if op is None:
            op = self.operators[ext] = OperatorPresence(extension=ext, since=utcnow())
            op.user_id, op.username = self._user(ext)
        return op

    def set_device(self, ext: str, state: str) -> None:
        op = self._operator(ext)
        before = op.state
        op.device_state = state
        self._changed(op, before)

    def set_paused(self, ext: str, paused: bool, publish: bool = True) -> None:
        op = self._operator(ext)
        before = op.state
        op.paused = paused
        if publish:
            self._changed(op, before)

    def _changed(self, op: OperatorPresence, before: str) -> None:
        if op.state == before and op.extension in self._announced:
            return
        self._announced.add(op.extension)
        if op.state != before:
            op.since = utcnow()
        op.user_id, op.username = self._user(op.extension)
        self._store(op)
        if self._publish is not None:
            self._publish(op.event())

    def _store(self, op: OperatorPresence) -> None:
        if self._redis is None:
            return
        ext, value = op.extension, json.dumps(op.as_dict())

        def write() -> None:
            try:
                self._redis.hset(REDIS_KEY, ext, value)
            except Exception as exc:  # Redis down: the bus will say so too; keep serving calls
                log.warning("could not store presence of %s in Redis: %s", ext, exc)

        if self._background is not None:
            self._background(write)
        else:
            write()

    def _user(self, ext: str) -> tuple[int | None, str | None]:
        if self._resolve_user is None:
            return None, None
        cached = self._user_cache.get(ext)
        now = time.monotonic()
        if cached and now - cached[0] < 30:
            return cached[1]
        try:
            value = self._resolve_user(ext)
        except Exception:
            log.exception("could not find the user of extension %s", ext)
            value = (None, None)
        self._user_cache[ext] = (now, value)
        return value

    def snapshot(self) -> list[dict[str, Any]]:
        return [op.as_dict() for _, op in sorted(self.operators.items())]


#: the board of the CTI service running in this process (embedded default), if any
current_board: PresenceBoard | None = None


def presence_snapshot() -> list[dict[str, Any]]:
    """What ``GET /api/presence`` returns: from this process's board, or from Redis."""
    from cti.config import get_settings

    if current_board is not None:
        return current_board.snapshot()
    settings = get_settings()
    if settings.bus_url:
        import redis

        try:
            raw = redis.Redis.from_url(settings.bus_url).hgetall(REDIS_KEY)
        except Exception as exc:
            from crm_core.errors import Unavailable

            raise Unavailable(f"presence store (Redis) unreachable: {exc}") from None
        items = [json.loads(v) for v in raw.values()]
        return sorted(items, key=lambda item: item["extension"])
    return []
