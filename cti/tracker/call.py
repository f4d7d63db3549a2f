"""The call as the tracker knows it: one :class:`TrackedCall` per Asterisk ``Linkedid``."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

_FAILED_DIAL = {"CHANUNAVAIL", "CONGESTION", "INVALIDARGS", "DONTCALL", "TORTURE"}


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass
class Voicemail:
    """The caller reached a mailbox (the ``VoiceMail`` application ran on the call)."""

    at: datetime  # when the call reached it (first evidence seen)
    mailbox: str | None = None  # ``101@default``
    left_message: bool = False  # Asterisk saved a message (VM_MESSAGEFILE, MessageWaiting)
    file: str | None = None  # the message file, from ``VM_MESSAGEFILE``
    message_started_at: datetime | None = None  # the beep: VM_MESSAGEFILE is set then
    reported_s: float | None = None  # the message's duration, where Asterisk reports it

    def message_s(self, ended_at: datetime | None) -> float | None:
        """The message's duration: as reported, else from the beep to the caller's hangup."""
        if self.reported_s is not None:
            return self.reported_s
        if not self.left_message or self.message_started_at is None or ended_at is None:
            return None
        return round(max((ended_at - self.message_started_at).total_seconds(), 0.0), 3)


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
    remote_answered_at: datetime | None = None  # when an outside party picked up (see below)
    forwarded_to: str | None = None  # inbound: the outside number the PBX forwarded it to
    ring_ended_at: datetime | None = None  # unanswered: when the last phone stopped ringing
    voicemail: Voicemail | None = None  # the caller reached voicemail
    # unanswered: the PBX answered the caller itself after the phones stopped ringing
    # (voicemail, an announcement); with the sample event filter the only sign of voicemail
    pbx_answered_at: datetime | None = None
    abandoned: bool = False  # QueueCallerAbandon seen
    dial_statuses: dict[str, str] = field(default_factory=dict)  # extension -> last DialStatus
    remote_dial_status: str | None = None  # outbound: DialStatus of the external leg
    caller_channel: str | None = None

    @property
    def _waiting_ended_at(self) -> datetime | None:
        """When the caller stopped waiting for an operator: the answer; for a call that went
        to voicemail (or that the PBX answered itself once the phones stopped ringing), when
        the phones stopped ringing; else the end."""
        if self.answered_at is not None:
            return self.answered_at
        if self.voicemail is not None or self.pbx_answered_at is not None:
            took_over = self.voicemail.at if self.voicemail is not None else self.pbx_answered_at
            return self.ring_ended_at or took_over
        return self.ended_at

    @property
    def wait_s(self) -> float | None:
        """Seconds the caller waited before someone answered (or until the end)."""
        end = self._waiting_ended_at
        return None if end is None else round((end - self.started_at).total_seconds(), 3)

    @property
    def ring_s(self) -> float | None:
        """Seconds from the first ring to the answer (or the end; voicemail time excluded)."""
        if self.first_ring_at is None:
            return None
        end = self._waiting_ended_at
        return None if end is None else round((end - self.first_ring_at).total_seconds(), 3)

    @property
    def talk_s(self) -> float | None:
        """Seconds from ``answered_at`` to the end, so the two always add up. An outbound
        call whose far end never answered has no talk time (the operator only dialled)."""
        if self.answered_at is None or self.ended_at is None:
            return None
        if self.direction == "outbound" and self.remote_answered_at is None:
            return None
        return round((self.ended_at - self.answered_at).total_seconds(), 3)

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
            "remote_answered_at": (
                self.remote_answered_at.isoformat() if self.remote_answered_at else None
            ),
            "forwarded_to": self.forwarded_to,
            "voicemail": self.voicemail_summary(),
            "recording": self.recording,
            "partial": self.partial,
        }

    def voicemail_summary(self) -> dict[str, Any] | None:
        """What the call log keeps about the voicemail, JSON-able."""
        vm = self.voicemail
        if vm is None:
            return None
        return {
            "mailbox": vm.mailbox,
            "left_message": vm.left_message,
            "file": vm.file,
            "message_s": vm.message_s(self.ended_at),
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
