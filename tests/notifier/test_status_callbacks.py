"""Signed status callbacks cannot be replayed or pointed at another message (issue 13,
finding 11)."""

from __future__ import annotations

from crm_core.database import session_scope
from tests.notifier.notifier_engine_support import enqueue_sms, message


def _report(status: str, provider_id: str, outbox_id: int | None = None, code: str = ""):
    from notifier.outbox.provider_status import apply_provider_status

    with session_scope() as db:
        row = apply_provider_status(
            db,
            provider_id=provider_id,
            provider_status=status,
            outbox_id=outbox_id,
            error_code=code,
        )
        return None if row is None else row.id


def _set(message_id: int, **values) -> None:
    from notifier.outbox.models import OutboxMessage

    with session_scope() as db:
        row = db.get(OutboxMessage, message_id)
        for name, value in values.items():
            setattr(row, name, value)


def test_a_never_sent_message_is_not_made_delivered_by_our_id_and_any_sid(database):
    [mid] = enqueue_sms(1)
    assert _report("delivered", "SMforged", outbox_id=mid) is None
    row = message(mid)
    assert (row.status, row.provider_id) == ("pending", None)
    assert [h.source for h in row.history] == []


def test_a_sent_message_takes_callbacks_only_for_its_own_provider_id(database):
    mine, other = enqueue_sms(2)
    _set(mine, status="queued", provider_id="SMmine")
    _set(other, status="unknown", provider_id=None)
    assert _report("delivered", "SMforged", outbox_id=mine) is None
    assert _report("delivered", "SMmine", outbox_id=other) is None  # another message's id
    assert (message(mine).status, message(other).status) == ("queued", "unknown")
    assert _report("delivered", "SMmine", outbox_id=mine) == mine
    assert message(mine).status == "delivered"


def test_an_unanswered_send_is_still_reconciled_by_its_callback(database):
    [mid] = enqueue_sms(1)
    _set(mid, status="unknown", provider_id=None)
    assert _report("sent", "SMlost", outbox_id=mid) == mid
    assert (message(mid).status, message(mid).provider_id) == ("sent", "SMlost")


def test_each_distinct_callback_is_recorded_once_and_transitions_only_go_forward(database):
    [mid] = enqueue_sms(1)
    _set(mid, status="queued", provider_id="SM1")
    for _ in range(5):
        _report("delivered", "SM1", outbox_id=mid)
        _report("sent", "SM1")
    _report("undelivered", "SM1", code="30003")
    _report("undelivered", "SM1", code="30003")
    row = message(mid)
    assert row.status == "delivered"
    assert [(h.status, h.error_code) for h in row.history] == [
        ("delivered", ""),
        ("sent", ""),
        ("undelivered", "30003"),
    ]
