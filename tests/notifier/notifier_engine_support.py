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
    from callcard.settings import get_settings

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
    from notifier.simulator.twilio_api import TwilioSim

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


# --------------------------------------------------------------------------- Celery processes

ROOT = __import__("pathlib").Path(__file__).resolve().parents[2]
#: Redis DB numbers of the notifier engine (1-5): broker and rate limiter
BROKER_DB = 1
LIMITER_DB = 2


def celery_env(sim, *, broker_url: str, redis_url: str, **overrides: Any) -> dict[str, str]:
    """Environment for worker/beat subprocesses: the test database, the simulator, Redis."""
    import os

    env = {k: v for k, v in os.environ.items() if not k.startswith("CALLCARD_")}
    env.update(
        {
            "CALLCARD_DATABASE_URL": os.environ["CALLCARD_DATABASE_URL"],
            "CALLCARD_SECRET_KEY": "test-secret-key-not-for-production",
            "CALLCARD_BUS_URL": "",
            "CALLCARD_CELERY_BROKER_URL": broker_url,
            "CALLCARD_REDIS_URL": redis_url,
            "CALLCARD_SMS_CHANNEL": "twilio",
            "CALLCARD_TWILIO_ACCOUNT_SID": sim.account_sid,
            "CALLCARD_TWILIO_AUTH_TOKEN": sim.auth_token,
            "CALLCARD_TWILIO_FROM_NUMBER": FROM_NUMBER,
            "CALLCARD_TWILIO_BASE_URL": sim.url,
            "CALLCARD_QUIET_HOURS_START": "0",
            "CALLCARD_QUIET_HOURS_END": "0",
            "CALLCARD_SMS_RATE_PER_SECOND": "0",
            "CALLCARD_DISPATCH_INTERVAL_SECONDS": "0.5",
            "CALLCARD_DISPATCH_LEASE_SECONDS": "6",
            "CALLCARD_UNKNOWN_GRACE_SECONDS": "2",
            "CALLCARD_SEND_TIMEOUT_SECONDS": "2",
            "CALLCARD_RETRY_BASE_SECONDS": "0.3",
            "CALLCARD_RETRY_MAX_SECONDS": "2",
            "PYTHONPATH": str(ROOT),
        }
    )
    env.update({f"CALLCARD_{k.upper()}": str(v) for k, v in overrides.items()})
    return env


class CeleryProcess:
    """A real ``celery worker`` or ``celery beat`` process in its own process group."""

    def __init__(self, kind: str, env: dict[str, str], log_dir, name: str) -> None:
        import subprocess
        import sys

        self.name = name
        self.log_path = log_dir / f"{name}.log"
        args = [sys.executable, "-m", "celery", "-A", "callcard.worker", kind]
        if kind == "worker":
            args += [
                "--pool", "threads", "--concurrency", "4", "--hostname", f"{name}@127.0.0.1",
                "--without-gossip", "--without-mingle", "--without-heartbeat",
            ]  # fmt: skip
        else:
            args += ["--schedule", str(log_dir / f"{name}-schedule")]
        args += ["--loglevel", "INFO"]
        self._log = open(self.log_path, "wb")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            args,
            env=env,
            cwd=str(ROOT),
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    @property
    def pid(self) -> int:
        return self.proc.pid

    def kill(self) -> None:
        """kill -9 the whole process (group): no cleanup, no acks, nothing."""
        import os
        import signal

        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> None:
        """End of test: no graceful shutdown needed (the outbox is the source of truth)."""
        self.kill()
        self._log.close()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-4000:]


class RedisServer:
    """Our own throwaway redis-server on a free port (for restarting it mid-batch)."""

    def __init__(self, port: int, workdir) -> None:
        self.port = port
        self.workdir = workdir
        self.proc = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}"

    def start(self) -> RedisServer:
        import subprocess

        import redis

        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(self.workdir)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        client = redis.Redis(port=self.port, socket_connect_timeout=0.2)
        wait_until(lambda: _pings(client), timeout=10)
        return self

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)
        self.proc = None


def _pings(client) -> bool:
    try:
        return bool(client.ping())
    except Exception:
        return False
