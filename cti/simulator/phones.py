"""The operators' phones as the simulated PBX sees them: free, ringing or in a call.

A phone is taken from the moment a call is set to ring it until that call's leg on it hangs
up, so the simulator never puts two answered calls on one extension, as a PBX would not: a
direct call to a taken phone answers busy (no call waiting), a queue rings its free members
only (``ringinuse=no``), click-to-call to a taken phone is refused busy.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from cti.simulator.legs import Timeline

#: an operator's phone: ``PJSIP/101``, ``PJSIP/101-0000000a``, ``Local/101@from-internal-…;1``
_PHONE_LEG = re.compile(r"^\w+/(\d{2,6})(?!\d)")

RINGING = "ringing"
IN_CALL = "in_call"
#: QueueMember ``Status`` (AST_DEVICE_*) of a phone
_DEVICE_STATUS = {None: "1", RINGING: "6", IN_CALL: "2"}


def phone_of(channel: str) -> str | None:
    """The extension of a phone's channel or interface name; None for a trunk."""
    m = _PHONE_LEG.match(channel)
    return m.group(1) if m else None


class Phones:
    """Which calls hold which phone (normally one call per phone)."""

    def __init__(self) -> None:
        self._holders: dict[str, dict[str, str]] = {}  # extension -> Linkedid -> state

    def is_free(self, ext: str) -> bool:
        return not self._holders.get(ext)

    def free(self, extensions: Iterable[str]) -> list[str]:
        """The given extensions that are free now, in order."""
        return [ext for ext in extensions if self.is_free(ext)]

    def state(self, ext: str) -> str | None:
        """``in_call``, ``ringing`` or None (free)."""
        states = self._holders.get(ext, {}).values()
        if IN_CALL in states:
            return IN_CALL
        return RINGING if states else None

    def device_status(self, ext: str) -> str:
        """The phone's state as a QueueMember ``Status`` code."""
        return _DEVICE_STATUS[self.state(ext)]

    def take(self, linkedid: str, timeline: Timeline) -> None:
        """The call about to be played holds every phone it rings, until its leg hangs up.

        Taken when the call starts, not when its events go out, so a call made a moment later
        already finds the phone taken.
        """
        for _t, fields in timeline:
            if fields.get("Event") != "Newchannel":
                continue
            ext = phone_of(fields.get("Channel", ""))
            if ext is not None:
                self._holders.setdefault(ext, {})[linkedid] = RINGING

    def follow(self, fields: Mapping[str, str]) -> None:
        """Keep in step with an event sent: a phone leg answered or hung up."""
        event = fields.get("Event")
        if event not in ("Newstate", "Hangup"):
            return
        ext = phone_of(fields.get("Channel", ""))
        calls = self._holders.get(ext or "")
        linkedid = fields.get("Linkedid", "")
        if not calls or linkedid not in calls:
            return
        if event == "Hangup":
            del calls[linkedid]
            if not calls:
                del self._holders[ext or ""]
        elif fields.get("ChannelState") == "6":
            calls[linkedid] = IN_CALL
