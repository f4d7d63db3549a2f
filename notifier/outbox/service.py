"""Writing to the outbox: what every part calls to send an SMS, a voice call or an e-mail.

``enqueue`` adds the row in the caller's session and transaction, so the message exists if and
only if the business change that caused it is committed. Nothing is sent here: the dispatcher
(Celery beat + workers in production, an in-process loop in the embedded default) claims due
rows and sends them.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import String, cast, func, select, update
from sqlalchemy.orm import Session

from crm_core.database import like_escaped, utcnow
from crm_core.errors import Invalid
from crm_core.phones import InvalidPhone, to_e164
from notifier.outbox.bulk import driver_connection, write_rows
from notifier.outbox.models import CHANNELS, OptOut, OutboxMessage, OutboxStatusChange

#: statuses a message can still be withdrawn from (nothing has left yet)
WITHDRAWABLE = ("pending", "retry", "claimed")
MAX_KEY = 200


def normalise_recipient(channel: str, recipient: str, field: str = "recipient") -> str:
    """E.164 for sms/voice, the normalised address for e-mail; ``Invalid`` naming ``field``."""
    if channel not in CHANNELS:
        raise Invalid("channel", f"must be one of {', '.join(CHANNELS)}")
    if channel == "email":
        try:
            return validate_email(
                str(recipient or "").strip(), check_deliverability=False
            ).normalized
        except EmailNotValidError as exc:
            raise Invalid(field, f"not a valid e-mail address ({exc})") from None
    try:
        return to_e164(recipient)
    except InvalidPhone as exc:
        raise Invalid(field, f"not a phone number we can send to: {exc}") from None


def _check(
    channel: str, body: str, idempotency_key: str, due_at: datetime | None, meta: dict | None
) -> None:
    if not idempotency_key or not idempotency_key.strip():
        raise Invalid("idempotency_key", "required")
    if len(idempotency_key) > MAX_KEY:
        raise Invalid("idempotency_key", f"at most {MAX_KEY} characters")
    if due_at is not None and due_at.tzinfo is None:
        raise Invalid("due_at", "needs a timezone (UTC)")
    if channel == "voice":
        if not (body or "").strip() and not (meta or {}).get("twiml_url"):
            raise Invalid("body", "a voice call needs TwiML in body or meta.twiml_url")
    elif not (body or "").strip():
        raise Invalid("body", "empty message")


def _segments(channel: str, body: str) -> int:
    """SMS segments billed for the text (``notifier.sms_segments.service``); 0 for other channels."""
    if channel != "sms":
        return 0
    from notifier.sms_segments.service import segment_count

    return segment_count(body)


def enqueue(
    db: Session,
    *,
    channel: str,
    recipient: str,
    body: str,
    idempotency_key: str,
    subject: str = "",
    due_at: datetime | None = None,
    client_id: int | None = None,
    purpose: str = "",
    template: str = "",
    meta: dict[str, Any] | None = None,
) -> OutboxMessage:
    """Add one message to the outbox in the caller's transaction.

    A second call with the same ``idempotency_key`` returns the existing row and inserts
    nothing (even if the other fields differ), so a retried business operation never sends
    twice. Raises :class:`crm_core.errors.Invalid` naming the bad field.
    """
    address = normalise_recipient(channel, recipient)
    _check(channel, body, idempotency_key, due_at, meta)
    existing = db.scalar(
        select(OutboxMessage).where(OutboxMessage.idempotency_key == idempotency_key)
    )
    if existing is not None:
        return existing
    when = due_at or utcnow()
    message = OutboxMessage(
        channel=channel,
        recipient=address,
        subject=subject[:300],
        body=body or "",
        client_id=client_id,
        purpose=purpose[:40],
        template=template[:80],
        meta=dict(meta or {}),
        due_at=when,
        next_attempt_at=when,
        idempotency_key=idempotency_key,
        status="pending",
        segments=_segments(channel, body or ""),
    )
    # A savepoint: a concurrent insert of the same key loses here without spoiling the
    # caller's transaction, and we return the winner's row.
    from sqlalchemy.exc import IntegrityError

    try:
        with db.begin_nested():
            db.add(message)
    except IntegrityError:
        existing = db.scalar(
            select(OutboxMessage).where(OutboxMessage.idempotency_key == idempotency_key)
        )
        if existing is None:
            raise
        return existing
    return message


def enqueue_many(
    db: Session, messages: Iterable[dict[str, Any]], *, normalised_recipients: bool = False
) -> int:
    """Bulk ``enqueue`` (same arguments as dicts) for schedulers writing thousands of rows.

    Duplicated idempotency keys (already stored or repeated in the input) are skipped.
    Returns the number of rows inserted. ``normalised_recipients``: the caller vouches that every
    recipient is already in stored form (E.164 read from ``client_phones.e164``, an address
    already checked with ``normalise_recipient``), so the per-row parsing is skipped (reminders
    for 100,000 events).

    The rows go in through the DBAPI cursor of the session's own connection (same transaction),
    as plain tuples (:class:`BulkRows`, :func:`~notifier.outbox.bulk.write_rows`): the ORM/Core per-value conversion
    cost more than the insert itself.
    """
    batch = BulkRows()
    for item in messages:
        if normalised_recipients:
            batch.add_message(item)
        else:
            batch.add_message(
                item, normalise_recipient(item.get("channel", ""), item.get("recipient", ""))
            )
    if not batch.rows:
        return 0
    return write_rows(*driver_connection(db), batch.rows)


class BulkRows:
    """Outbox rows for one bulk insert (:func:`write_rows`), as plain tuples by idempotency key.

    ``add`` checks each message as ``enqueue`` does, except the recipient, which must already be
    in stored form; a key repeated in the batch is skipped (the first one stays). Segment
    counts are computed once per distinct SMS text and the meta JSON once per meta object
    (the reminders of one event share both)."""

    __slots__ = ("rows", "_segments", "_meta")

    def __init__(self) -> None:
        self.rows: dict[str, tuple] = {}
        self._segments: dict[str, int] = {}
        self._meta: tuple[Any, str] = (object(), "")

    def add(
        self, channel: str, recipient: str, body: str, idempotency_key: str,
        due_at: datetime | None = None, *, subject: str = "", client_id: int | None = None,
        purpose: str = "", template: str = "", meta: dict[str, Any] | None = None,
    ) -> bool:  # fmt: skip
        """Add one message; False when its key is already in the batch. ``Invalid`` names a
        bad field."""
        if channel not in CHANNELS:
            raise Invalid("channel", f"must be one of {', '.join(CHANNELS)}")
        _check(channel, body, idempotency_key, due_at, meta)
        if idempotency_key in self.rows:
            return False
        if channel == "sms":
            count = self._segments.get(body)
            if count is None:
                count = self._segments[body] = _segments(channel, body)
        else:
            count = 0
        if meta is not self._meta[0]:
            self._meta = (meta, json.dumps(meta or {}))
        self.rows[idempotency_key] = (
            channel, recipient, subject[:300], body, client_id, purpose[:40], template[:80],
            self._meta[1], due_at, idempotency_key, count,
        )  # fmt: skip
        return True

    def add_message(self, item: dict[str, Any], recipient: str | None = None) -> bool:
        """``add`` with ``enqueue``'s arguments as a dict; ``recipient``: the stored form when
        the dict's own one is not."""
        return self.add(
            item.get("channel", ""),
            item.get("recipient", "") if recipient is None else recipient,
            item.get("body") or "", item.get("idempotency_key", ""), item.get("due_at"),
            subject=item.get("subject") or "", client_id=item.get("client_id"),
            purpose=item.get("purpose") or "", template=item.get("template") or "",
            meta=item.get("meta"),
        )  # fmt: skip


def _key_starts_with(prefix: str):
    return OutboxMessage.idempotency_key.like(f"{like_escaped(prefix)}%", escape="\\")


def retire_keys(db: Session, *, idempotency_key_prefix: str) -> int:
    """Free the keys of the messages about something deleted for good.

    SQLite gives the id of the newest deleted row to the next one: a task deleted and created
    again would get the same id, and its reminders would be taken for duplicates of the old
    task's (same key) and never sent. The old messages keep their text and history; their key
    gets ``~<message id>`` appended. Returns how many were renamed.
    """
    if not idempotency_key_prefix:
        raise Invalid("idempotency_key_prefix", "required (refusing to rename everything)")
    key = OutboxMessage.idempotency_key
    result = db.execute(
        update(OutboxMessage)
        .where(_key_starts_with(idempotency_key_prefix))
        .values(idempotency_key=func.substr(key, 1, 180) + "~" + cast(OutboxMessage.id, String))
        .execution_options(synchronize_session="fetch")
    )
    return result.rowcount or 0


def withdraw(db: Session, *, idempotency_key_prefix: str) -> int:
    """Cancel the messages whose key starts with the prefix and that have not left yet.

    Used when the business change is undone (an event moved or cancelled). Returns how many
    were cancelled; messages already handed to a provider are not touched.
    """
    if not idempotency_key_prefix:
        raise Invalid("idempotency_key_prefix", "required (refusing to withdraw everything)")
    ids = list(
        db.scalars(
            select(OutboxMessage.id).where(
                OutboxMessage.status.in_(WITHDRAWABLE),
                _key_starts_with(idempotency_key_prefix),
            )
        )
    )
    if not ids:
        return 0
    now = utcnow()
    result = db.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id.in_(ids), OutboxMessage.status.in_(WITHDRAWABLE))
        .values(status="cancelled", claimed_by="", claimed_until=None, updated_at=now)
        .execution_options(synchronize_session="fetch")
    )
    db.add_all(
        OutboxStatusChange(message_id=i, status="cancelled", at=now, source="withdraw") for i in ids
    )
    return result.rowcount or 0


def _opt_out_key(number: str, channel: str) -> str:
    if channel == "email":
        return number.strip().lower()
    try:
        return to_e164(number)
    except InvalidPhone:
        return number.strip()


def is_opted_out(db: Session, number: str, channel: str = "sms") -> bool:
    """True when the recipient opted out of this channel (an SMS STOP also covers voice)."""
    key = _opt_out_key(number, channel)
    channels = ["sms", "voice", "all"] if channel in ("sms", "voice") else [channel, "all"]
    return (
        db.scalar(
            select(OptOut.id).where(OptOut.number == key, OptOut.channel.in_(channels)).limit(1)
        )
        is not None
    )


def opted_out_numbers(db: Session, numbers: Iterable[str], channel: str) -> set[str]:
    """The subset of (already normalised) recipients that opted out of ``channel``."""
    given = set(numbers)
    if channel == "email":  # addresses are opted out in lower case
        lowered: dict[str, set[str]] = {}
        for address in given:
            lowered.setdefault(address.lower(), set()).add(address)
        found_lower = _opted_out(db, lowered, channel)
        return {address for key in found_lower for address in lowered[key]}
    return _opted_out(db, given, channel)


def _opted_out(db: Session, numbers: Iterable[str], channel: str) -> set[str]:
    wanted = sorted(set(numbers))
    if not wanted:
        return set()
    channels = ["sms", "voice", "all"] if channel in ("sms", "voice") else [channel, "all"]
    found: set[str] = set()
    for start in range(0, len(wanted), 500):
        found.update(
            db.scalars(
                select(OptOut.number).where(
                    OptOut.number.in_(wanted[start : start + 500]), OptOut.channel.in_(channels)
                )
            )
        )
    return found


def record_opt_out(db: Session, number: str, channel: str = "sms", source: str = "") -> OptOut:
    """Remember that ``number`` must not be contacted on ``channel`` (idempotent)."""
    key = _opt_out_key(number, channel)
    row = db.scalar(select(OptOut).where(OptOut.number == key, OptOut.channel == channel))
    if row is None:
        row = OptOut(number=key, channel=channel, source=source[:60])
        db.add(row)
        db.flush()
    return row


def remove_opt_out(db: Session, number: str, channel: str = "sms") -> bool:
    """Opt back in (START/UNSTOP); True when there was an opt-out to remove."""
    key = _opt_out_key(number, channel)
    row = db.scalar(select(OptOut).where(OptOut.number == key, OptOut.channel == channel))
    if row is None:
        return False
    db.delete(row)
    db.flush()
    return True
