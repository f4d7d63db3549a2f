"""Call tracker: one state machine per call (Asterisk ``Linkedid``), fed with AMI events.

The tracker knows nothing about sockets, the database or popups. It receives AMI events one by
one (``feed``) plus a snapshot after every login (``resync``) and reports what changed through two
callbacks:

* ``on_event(kind, call, extension)`` with ``kind`` one of ``ringing``, ``ring_stopped``,
  ``answered``, ``transferred``, ``ended`` (see :data:`CALL_EVENT_KINDS`);
* ``on_presence(extension, state)`` with ``state`` one of ``available``, ``ringing``, ``in_call``,
  ``paused``, ``offline``.

Rules that come from real recordings (../shared/ami-traces, see docs/cti.md):

* every leg of a call carries the Linkedid of the first channel; direction comes from that first
  channel (a trunk -> inbound; an extension -> internal, turning outbound when it dials a
  non-extension);
* operators are recognised by the configurable ``extension_pattern`` applied to channel names
  (``PJSIP/101-…``, ``Local/101@agents-…;1``) and to queue ``Interface`` values;
* ``DialEnd`` comes twice for ringall losers, ``DialBegin``/``DialEnd`` of an Originate have no
  ``Channel``: everything here is idempotent;
* a Redirect transfer emits no event: a new ``DialBegin`` from the caller's channel to another
  extension after the answer *is* the transfer.
"""

from __future__ import annotations

import logging
import re
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any

from crm_core.phones import is_withheld, try_e164
from cti.ami import AmiMessage

log = logging.getLogger("callcard.cti.tracker")

CALL_EVENT_KINDS = ("ringing", "ring_stopped", "answered", "transferred", "ended")
PRESENCE_STATES = ("available", "ringing", "in_call", "paused", "offline")
DISPOSITIONS = ("answered", "missed", "abandoned", "busy", "failed")

_UNKNOWN = {"", "<unknown>", "unknown"}
_NUMBER = re.compile(r"^\+?\d{3,}$")
_PRES_PROHIBITED = re.compile(r"prohib|restrict", re.IGNORECASE)
#: dialplan variables that carry the caller-ID presentation (AMI has no field for it)
PRESENTATION_VARIABLES = {"caller_pres", "callerpres", "cid_pres", "callerid_pres"}
#: dialplan variables that name the call's recording
RECORDING_VARIABLES = {"mixmonitor_filename", "callfilename", "recording_file", "recordingfile"}
_FAILED_DIAL = {"CHANUNAVAIL", "CONGESTION", "INVALIDARGS", "DONTCALL", "TORTURE"}
_DEVICE_STATES = {
    "NOT_INUSE": "available",
    "INUSE": "in_call",
    "BUSY": "in_call",
    "ONHOLD": "in_call",
    "RINGING": "ringing",
    "RINGINUSE": "in_call",
    "UNAVAILABLE": "offline",
    "INVALID": "offline",
    "UNKNOWN": "available",
}
#: QueueMemberStatus ``Status`` (AST_DEVICE_*) to a device state name
_MEMBER_STATUS = {
    "0": "UNKNOWN",
    "1": "NOT_INUSE",
    "2": "INUSE",
    "3": "BUSY",
    "4": "INVALID",
    "5": "UNAVAILABLE",
    "6": "RINGING",
    "7": "RINGINUSE",
    "8": "ONHOLD",
}


_CAMEL_EVENT_NAMES = (
    "Newchannel",
    "NewCallerid",
    "NewConnectedLine",
    "Newstate",
    "VarSet",
    "DialBegin",
    "DialEnd",
    "AgentCalled",
    "AgentConnect",
    "AgentRingNoAnswer",
    "AgentComplete",
    "QueueCallerJoin",
    "QueueCallerAbandon",
    "BlindTransfer",
    "AttendedTransfer",
    "BridgeEnter",
    "Hangup",
    "MixMonitorStart",
    "DeviceStateChange",
    "QueueMemberStatus",
    "QueueMemberAdded",
    "QueueMemberPause",
    "QueueMemberPaused",
    "QueueMemberRemoved",
    "PeerStatus",
    "ContactStatus",
)


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _known(value: str | None) -> str | None:
    if value is None:
        return None
    value = value.strip()
    return None if value.lower() in _UNKNOWN else value


@dataclass(eq=False)
class TrackedCall:
    """What the CTI knows about one call; ``call_id`` is the Asterisk Linkedid."""

    call_id: str
    direction: str  # inbound | outbound | internal
    remote_number: str | None = None  # as dialed/presented (None when withheld)
    remote_e164: str | None = None
    remote_name: str | None = None
    withheld: bool = False
    did: str | None = None
    queue: str | None = None
    rang: list[str] = field(default_factory=list)  # extensions that rang, in order
    ringing: set[str] = field(default_factory=set)  # extensions ringing now
    answered_by: str | None = None  # extension currently/finally talking
    started_at: datetime = field(default_factory=_utcnow)
    answered_at: datetime | None = None
    ended_at: datetime | None = None
    transfers: list[dict[str, Any]] = field(default_factory=list)  # {from, to, kind, at}
    disposition: str | None = None  # answered | missed | abandoned | busy | failed (at end)
    recording: str | None = None
    partial: bool = False  # started before we connected (resynchronised)
    # details
    answered: list[str] = field(default_factory=list)  # every extension that answered, in order
    origin_extension: str | None = None  # the extension that placed an outbound/internal call
    first_ring_at: datetime | None = None
    queue_joined_at: datetime | None = None
    remote_answered_at: datetime | None = None  # outbound: when the far end picked up
    abandoned: bool = False  # QueueCallerAbandon seen
    dial_statuses: dict[str, str] = field(default_factory=dict)  # extension -> last DialStatus
    remote_dial_status: str | None = None  # outbound: DialStatus of the external leg
    complete_reason: str | None = None  # AgentComplete Reason: caller | agent | transfer
    caller_channel: str | None = None

    @property
    def wait_s(self) -> float | None:
        """Seconds the caller waited before someone answered (or until the end)."""
        end = self.answered_at or self.ended_at
        return None if end is None else round((end - self.started_at).total_seconds(), 3)

    @property
    def ring_s(self) -> float | None:
        """Seconds from the first ring to the answer (or the end)."""
        if self.first_ring_at is None:
            return None
        end = self.answered_at or self.ended_at
        return None if end is None else round((end - self.first_ring_at).total_seconds(), 3)

    @property
    def talk_s(self) -> float | None:
        """Seconds of conversation (outbound: from the far end's answer)."""
        start = self.remote_answered_at if self.direction == "outbound" else self.answered_at
        if start is None or self.ended_at is None:
            return None
        return round((self.ended_at - start).total_seconds(), 3)

    @property
    def ended(self) -> bool:
        return self.ended_at is not None

    def summary(self) -> dict[str, Any]:
        """Plain JSON-able dict (for logs, the bus and tests)."""
        return {
            "call_id": self.call_id,
            "direction": self.direction,
            "remote_number": self.remote_number,
            "remote_e164": self.remote_e164,
            "remote_name": self.remote_name,
            "withheld": self.withheld,
            "did": self.did,
            "queue": self.queue,
            "rang": list(self.rang),
            "ringing": sorted(self.ringing),
            "answered_by": self.answered_by,
            "answered": list(self.answered),
            "origin_extension": self.origin_extension,
            "started_at": self.started_at.isoformat(),
            "answered_at": self.answered_at.isoformat() if self.answered_at else None,
            "ended_at": self.ended_at.isoformat() if self.ended_at else None,
            "wait_s": self.wait_s,
            "ring_s": self.ring_s,
            "talk_s": self.talk_s,
            "transfers": [
                {
                    **t,
                    "at": t["at"].isoformat() if isinstance(t.get("at"), datetime) else t.get("at"),
                }
                for t in self.transfers
            ],
            "disposition": self.disposition,
            "recording": self.recording,
            "partial": self.partial,
        }


class _Channel:
    __slots__ = ("uniqueid", "name", "linkedid", "extension", "external", "up", "bridge")

    def __init__(
        self, uniqueid: str, name: str, linkedid: str, extension: str | None, external: bool
    ):
        self.uniqueid = uniqueid
        self.name = name
        self.linkedid = linkedid
        self.extension = extension
        self.external = external  # a trunk / outside party, not an operator phone
        self.up = False
        self.bridge: str | None = None


class _CallState:
    __slots__ = ("call", "channels", "legs", "pending_transfer", "consult")

    def __init__(self, call: TrackedCall):
        self.call = call
        self.channels: dict[str, _Channel] = {}  # live channels by Uniqueid
        self.legs: dict[str, str] = {}  # dialed channel Uniqueid -> extension
        self.pending_transfer: dict[str, Any] | None = None
        self.consult: set[str] = set()  # extensions rung for a consultation (attended transfer)


class ExtensionMatcher:
    """Extension of a channel name, device or queue interface, from ``settings.extension_pattern``."""

    def __init__(self, pattern: str, trunk_contexts: Iterable[str], trunk_prefixes: Iterable[str]):
        self.pattern = re.compile(pattern)
        self.trunk_contexts = {c.lower() for c in trunk_contexts}
        self.trunk_prefixes = tuple(trunk_prefixes)
        # Local/<exten>@<context>-<8 hex>;<1|2>; the context itself may contain dashes
        self._local = re.compile(r"^Local/[^@]*@(.+?)(?:-[0-9a-fA-F]{8}(?:;\d+)?)?$", re.IGNORECASE)

    def _local_context(self, name: str) -> str | None:
        m = self._local.match(name.rstrip("-"))
        return m.group(1).lower() if m else None

    def channel(self, name: str | None) -> str | None:
        """``PJSIP/101-0000001`` -> ``101``; trunks and unknown channels -> None."""
        if not name or (self.trunk_prefixes and name.startswith(self.trunk_prefixes)):
            return None
        m = self.pattern.match(name)
        if not m:
            return None
        ctx = self._local_context(name)
        if ctx is not None and ctx in self.trunk_contexts:
            return None
        return next((g for g in m.groups() if g), None) or m.group(0)

    def interface(self, name: str | None) -> str | None:
        """``PJSIP/101`` or ``Local/101@agents`` (queue Interface, device) -> ``101``."""
        if not name:
            return None
        return self.channel(name if name.endswith("-") else name + "-")

    def is_trunk(self, name: str, context: str | None) -> bool:
        if self.trunk_prefixes and name.startswith(self.trunk_prefixes):
            return True
        if context and context.lower() in self.trunk_contexts:
            return True
        ctx = self._local_context(name)
        return ctx is not None and ctx in self.trunk_contexts


def _lowered(event: Mapping[str, str]) -> Mapping[str, str]:
    if type(event) is AmiMessage:
        return event
    return {str(k).lower(): v for k, v in event.items()}


class CallTracker:
    """Turns the AMI event stream into :class:`TrackedCall` objects and call/presence events."""

    def __init__(
        self,
        settings: Any,
        on_event: Callable[[str, TrackedCall, str | None], None] | None = None,
        on_presence: Callable[[str, str], None] | None = None,
        clock: Callable[[], datetime] = _utcnow,
        keep_ended: int = 5000,
    ):
        self.settings = settings
        self.matcher = ExtensionMatcher(
            settings.extension_pattern, settings.trunk_contexts, settings.trunk_prefixes
        )
        self.region = getattr(settings, "default_region", None)
        self.on_event = on_event or (lambda kind, call, ext: None)
        self.on_presence = on_presence or (lambda ext, state: None)
        self.clock = clock
        self.calls: dict[str, TrackedCall] = {}  # live calls by Linkedid
        self.presence: dict[str, str] = {}  # extension -> presence state
        self.events_seen = 0
        self._event: Mapping[str, str] | None = None
        self._states: dict[str, _CallState] = {}
        self._channels: dict[str, _Channel] = {}  # live channels by Uniqueid
        self._ended: OrderedDict[str, None] = OrderedDict()  # recently ended Linkedids
        self._keep_ended = keep_ended
        self._devices: dict[str, dict[str, Any]] = {}
        self._handlers: dict[str, Callable[[Mapping[str, str]], None]] = {
            "newchannel": self._newchannel,
            "newcallerid": self._callerid,
            "newconnectedline": self._callerid,
            "newstate": self._newstate,
            "varset": self._varset,
            "dialbegin": self._dialbegin,
            "dialend": self._dialend,
            "agentcalled": self._agentcalled,
            "agentconnect": self._agentconnect,
            "agentringnoanswer": self._agentringnoanswer,
            "agentcomplete": self._agentcomplete,
            "queuecallerjoin": self._queuejoin,
            "queuecallerabandon": self._queueabandon,
            "blindtransfer": self._blindtransfer,
            "attendedtransfer": self._attendedtransfer,
            "bridgeenter": self._bridgeenter,
            "hangup": self._hangup,
            "mixmonitorstart": self._mixmonitor,
            "devicestatechange": self._devicestate,
            "queuememberstatus": self._memberstatus,
            "queuememberadded": self._memberstatus,
            "queuememberpause": self._memberstatus,
            "queuememberpaused": self._memberstatus,
            "queuememberremoved": self._memberremoved,
            "peerstatus": self._peerstatus,
            "contactstatus": self._contactstatus,
        }
        for camel in _CAMEL_EVENT_NAMES:
            self._handlers[camel] = self._handlers[camel.lower()]

    # ------------------------------------------------------------------ public
    def feed(self, event: Mapping[str, str]) -> None:
        """Apply one AMI event (keys in any case). Never raises on odd input: logs and skips."""
        self.events_seen += 1
        if type(event) is not AmiMessage:
            event = _lowered(event)
        name = event.get("event")
        if not name:
            return
        # most events (VarSet noise aside) are spelled as Asterisk spells them: one lookup
        handler = self._handlers.get(name) or self._handlers.get(name.lower())
        if handler is None:
            return
        self._event = event
        try:
            handler(event)
        except Exception:  # a bad event must never stop the listener
            log.exception("could not apply AMI event %s", name)

    def resync(
        self,
        channels: list[Mapping[str, str]],
        queue_entries: list[Mapping[str, str]] | None = None,
    ) -> None:
        """Reconcile with a snapshot taken right after (re)login.

        ``channels`` are the ``CoreShowChannel`` items, ``queue_entries`` the ``QueueEntry`` items
        of ``QueueStatus``. Known calls whose channels vanished ended during the gap; unknown
        calls in the snapshot started before we connected (``partial``); extension legs that
        are up now were answered during the gap.
        """
        self._event = _lowered(channels[0]) if channels else None
        now = self._time()  # the snapshot's Timestamp when the PBX stamps events
        snapshot: dict[str, list[Mapping[str, str]]] = {}
        for item in channels:
            item = _lowered(item)
            uid = item.get("uniqueid")
            if not uid:
                continue
            snapshot.setdefault(item.get("linkedid") or uid, []).append(item)
        live_uids = {_lowered(i).get("uniqueid") for i in channels}
        # 1. channels we knew that are gone: they hung up while we were away
        for uid in list(self._channels):
            if uid not in live_uids:
                self._drop_channel(uid, end_call=False)
        # 2. calls in the snapshot
        for linkedid, items in snapshot.items():
            if linkedid in self._ended:
                continue
            items.sort(key=lambda i: (i.get("uniqueid") != linkedid, -_duration(i)))
            state = self._states.get(linkedid)
            if state is None:
                first = items[0]
                started = now - timedelta(seconds=_duration(first))
                state = self._new_call(linkedid, first, started, partial=True)
            call = state.call
            for item in items:
                uid = item["uniqueid"]
                chan = self._channels.get(uid)
                if chan is None:
                    chan = self._add_channel(state, item)
                up = (
                    item.get("channelstatedesc", "").lower() == "up"
                    or item.get("channelstate") == "6"
                )
                ringing = (
                    item.get("channelstatedesc", "").lower() == "ringing"
                    or item.get("channelstate") == "5"
                )
                chan.bridge = _known(item.get("bridgeid")) or chan.bridge
                if chan.extension and not chan.external:
                    ext = chan.extension
                    is_origin = uid == linkedid and call.direction != "inbound"
                    if up and not chan.up:
                        chan.up = True
                        # the caller's own phone being up says nothing about an answer
                        if not is_origin and (
                            chan.bridge or ext in call.ringing or ext in call.rang
                        ):
                            self._answer(state, ext, now)
                    elif ringing and not is_origin and ext not in call.ringing:
                        state.legs[uid] = ext
                        self._ring(state, ext, now)
                else:
                    if call.direction == "internal" and uid != linkedid:
                        # an operator's call with an outside party on it: outbound
                        call.direction = "outbound"
                    if up:
                        chan.up = True
                        if call.direction == "outbound" and call.remote_answered_at is None:
                            call.remote_answered_at = now
                            if call.answered_by is None and call.origin_extension:
                                self._answer(state, call.origin_extension, now)
                self._update_caller(state, chan, item)
        # 3. known calls with no channel left ended during the gap
        for state in list(self._states.values()):
            if not state.channels:
                self._end(state, now)
        if queue_entries:
            self.apply_queue_entries(queue_entries)

    def apply_queue_entries(self, entries: Iterable[Mapping[str, str]]) -> None:
        """``QueueEntry`` items of ``QueueStatus``: which queue a waiting caller is in.

        They carry the caller's Uniqueid but no Linkedid.
        """
        self._event = None
        for entry in entries:
            entry = _lowered(entry)
            chan = self._channels.get(entry.get("uniqueid", ""))
            state = self._states.get(chan.linkedid) if chan else None
            if state is not None:
                call = state.call
                call.queue = call.queue or _known(entry.get("queue"))
                if call.queue_joined_at is None and call.answered_at is None:
                    wait = _duration({"seconds": entry.get("wait", "")})
                    call.queue_joined_at = self._time() - timedelta(seconds=wait)

    def live_channels(self) -> list[dict[str, str]]:
        """The channels we believe are up, for diagnostics."""
        return [
            {"uniqueid": c.uniqueid, "channel": c.name, "linkedid": c.linkedid}
            for c in self._channels.values()
        ]

    # ------------------------------------------------------------------ helpers
    def _time(self) -> datetime:
        """When the current event happened: its ``Timestamp`` (``timestampevents=yes``) if any."""
        stamp = self._event.get("timestamp") if self._event is not None else None
        if stamp:
            try:
                return datetime.fromtimestamp(float(stamp), UTC)
            except (ValueError, OverflowError, OSError):
                pass
        return self.clock()

    def _emit(self, kind: str, call: TrackedCall, ext: str | None) -> None:
        try:
            self.on_event(kind, call, ext)
        except Exception:
            log.exception("call event handler failed on %s for call %s", kind, call.call_id)

    def _state_for(self, event: Mapping[str, str]) -> _CallState | None:
        linkedid = event.get("linkedid") or event.get("destlinkedid")
        if linkedid:
            state = self._states.get(linkedid)
            if state is not None:
                return state
        uid = event.get("uniqueid") or event.get("destuniqueid")
        chan = self._channels.get(uid) if uid else None
        return self._states.get(chan.linkedid) if chan else None

    def _new_call(
        self, linkedid: str, first: Mapping[str, str], started: datetime, partial: bool = False
    ) -> _CallState:
        name = first.get("channel", "")
        context = first.get("context")
        ext = self.matcher.channel(name)
        direction = "internal" if ext is not None else "inbound"
        call = TrackedCall(
            call_id=linkedid, direction=direction, started_at=started, partial=partial
        )
        if direction == "inbound":
            call.caller_channel = name
            exten = _known(first.get("exten") or first.get("extension"))
            if exten and exten != "s" and (not partial or self.matcher.is_trunk(name, context)):
                call.did = exten
        else:
            call.origin_extension = ext
        state = _CallState(call)
        self._states[linkedid] = state
        self.calls[linkedid] = call
        return state

    def _add_channel(self, state: _CallState, event: Mapping[str, str]) -> _Channel:
        name = event.get("channel", "")
        ext = self.matcher.channel(name)
        external = ext is None
        chan = _Channel(event["uniqueid"], name, state.call.call_id, ext, external)
        self._channels[chan.uniqueid] = chan
        state.channels[chan.uniqueid] = chan
        return chan

    def _set_remote(self, call: TrackedCall, number: str | None, name: str | None = None) -> None:
        number = _known(number)
        if call.remote_number is None and not call.withheld and number:
            if is_withheld(number):
                self._withhold(call)
                return
            call.remote_number = number
            call.remote_e164 = _e164(number, self.region)
        if call.remote_name is None and not call.withheld:
            name = _known(name)
            if name and not is_withheld(name):
                call.remote_name = name

    def _withhold(self, call: TrackedCall) -> None:
        if call.direction != "inbound":
            return
        call.withheld = True
        call.remote_number = None
        call.remote_e164 = None
        call.remote_name = None

    def _update_caller(self, state: _CallState, chan: _Channel, event: Mapping[str, str]) -> None:
        call = state.call
        if call.direction == "inbound" and chan.external:
            if call.caller_channel is None:
                call.caller_channel = chan.name
            self._set_remote(call, event.get("calleridnum"), event.get("calleridname"))
            if call.did is None and call.answered_at is None and not call.rang:
                exten = _known(event.get("exten"))
                if (
                    exten
                    and exten != "s"
                    and self.matcher.is_trunk(chan.name, event.get("context"))
                ):
                    call.did = exten
        elif call.direction == "outbound" and chan.external and chan.uniqueid != call.call_id:
            self._set_remote(call, event.get("calleridnum"))

    def _ring(self, state: _CallState, ext: str, now: datetime) -> None:
        call = state.call
        if ext in call.ringing:
            return
        if ext not in call.rang:
            call.rang.append(ext)
        call.ringing.add(ext)
        if call.first_ring_at is None:
            call.first_ring_at = now
        self._emit("ringing", call, ext)

    def _stop_ring(self, state: _CallState, ext: str) -> None:
        call = state.call
        if ext in call.ringing:
            call.ringing.discard(ext)
            self._emit("ring_stopped", call, ext)

    def _answer(self, state: _CallState, ext: str, now: datetime) -> None:
        call = state.call
        call.ringing.discard(ext)
        if call.answered_by == ext:
            return
        if call.answered_by is not None and state.pending_transfer is None:
            # someone else was talking and no transfer event came: a Redirect-style transfer
            self._transfer(state, call.answered_by, ext, "redirect", now)
        if state.pending_transfer is not None and state.pending_transfer.get("to") in (None, ext):
            state.pending_transfer = None
        call.answered_by = ext
        if ext not in call.answered:
            call.answered.append(ext)
        if call.answered_at is None:
            call.answered_at = now
        self._emit("answered", call, ext)

    def _transfer(
        self, state: _CallState, source: str | None, target: str | None, kind: str, now: datetime
    ) -> None:
        call = state.call
        record = {"from": source, "to": target, "kind": kind, "at": now}
        call.transfers.append(record)
        state.pending_transfer = record
        self._emit("transferred", call, target)

    def _end(self, state: _CallState, now: datetime) -> None:
        call = state.call
        if call.ended_at is not None:
            return
        for ext in sorted(call.ringing):
            self._stop_ring(state, ext)
        call.ended_at = now
        call.disposition = self._disposition(call)
        self._states.pop(call.call_id, None)
        self.calls.pop(call.call_id, None)
        for uid in list(state.channels):
            self._channels.pop(uid, None)
        self._ended[call.call_id] = None
        while len(self._ended) > self._keep_ended:
            self._ended.popitem(last=False)
        self._emit("ended", call, None)

    @staticmethod
    def _disposition(call: TrackedCall) -> str:
        statuses = set(call.dial_statuses.values())
        if call.direction == "outbound":
            if call.remote_answered_at is not None:
                return "answered"
            status = call.remote_dial_status or ""
            if status == "BUSY" or (not status and statuses == {"BUSY"}):
                return "busy"
            return "failed"
        if call.answered_at is not None:
            return "answered"
        if call.abandoned or call.queue_joined_at is not None:
            return "abandoned"
        if statuses and statuses == {"BUSY"}:
            return "busy"
        if statuses and statuses <= _FAILED_DIAL | {"BUSY"}:
            return "busy" if "BUSY" in statuses else "failed"
        return "missed"

    # ------------------------------------------------------------------ call events
    def _newchannel(self, event: Mapping[str, str]) -> None:
        uid = event.get("uniqueid")
        if not uid or uid in self._channels:
            return
        linkedid = event.get("linkedid") or uid
        if linkedid in self._ended:
            return
        state = self._states.get(linkedid)
        if state is None:
            state = self._new_call(linkedid, event, self._time())
        chan = self._add_channel(state, event)
        self._update_caller(state, chan, event)

    def _callerid(self, event: Mapping[str, str]) -> None:
        chan = self._channels.get(event.get("uniqueid", ""))
        if chan is None:
            return
        state = self._states.get(chan.linkedid)
        if state is None:
            return
        pres = event.get("cid-callingpres")
        if pres and state.call.direction == "inbound" and _presentation_restricted(pres):
            self._withhold(state.call)
        self._update_caller(state, chan, event)

    def _newstate(self, event: Mapping[str, str]) -> None:
        chan = self._channels.get(event.get("uniqueid", ""))
        if chan is None:
            return
        if event.get("channelstatedesc", "").lower() == "up" or event.get("channelstate") == "6":
            chan.up = True
        state = self._states.get(chan.linkedid)
        if state is not None:
            self._update_caller(state, chan, event)

    def _varset(self, event: Mapping[str, str]) -> None:
        variable = event.get("variable", "").lstrip("_").lower()
        if variable in PRESENTATION_VARIABLES:
            state = self._state_for(event)
            if state is not None and _PRES_PROHIBITED.search(event.get("value", "")):
                self._withhold(state.call)
        elif variable in RECORDING_VARIABLES:
            state = self._state_for(event)
            value = _known(event.get("value"))
            if state is not None and value:
                state.call.recording = value

    def _mixmonitor(self, event: Mapping[str, str]) -> None:
        state = self._state_for(event)
        value = _known(event.get("filename") or event.get("file"))
        if state is not None and value:
            state.call.recording = value

    def _dial_target(self, event: Mapping[str, str]) -> tuple[_CallState | None, str | None, str]:
        dest_uid = event.get("destuniqueid", "")
        dest_chan = self._channels.get(dest_uid)
        linkedid = event.get("destlinkedid") or event.get("linkedid")
        state = self._states.get(linkedid) if linkedid else None
        if state is None and dest_chan is not None:
            state = self._states.get(dest_chan.linkedid)
        if dest_chan is not None:
            ext = dest_chan.extension
        else:
            ext = self.matcher.channel(event.get("destchannel"))
        return state, ext, dest_uid

    def _dialbegin(self, event: Mapping[str, str]) -> None:
        state, ext, dest_uid = self._dial_target(event)
        if state is None:
            return
        call = state.call
        now = self._time()
        source = self._channels.get(event.get("uniqueid", "")) if event.get("channel") else None
        if ext is None:
            # dialing an outside number: the call is (or stays) outbound
            if call.direction == "internal" and source is not None:
                call.direction = "outbound"
            if call.direction == "outbound":
                number = _dialed_number(event, source)
                self._set_remote(call, number)
            return
        state.legs[dest_uid] = ext
        if call.answered_by is not None and ext != call.answered_by:
            if source is not None and source.extension is not None:
                # an operator leg dials a colleague mid-call: consultation (attended transfer)
                state.consult.add(ext)
            elif state.pending_transfer is None or state.pending_transfer.get("to") not in (
                None,
                ext,
            ):
                self._transfer(state, call.answered_by, ext, "redirect", now)
            elif state.pending_transfer.get("to") is None:
                state.pending_transfer["to"] = ext
        self._ring(state, ext, now)

    def _dialend(self, event: Mapping[str, str]) -> None:
        state, ext, dest_uid = self._dial_target(event)
        if state is None:
            return
        call = state.call
        status = event.get("dialstatus", "").upper()
        now = self._time()
        if ext is None:
            if call.direction == "outbound":
                call.remote_dial_status = status
                if status == "ANSWER" and call.remote_answered_at is None:
                    call.remote_answered_at = now
                    if call.answered_by is None and call.origin_extension:
                        self._answer(state, call.origin_extension, now)
            return
        if status:
            call.dial_statuses[ext] = status
        if status == "ANSWER":
            if ext in state.consult:
                self._stop_ring(state, ext)
                return
            self._answer(state, ext, now)
        else:
            self._stop_ring(state, ext)

    def _agent_ext(self, event: Mapping[str, str]) -> str | None:
        chan = self._channels.get(event.get("destuniqueid", ""))
        if chan is not None and chan.extension:
            return chan.extension
        return (
            self.matcher.channel(event.get("destchannel"))
            or self.matcher.interface(event.get("interface"))
            or self.matcher.interface(event.get("stateinterface"))
            or _digits_only(event.get("membername"))
        )

    def _agentcalled(self, event: Mapping[str, str]) -> None:
        state = self._state_for(event)
        ext = self._agent_ext(event)
        if state is None or ext is None:
            return
        state.call.queue = state.call.queue or _known(event.get("queue"))
        if event.get("destuniqueid"):
            state.legs[event["destuniqueid"]] = ext
        self._ring(state, ext, self._time())

    def _agentconnect(self, event: Mapping[str, str]) -> None:
        state = self._state_for(event)
        ext = self._agent_ext(event)
        if state is None or ext is None:
            return
        state.call.queue = state.call.queue or _known(event.get("queue"))
        self._answer(state, ext, self._time())

    def _agentringnoanswer(self, event: Mapping[str, str]) -> None:
        state = self._state_for(event)
        ext = self._agent_ext(event)
        if state is not None and ext is not None:
            self._stop_ring(state, ext)

    def _agentcomplete(self, event: Mapping[str, str]) -> None:
        state = self._state_for(event)
        if state is not None:
            state.call.complete_reason = _known(event.get("reason"))

    def _queuejoin(self, event: Mapping[str, str]) -> None:
        state = self._state_for(event)
        if state is not None:
            state.call.queue = _known(event.get("queue")) or state.call.queue
            if state.call.queue_joined_at is None:
                state.call.queue_joined_at = self._time()

    def _queueabandon(self, event: Mapping[str, str]) -> None:
        state = self._state_for(event)
        if state is not None:
            state.call.abandoned = True
            state.call.queue = state.call.queue or _known(event.get("queue"))

    def _blindtransfer(self, event: Mapping[str, str]) -> None:
        if event.get("result", "Success").lower() != "success":
            return
        linkedid = event.get("transfereelinkedid") or event.get("transfererlinkedid")
        state = self._states.get(linkedid or "")
        if state is None:
            return
        source = self.matcher.channel(event.get("transfererchannel")) or state.call.answered_by
        target = _known(event.get("extension"))
        if target is not None and not target.isdigit():
            target = None
        self._transfer(state, source, target, "blind", self._time())

    def _attendedtransfer(self, event: Mapping[str, str]) -> None:
        if event.get("result", "Success").lower() != "success":
            return
        linkedid = event.get("transfereelinkedid") or event.get("origtransfererlinkedid")
        state = self._states.get(linkedid or "")
        if state is None:
            return
        call = state.call
        source = self.matcher.channel(event.get("origtransfererchannel")) or call.answered_by
        target = self.matcher.channel(event.get("transfertargetchannel"))
        if target is None:
            consults = [e for e in state.consult if e != source]
            target = consults[-1] if consults else None
        now = self._time()
        self._transfer(state, source, target, "attended", now)
        if target is not None:
            state.consult.discard(target)
            self._answer(state, target, now)

    def _bridgeenter(self, event: Mapping[str, str]) -> None:
        chan = self._channels.get(event.get("uniqueid", ""))
        if chan is not None:
            chan.bridge = event.get("bridgeuniqueid") or chan.bridge
            chan.up = True

    def _hangup(self, event: Mapping[str, str]) -> None:
        self._drop_channel(event.get("uniqueid", ""), end_call=True)

    def _drop_channel(self, uid: str, end_call: bool) -> None:
        chan = self._channels.pop(uid, None)
        if chan is None:
            return
        state = self._states.get(chan.linkedid)
        if state is None:
            return
        state.channels.pop(uid, None)
        ext = state.legs.pop(uid, None)
        if ext is not None and ext in state.call.ringing and ext not in state.legs.values():
            # the leg went away without a DialEnd (events lost, device unreachable)
            self._stop_ring(state, ext)
        if end_call and not state.channels:
            self._end(state, self._time())

    # ------------------------------------------------------------------ presence
    def _device(self, ext: str) -> dict[str, Any]:
        dev = self._devices.get(ext)
        if dev is None:
            dev = self._devices[ext] = {"device": None, "reachable": None, "paused": False}
        return dev

    def _presence_changed(self, ext: str) -> None:
        dev = self._devices[ext]
        device = _DEVICE_STATES.get(dev["device"] or "", "available")
        if dev["reachable"] is False or device == "offline":
            state = "offline"
        elif device in ("ringing", "in_call"):
            state = device
        elif dev["paused"]:
            state = "paused"
        else:
            state = "available"
        if self.presence.get(ext) != state:
            self.presence[ext] = state
            try:
                self.on_presence(ext, state)
            except Exception:
                log.exception("presence handler failed for %s", ext)

    def _devicestate(self, event: Mapping[str, str]) -> None:
        ext = self.matcher.interface(event.get("device"))
        if ext is None:
            return
        dev = self._device(ext)
        dev["device"] = event.get("state", "").upper()
        if dev["device"] not in ("UNAVAILABLE", "INVALID"):
            dev["reachable"] = dev["reachable"] if dev["reachable"] is not False else None
        self._presence_changed(ext)

    def _memberstatus(self, event: Mapping[str, str]) -> None:
        ext = (
            self.matcher.interface(event.get("stateinterface"))
            or self.matcher.interface(event.get("interface"))
            or self.matcher.interface(event.get("location"))
        )
        if ext is None:
            return
        dev = self._device(ext)
        if "paused" in event:
            dev["paused"] = event.get("paused") == "1"
        status = _MEMBER_STATUS.get(event.get("status", ""))
        if status and dev["device"] is None or status in ("UNAVAILABLE", "INVALID"):
            dev["device"] = status
        self._presence_changed(ext)

    def _memberremoved(self, event: Mapping[str, str]) -> None:
        ext = self.matcher.interface(event.get("interface"))
        if ext is not None and ext in self._devices:
            self._devices[ext]["paused"] = False
            self._presence_changed(ext)

    def _peerstatus(self, event: Mapping[str, str]) -> None:
        ext = self.matcher.interface(event.get("peer"))
        if ext is None:
            return
        status = event.get("peerstatus", "").lower()
        self._device(ext)["reachable"] = status in ("reachable", "registered", "lagged")
        self._presence_changed(ext)

    def _contactstatus(self, event: Mapping[str, str]) -> None:
        aor = event.get("aor") or event.get("endpointname") or ""
        ext = aor if aor.isdigit() else self.matcher.interface(aor)
        if not ext:
            return
        status = event.get("contactstatus", "").lower()
        dev = self._device(ext)
        if status in ("removed", "unreachable"):
            dev["reachable"] = False
        elif status in ("created", "nonqualified", "reachable", "updated"):
            dev["reachable"] = True
            if dev["device"] in ("UNAVAILABLE", "INVALID"):
                dev["device"] = None
        self._presence_changed(ext)


@lru_cache(maxsize=4096)
def _e164(number: str, region: str | None) -> str | None:
    """``try_e164`` with a bounded cache: the same callers call again and again."""
    return try_e164(number, region)


def _presentation_restricted(value: str) -> bool:
    if _PRES_PROHIBITED.search(value):
        return True
    head = value.split(" ", 1)[0]
    if head.isdigit():
        return (int(head) & 0x60) == 0x20
    return False


def _duration(item: Mapping[str, str]) -> float:
    text = item.get("duration") or item.get("seconds") or ""
    if ":" in text:
        total = 0.0
        for part in text.split(":"):
            total = total * 60 + (float(part) if part.replace(".", "", 1).isdigit() else 0)
        return total
    try:
        return float(text)
    except ValueError:
        return 0.0


def _digits_only(value: str | None) -> str | None:
    if value and value.strip().isdigit():
        return value.strip()
    return None


def _dialed_number(event: Mapping[str, str], source: _Channel | None) -> str | None:
    candidates = []
    dialstring = event.get("dialstring", "")
    if dialstring:
        candidates.append(dialstring.split("@", 1)[0].rsplit("/", 1)[-1])
    candidates.append(event.get("destcalleridnum", ""))
    candidates.append(event.get("exten", ""))
    for candidate in candidates:
        candidate = candidate.strip()
        if _NUMBER.match(candidate):
            return candidate
    return None
