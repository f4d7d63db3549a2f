"""Operator presence: available, ringing, in call, paused, offline, with the time it began.

Fed from two sources in the CTI process:

- device and queue-member events from AMI (``DeviceStateChange``, ``ExtensionStatus``,
  ``QueueMemberStatus``, ``QueueMemberPause``, ``PeerStatus``, ``ContactStatus``), which a real
  PBX with PJSIP phones sends;
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
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from crm_core.database import utcnow

log = logging.getLogger("callcard.cti.presence")

STATES = ("available", "ringing", "in_call", "paused", "offline")
REDIS_KEY = "callcard:presence"

# Asterisk device states (DeviceStateChange State, QueueMemberStatus Status numbers)
_DEVICE_STATE = {
    "NOT_INUSE": "available",
    "INUSE": "in_call",
    "BUSY": "in_call",
    "RINGING": "ringing",
    "RINGINUSE": "in_call",
    "ONHOLD": "in_call",
    "UNAVAILABLE": "offline",
    "INVALID": "offline",
    "UNKNOWN": None,
}
_QUEUE_MEMBER_STATUS = {
    "0": None,  # unknown
    "1": "available",  # not in use
    "2": "in_call",
    "3": "in_call",  # busy
    "4": "offline",  # invalid
    "5": "offline",  # unavailable
    "6": "ringing",
    "7": "in_call",  # ringinuse
    "8": "in_call",  # onhold
}
# ExtensionStatus Status bit field
_EXTENSION_STATUS = {
    "-2": "offline",
    "-1": "offline",
    "0": "available",
    "1": "in_call",
    "2": "in_call",
    "4": "offline",
    "8": "ringing",
    "9": "in_call",
    "16": "in_call",
    "17": "in_call",
}
_PEER_STATUS = {
    "registered": "available",
    "reachable": "available",
    "unregistered": "offline",
    "unreachable": "offline",
    "rejected": "offline",
    "lagged": "available",
}
_CONTACT_STATUS = {
    "created": "available",
    "reachable": "available",
    "nonqualified": "available",  # qualify disabled: registered is as good as reachable
    "updated": None,
    "unreachable": "offline",
    "removed": "offline",
}
_DEVICE_EXT = re.compile(r"^(?:PJSIP|SIP|IAX2|DAHDI|Local)/(\d+)(?:[@-].*)?$", re.IGNORECASE)


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

    def as_dict(self) -> dict[str, Any]:
        return {
            "extension": self.extension,
            "user_id": self.user_id,
            "username": self.username,
            "state": self.state,
            "since": self.since.isoformat() if self.since else None,
        }


def _ext_of_device(device: str | None) -> str | None:
    if not device:
        return None
    device = device.strip()
    if device.isdigit():
        return device
    match = _DEVICE_EXT.match(device)
    return match.group(1) if match else None


def _get(event: Mapping[str, Any], key: str) -> str | None:
    """Case-insensitive header lookup (Asterisk is not consistent about key case)."""
    value = event.get(key)
    if value is None:
        lower = key.lower()
        for k, v in event.items():
            if k.lower() == lower:
                value = v
                break
    return None if value is None else str(value)


UserResolver = Callable[[str], tuple[int | None, str | None]]
Publisher = Callable[[dict[str, Any]], None]


class PresenceBoard:
    """The live state of every operator extension the PBX told us about."""

    def __init__(
        self,
        publish: Publisher | None = None,
        resolve_user: UserResolver | None = None,
        redis_url: str | None = None,
    ) -> None:
        self.operators: dict[str, OperatorPresence] = {}
        self._announced: set[str] = set()
        self._publish = publish
        self._resolve_user = resolve_user
        self._user_cache: dict[str, tuple[float, tuple[int | None, str | None]]] = {}
        self._redis = None
        if redis_url:
            import redis

            self._redis = redis.Redis.from_url(redis_url)

    # --- inputs ---------------------------------------------------------------------------

    def feed_ami(self, event: Mapping[str, Any]) -> None:
        """Take one AMI event; events that are not about presence are ignored."""
        name = (_get(event, "Event") or "").lower()
        if name == "devicestatechange":
            ext = _ext_of_device(_get(event, "Device"))
            state = _DEVICE_STATE.get((_get(event, "State") or "").upper())
            if ext and state:
                self.set_device(ext, state)
        elif name == "extensionstatus":
            ext = _get(event, "Exten")
            state = _EXTENSION_STATUS.get((_get(event, "Status") or "").strip())
            if ext and ext.isdigit() and state:
                self.set_device(ext, state)
        elif name in ("queuememberstatus", "queuememberadded", "queuemember"):
            ext = _ext_of_device(_get(event, "StateInterface") or _get(event, "Interface"))
            ext = ext or _ext_of_device(_get(event, "MemberName"))
            if not ext:
                return
            paused = _get(event, "Paused")
            state = _QUEUE_MEMBER_STATUS.get((_get(event, "Status") or "").strip())
            if paused is not None:
                self.set_paused(ext, paused.strip() == "1", publish=state is None)
            if state:
                self.set_device(ext, state)
        elif name == "queuememberpause":
            ext = _ext_of_device(_get(event, "StateInterface") or _get(event, "Interface"))
            ext = ext or _ext_of_device(_get(event, "MemberName"))
            if ext:
                self.set_paused(ext, (_get(event, "Paused") or "0").strip() == "1")
        elif name == "peerstatus":
            ext = _ext_of_device(_get(event, "Peer"))
            state = _PEER_STATUS.get((_get(event, "PeerStatus") or "").lower())
            if ext and state:
                self.set_reachability(ext, state)
        elif name == "contactstatus":
            ext = _ext_of_device(_get(event, "AOR") or _get(event, "EndpointName"))
            state = _CONTACT_STATUS.get((_get(event, "ContactStatus") or "").lower())
            if ext and state:
                self.set_reachability(ext, state)

    def on_call_event(self, kind: str, call: Any, extension: str | None) -> None:
        """Tracker events: the fallback for PBXs that send no device events."""
        if not extension:
            return
        if kind == "ringing":
            self.set_device(extension, "ringing")
        elif kind == "answered":
            self.set_device(extension, "in_call")
        elif kind in ("ring_stopped", "ended", "transferred"):
            current = self.operators.get(extension)
            if current is not None and current.device_state in ("ringing", "in_call"):
                if kind == "transferred" and current.device_state == "ringing":
                    return
                self.set_device(extension, "available")

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

    def set_reachability(self, ext: str, state: str) -> None:
        """Registration news: offline always wins; online only lifts an offline state."""
        op = self._operator(ext)
        if state == "offline" or op.device_state == "offline":
            self.set_device(ext, state)

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
            audience = ["wall"] + ([f"user:{op.user_id}"] if op.user_id else [])
            self._publish({"type": "operator.state", "audience": audience, **op.as_dict()})

    def _store(self, op: OperatorPresence) -> None:
        if self._redis is None:
            return
        try:
            self._redis.hset(REDIS_KEY, op.extension, json.dumps(op.as_dict()))
        except Exception as exc:  # Redis down: the bus will say so too; keep serving calls
            log.warning("could not store presence of %s in Redis: %s", op.extension, exc)

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

    def store_all(self) -> None:
        """Write the whole board to Redis (at start, and after the hash was lost)."""
        for op in self.operators.values():
            self._store(op)


def resolve_user_from_db(ext: str) -> tuple[int | None, str | None]:
    from crm_core.auth.service import user_for_extension
    from crm_core.database import session_scope

    with session_scope() as db:
        user = user_for_extension(db, ext)
        return (user.id, user.username) if user else (None, None)


#: the board of the CTI service running in this process (embedded default), if any
current_board: PresenceBoard | None = None


def presence_snapshot() -> list[dict[str, Any]]:
    """What ``GET /api/presence`` returns: from this process's board, or from Redis."""
    from crm_core.config import get_settings

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
