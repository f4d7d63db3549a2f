"""The call as the tracker knows it: one :class:`TrackedCall` per Asterisk ``Linkedid``."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

_FAILED_DIAL = {"CHANUNAVAIL", "CONGESTION", "INVALIDARGS", "DONTCALL", "TORTURE"}


def utcnow() -> datetime:
    return datetime.now(UTC)


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
    started_at: datetime = field(default_factory=utcnow)
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

    def final_disposition(self) -> str:
        """answered | missed | abandoned | busy | failed, decided when the call ends."""
        statuses = set(self.dial_statuses.values())
        if self.direction == "outbound":
            if self.remote_answered_at is not None:
                return "answered"
            status = self.remote_dial_status or ""
            if status == "BUSY" or (not status and statuses == {"BUSY"}):
                return "busy"
            return "failed"
        if self.answered_at is not None:
            return "answered"
        if self.abandoned or self.queue_joined_at is not None:
            return "abandoned"
        if statuses and statuses == {"BUSY"}:
            return "busy"
        if statuses and statuses <= _FAILED_DIAL | {"BUSY"}:
            return "busy" if "BUSY" in statuses else "failed"
        return "missed"
