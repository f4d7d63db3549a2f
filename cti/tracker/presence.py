"""Presence feeding: operator device states from the AMI device and queue-member events
(``DeviceStateChange``, ``QueueMember*``, ``PeerStatus``, ``ContactStatus``), reported as
``on_presence(extension, state)``."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

from cti.tracker.channels import ExtensionMatcher

log = logging.getLogger("callcard.cti.tracker")

PresenceListener = Callable[[str, str], None]

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


class DevicePresence:
    """Each extension's device, reachability and pause, folded into one presence state."""

    def __init__(self, matcher: ExtensionMatcher, on_presence: PresenceListener | None = None):
        self.matcher = matcher
        self.on_presence = on_presence or (lambda ext, state: None)
        self.presence: dict[str, str] = {}  # extension -> presence state
        self._devices: dict[str, dict[str, Any]] = {}

    def handlers(self) -> dict[str, Callable[[Mapping[str, str]], None]]:
        """Handlers by lower-case AMI event name."""
        return {
            "devicestatechange": self._devicestate,
            "queuememberstatus": self._memberstatus,
            "queuememberadded": self._memberstatus,
            "queuememberpause": self._memberstatus,
            "queuememberpaused": self._memberstatus,
            "queuememberremoved": self._memberremoved,
            "peerstatus": self._peerstatus,
            "contactstatus": self._contactstatus,
        }

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
