"""The one interface every delivery channel implements."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True, slots=True)
class OutgoingMessage:
    """What a channel needs to know about an outbox row (plain data: safe across threads)."""

    id: int
    channel: str
    recipient: str
    body: str
    subject: str = ""
    meta: dict = field(default_factory=dict)
    first_attempt_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class SendResult:
    """The outcome of one send.

    ``status``: what the provider said (``queued``, ``sent``, ``delivered``) or ``failed``.
    ``retryable``: a transient error where nothing left (or the provider refused it as a whole):
    safe to send again later. ``unknown``: the request may have reached the provider but no
    answer came back; never resend without reconciling first.
    """

    status: str
    provider_id: str | None = None
    error_code: str = ""
    error_message: str = ""
    retryable: bool = False
    unknown: bool = False

    @property
    def accepted(self) -> bool:
        return self.status in ("queued", "sent", "delivered")

    @classmethod
    def transient(cls, code: str, message: str) -> SendResult:
        return cls("failed", error_code=code, error_message=message, retryable=True)

    @classmethod
    def permanent(cls, code: str, message: str) -> SendResult:
        return cls("failed", error_code=code, error_message=message)

    @classmethod
    def unanswered(cls, message: str) -> SendResult:
        return cls("unknown", error_code="unknown", error_message=message, unknown=True)


class Channel(Protocol):
    """Sends one message; never raises for provider or network trouble (it returns a result)."""

    name: str
    #: the sender identity rate limits are counted against (a phone number, an SMTP account)
    sender: str

    def send(self, message: OutgoingMessage) -> SendResult: ...

    def reconcile(
        self, message: OutgoingMessage, taken: frozenset[str] = frozenset()
    ) -> SendResult | None:
        """Ask the provider whether an unanswered send arrived.

        ``taken``: provider ids already recorded for other outbox rows; never matched (the same
        text sent twice to one number must not make the second one look sent).

        Returns the provider's view when it has the message, ``None`` when it has no trace of
        it (then, after the grace period, a resend is safe).
        """
        ...
