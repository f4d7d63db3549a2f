"""Publish bus news only once the transaction that caused it has committed.

A rating or an opt-out published before COMMIT could reach the wall for a change that then rolls
back; published after, a browser that reacts by reloading sees the new rows.
"""

from __future__ import annotations

import logging

from sqlalchemy import event
from sqlalchemy.orm import Session

from crm_core.bus import get_bus
from crm_core.events import BusEvent, Message, as_message

log = logging.getLogger("callcard.notifier")
_KEY = "notifier_after_commit"


def _flush_messages(session: Session) -> None:
    messages = session.info.pop(_KEY, [])
    bus = get_bus()
    for message in messages:
        try:
            bus.publish_sync(message)
        except Exception:  # the change is committed; losing a live update must not raise
            log.exception("publishing %s failed", as_message(message).get("type"))


def _drop_messages(session: Session) -> None:
    session.info.pop(_KEY, None)


def publish_after_commit(db: Session, message: BusEvent | Message) -> None:
    """Queue a typed event (or its message dict) for the bus until ``db`` commits."""
    pending = db.info.setdefault(_KEY, [])
    pending.append(message)
    if not event.contains(db, "after_commit", _flush_messages):
        event.listen(db, "after_commit", _flush_messages)
        event.listen(db, "after_rollback", _drop_messages)
