"""Shared helpers for the notifier engine's tests: settings, the Twilio simulator, waiting."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy import func, select

FROM_NUMBER = "+40312345678"


def engine_settings(**overrides: Any):
    """The current settings (pointing at the test database) with engine knobs for tests."""
    from crm_core.config import get_settings

    base = {
        "quiet_hours_start": 0,
        "quiet_hours_end": 0,  # equal: no quiet hours unless a test sets them
        "sms_rate_per_second": 0,
        "retry_base_seconds": 0.2,
        "retry_max_seconds": 2,
        "unknown_grace_seconds": 1.0,
        "send_timeout_seconds": 2.0,
        "dispatch_lease_seconds": 30,
    }
    base.update(overrides)
    return get_settings().model_copy(update=base)


def twilio_settings(sim, **overrides: Any):
    from pydantic import SecretStr

    values = {
        "sms_channel": "twilio",
        "voice_channel": "twilio",
        "twilio_account_sid": sim.account_sid,
        "twilio_auth_token": SecretStr(sim.auth_token),
        "twilio_from_number": FROM_NUMBER,
        "twilio_base_url": sim.url,
    }
    values.update(overrides)
    return engine_settings(**values)


@pytest.fixture(name="sim")
def sim_fixture() -> Iterator:
    """The Twilio simulator on a free port (import ``sim_fixture`` to use ``sim``)."""
    from notifier.twilio_sim import TwilioSim

    server = TwilioSim().start()
    yield server
    server.stop()


def wait_until(check: Callable[[], Any], timeout: float = 20.0, step: float = 0.05) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s (last value {value!r})")
        time.sleep(step)


def message(message_id: int):
    """A fresh copy of one outbox row, with its history."""
    from sqlalchemy.orm import selectinload

    from crm_core.database import session_scope
    from notifier.outbox.models import OutboxMessage

    with session_scope() as db:
        row = db.scalar(
            select(OutboxMessage)
            .where(OutboxMessage.id == message_id)
            .options(selectinload(OutboxMessage.history))
        )
        db.expunge_all()
        return row


def status_counts() -> dict[str, int]:
    from crm_core.database import session_scope
    from notifier.outbox.models import OutboxMessage

    with session_scope() as db:
        return dict(
            db.execute(
                select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
            ).all()
        )


def enqueue_sms(n: int, prefix: str = "m", body: str = "Reminder {i}", **kwargs: Any) -> list[int]:
    """``n`` SMS to distinct valid Romanian mobile numbers; returns their ids."""
    from crm_core.database import session_scope
    from notifier.outbox.service import enqueue

    ids = []
    with session_scope() as db:
        for i in range(n):
            row = enqueue(
                db,
                channel="sms",
                recipient=f"+4072{i:07d}",
                body=body.format(i=i),
                idempotency_key=f"{prefix}:{i}",
                **kwargs,
            )
            db.flush()
            ids.append(row.id)
    return ids


def run_until(dispatcher, done: Callable[[], bool], timeout: float = 20.0) -> None:
    """Run the dispatcher's steps until ``done()`` (messages may wait for backoff or grace)."""
    deadline = time.monotonic() + timeout
    while not done():
        if time.monotonic() > deadline:
            raise AssertionError(f"not done within {timeout}s: {status_counts()}")
        dispatcher.run_once()
        time.sleep(0.05)
