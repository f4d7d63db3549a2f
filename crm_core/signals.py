"""In-transaction hooks: other parts react to client-base changes in the same transaction.

crm_core never imports the other parts; they connect receivers here instead (the composition
root of the application, which mounts every part, imports them). A receiver runs inside the caller's
session and transaction, so an outbox row it writes commits or rolls back with the change.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

log = logging.getLogger("callcard.signals")


class Signal:
    def __init__(self, name: str) -> None:
        self.name = name
        self.receivers: list[Callable[..., Any]] = []

    def connect(self, receiver: Callable[..., Any]) -> Callable[..., Any]:
        if receiver not in self.receivers:
            self.receivers.append(receiver)
        return receiver

    def disconnect(self, receiver: Callable[..., Any]) -> None:
        if receiver in self.receivers:
            self.receivers.remove(receiver)

    def send(self, db, **kwargs: Any) -> None:
        """Run every receiver; an exception propagates and rolls the whole change back."""
        for receiver in list(self.receivers):
            receiver(db, **kwargs)


#: (db, task, actor, created: bool, before: dict | None) after a task or event is created/changed
task_saved = Signal("task_saved")
#: (db, task, actor) before a task or event is deleted
task_deleted = Signal("task_deleted")
#: (db, client, actor, created: bool) after a client is created or changed
client_saved = Signal("client_saved")
#: (db, client, actor) after a client is soft-deleted (what was scheduled for them is withdrawn)
client_deleted = Signal("client_deleted")
#: (db, interaction, actor) after a history entry is added
interaction_added = Signal("interaction_added")
