"""Faults in production: a worker killed with -9 mid-batch, Redis restarted mid-batch.

Real Celery worker and beat processes, PostgreSQL, the real ``twilio`` library against the
local simulator, which counts every message it accepts: each must be accepted exactly once.
"""

from __future__ import annotations

import time

import pytest
import redis

from tests.conftest import free_port
from tests.notifier.notifier_engine_support import (
    BROKER_DB,
    LIMITER_DB,
    CeleryProcess,
    RedisServer,
    celery_env,
    enqueue_sms,
    sim_fixture,  # noqa: F401 - the `sim` fixture
    status_counts,
    wait_until,
)

pytestmark = [pytest.mark.redis, pytest.mark.postgres]


@pytest.fixture
def processes(tmp_path):
    started: list[CeleryProcess] = []

    def start(kind: str, env: dict[str, str], name: str) -> CeleryProcess:
        proc = CeleryProcess(kind, env, tmp_path, name)
        started.append(proc)
        return proc

    yield start
    for proc in started:
        proc.stop()


def _exactly_once(sim, n: int) -> None:
    missing = [i for i in range(n) if sim.count(f"+4072{i:07d}", f"Reminder {i}") != 1]
    assert missing == [], f"{len(missing)} messages not accepted exactly once"
    assert sim.stats()["accepted"] == n
    assert sim.stats()["duplicates"] == 0


def _all_sent(n: int, procs: list[CeleryProcess], timeout: float) -> None:
    try:
        wait_until(lambda: status_counts() == {"queued": n}, timeout=timeout, step=0.25)
    except AssertionError as exc:
        logs = "\n".join(f"--- {p.name}\n{p.log()}" for p in procs)
        raise AssertionError(f"{exc}\n{logs}") from None


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_kill_9_a_worker_mid_batch_then_another_one_delivers_each_message_once(
    database, sim, redis_url, processes
):
    base = redis_url.rsplit("/", 1)[0]
    broker, limiter = f"{base}/{BROKER_DB}", f"{base}/{LIMITER_DB}"
    for url in (broker, limiter):
        redis.Redis.from_url(url).flushdb()
    enqueue_sms(1000, prefix="kill")
    # 250/s (shared limiter): the batch takes seconds, so the kill lands in the middle of it
    env = celery_env(sim, broker_url=broker, redis_url=limiter, sms_rate_per_second=250)
    beat = processes("beat", env, "beat")
    first = processes("worker", env, "w1")
    wait_until(lambda: sim.stats()["accepted"] >= 200, timeout=60, step=0.01)
    first.kill()
    at_kill = sim.stats()["accepted"]
    assert 200 <= at_kill < 1000, "the worker was not killed mid-batch"
    counts = status_counts()
    assert counts.get("sending", 0) + counts.get("claimed", 0) > 0  # work in flight was lost
    second = processes("worker", env, "w2")
    _all_sent(1000, [beat, first, second], timeout=120)
    _exactly_once(sim, 1000)
    for url in (broker, limiter):
        redis.Redis.from_url(url).flushdb()


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_restarting_redis_mid_batch_loses_nothing(database, sim, processes, tmp_path):
    """Redis (broker and rate limiter) restarts without persistence: its queue is gone.

    The outbox is the source of truth: leases run out and the rows are claimed again.
    """
    server = RedisServer(free_port(), tmp_path).start()
    try:
        enqueue_sms(600, prefix="redis")
        env = celery_env(
            sim,
            broker_url=f"{server.url}/1",
            redis_url=f"{server.url}/2",
            sms_rate_per_second=150,
        )
        beat = processes("beat", env, "beat")
        worker = processes("worker", env, "w1")
        wait_until(lambda: sim.stats()["accepted"] >= 100, timeout=60, step=0.01)
        server.stop()
        stopped_at = sim.stats()["accepted"]
        time.sleep(1.5)
        server.start()
        assert stopped_at < 600, "Redis was not restarted mid-batch"
        _all_sent(600, [beat, worker], timeout=120)
        _exactly_once(sim, 600)
    finally:
        server.stop()
