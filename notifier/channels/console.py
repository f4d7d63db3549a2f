"""The embedded default's channel: nothing leaves the machine, the message shows on the outbox
page (and the simulated handset page) as delivered."""

from __future__ import annotations

import logging

from notifier.channels.base import OutgoingMessage, SendResult

log = logging.getLogger("callcard.notifier.console")


class ConsoleChannel:
    name = "console"

    def __init__(self, kind: str = "sms") -> None:
        self.kind = kind
        self.sender = f"console-{kind}"

    def send(self, message: OutgoingMessage) -> SendResult:
        log.info("%s to %s: %s", message.channel, message.recipient, message.body[:200])
        return SendResult("delivered", f"console-{message.id}")

    def reconcile(
        self, message: OutgoingMessage, taken: frozenset[str] = frozenset()
    ) -> SendResult | None:
        return SendResult("delivered", f"console-{message.id}")
