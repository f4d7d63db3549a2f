"""Call tracker: one state machine per call (Asterisk ``Linkedid``), fed with AMI events.

The tracker knows nothing about sockets, the database or popups. It receives AMI events one by
one (``feed``) plus a snapshot after every login (``resync``) and reports what changed through two
callbacks:

* ``on_event(kind, call, extension)`` with ``kind`` one of ``ringing``, ``ring_stopped``,
  ``answered``, ``transferred``, ``ended``;
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
  extension after the answer *is* the transfer;
* a dial belongs to the dialling channel's Linkedid: a call pickup's ``DialEnd`` names the
  picker's channel, created with a Linkedid of its own, which then joins the caller's call; an
  attended transfer moves the consulted operator's channel into the caller's call.

docs/cti.md has the table of call shapes and the events each is read from.

The package: :mod:`~cti.tracker.call` (the tracked call), :mod:`~cti.tracker.channels` (channel
names to extensions and trunks), :mod:`~cti.tracker.live` (state transitions),
:mod:`~cti.tracker.ami_events` (the AMI call event handlers), :mod:`~cti.tracker.resync` (the
snapshot after a login), :mod:`~cti.tracker.voicemail` (callers who reached voicemail) and
:mod:`~cti.tracker.presence` (device states).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from cti.ami import AmiMessage
from cti.tracker.ami_events import CallEventHandlers
from cti.tracker.call import utcnow
from cti.tracker.channels import lowered
from cti.tracker.live import CallListener
from cti.tracker.presence import DevicePresence, PresenceListener
from cti.tracker.resync import Resync

log = logging.getLogger("callcard.cti.tracker")

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
    "QueueCallerJoin",
    "QueueCallerAbandon",
    "BlindTransfer",
    "AttendedTransfer",
    "BridgeEnter",
    "Hangup",
    "MixMonitorStart",
    "Newexten",
    "MessageWaiting",
    "Pickup",
    "DeviceStateChange",
    "QueueMemberStatus",
    "QueueMemberAdded",
    "QueueMemberPause",
    "QueueMemberPaused",
    "QueueMemberRemoved",
    "PeerStatus",
    "ContactStatus",
)


class CallTracker(CallEventHandlers, Resync):
    """Turns the AMI event stream into :class:`TrackedCall` objects and call/presence events."""

    def __init__(
        self,
        settings: Any,
        on_event: CallListener | None = None,
        on_presence: PresenceListener | None = None,
        clock: Callable[[], datetime] = utcnow,
        keep_ended: int = 5000,
    ):
        super().__init__(settings, on_event, clock, keep_ended)
        self.devices = DevicePresence(self.matcher, on_presence)
        self.presence = self.devices.presence  # extension -> presence state
        self.events_seen = 0
        self._handlers: dict[str, Callable[[Mapping[str, str]], None]] = {
            **self.call_handlers(),
            **self.devices.handlers(),
        }
        for camel in _CAMEL_EVENT_NAMES:
            self._handlers[camel] = self._handlers[camel.lower()]

    def feed(self, event: Mapping[str, str]) -> None:
        """Apply one AMI event (keys in any case). Never raises on odd input: logs and skips."""
        self.events_seen += 1
        if type(event) is not AmiMessage:
            event = lowered(event)
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
