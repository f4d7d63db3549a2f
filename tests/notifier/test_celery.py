"""The production path: real Celery worker and beat processes on a real Redis, PostgreSQL,
the real ``twilio`` library against the local simulator."""

from __future__ import annotations

import time

import pytest
import redis

from tests.notifier.notifier_engine_support import (
    BROKER_DB,
    LIMITER_DB,
    CeleryProcess,
    celery_env,
    enqueue_sms,
    message,
    sim_fixture,  # noqa: F401 - the `sim` fixture
    status_counts,
    wait_until,
)

pytestmark = [pytest.mark.redis, pytest.mark.postgres]


@pytest.fixture
def engine_redis(redis_url):
    """Our Redis DBs (broker, limiter), emptied before and after."""
    base = redis_url.rsplit("/", 1)[0]
    urls = {"broker": f"{base}/{BROKER_DB}", "limiter": f"{base}/{LIMITER_DB}"}
    for url in urls.values():
        redis.Redis.from_url(url).flushdb()
    yield urls
    for url in urls.values():
        redis.Redis.from_url(url).flushdb()


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


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_beat_and_a_worker_deliver_every_due_message_once(database, sim, engine_redis, processes):
    ids = enqueue_sms(100, prefix="celery")
    env = celery_env(sim, broker_url=engine_redis["broker"], redis_url=engine_redis["limiter"])
    worker = processes("worker", env, "w1")
    beat = processes("beat", env, "beat")
    try:
        wait_until(lambda: status_counts() == {"queued": 100}, timeout=60, step=0.2)
    except AssertionError as exc:
        raise AssertionError(f"{exc}\n{worker.log()}\n{beat.log()}") from None
    assert sim.stats()["accepted"] == 100
    assert sim.stats()["duplicates"] == 0
    for i in (0, 50, 99):
        row = message(ids[i])
        assert row.provider_id in sim.messages
        assert row.attempts == 1


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_429_then_200_through_celery_is_sent_once_after_backoff(
    database, sim, engine_redis, processes
):
    [mid] = enqueue_sms(1, prefix="busy")
    sim.add_fault("429", times=2)
    env = celery_env(sim, broker_url=engine_redis["broker"], redis_url=engine_redis["limiter"])
    processes("worker", env, "w1")
    processes("beat", env, "beat")
    wait_until(lambda: message(mid).status == "queued", timeout=30, step=0.1)
    assert sim.stats()["requests"] == 3
    assert sim.count("+40720000000", "Reminder 0") == 1
    history = message(mid).history
    assert [(h.status, h.error_code) for h in history] == [
        ("retry", "20429"),
        ("retry", "20429"),
        ("queued", ""),
    ]
    # exponential: the second wait is drawn from twice the first one's range
    assert history[1].at > history[0].at


def test_the_rate_limit_is_shared_by_every_worker_through_redis(engine_redis):
    """Two limiters (two worker processes) reserve slots from one Redis key per sender."""
    from notifier.ratelimit import RedisRateLimiter

    first = RedisRateLimiter(engine_redis["limiter"], rate_per_second=10)
    second = RedisRateLimiter(engine_redis["limiter"], rate_per_second=10)
    started = time.monotonic()
    waits = [(first if i % 2 else second).reserve("sms:+40312345678") for i in range(20)]
    elapsed = time.monotonic() - started
    # 20 sends at 10/s: the last one goes 1.9 s after the first, whichever worker makes it
    # (less the time the 20 reservations themselves took)
    assert waits[0] == 0
    assert all(b > a for a, b in zip(waits[1:], waits[2:], strict=False))
    assert 1.85 - elapsed <= waits[-1] <= 1.95
    # another sender has its own budget
    assert first.reserve("sms:+40399999999") == 0


def test_the_rate_limiter_keeps_limiting_when_redis_is_down():
    from notifier.ratelimit import RedisRateLimiter
    from tests.conftest import free_port

    limiter = RedisRateLimiter(f"redis://127.0.0.1:{free_port()}/1", rate_per_second=5)
    waits = [limiter.reserve("sms:x") for _ in range(3)]
    assert waits[0] == 0
    assert 0.3 <= waits[2] <= 0.41


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_beat_stops_claiming_while_the_queue_is_full(database, engine_redis, monkeypatch):
    """A backlog is claimed as fast as workers take it, not faster (leases would run out)."""
    import notifier.celery_app as tasks

    monkeypatch.setattr(tasks.app.conf, "broker_url", engine_redis["broker"])
    monkeypatch.setattr(tasks, "_dispatcher", None)
    monkeypatch.setenv("CALLCARD_QUIET_HOURS_START", "0")
    monkeypatch.setenv("CALLCARD_QUIET_HOURS_END", "0")
    from callcard.settings import get_settings

    get_settings.cache_clear()
    enqueue_sms(50, prefix="backlog")
    queue = redis.Redis.from_url(engine_redis["broker"])
    for _ in range(tasks.MAX_BATCHES_PER_TICK):
        tasks.deliver.apply_async(args=([0], "stale-token"))
    assert tasks.queued_batches() == tasks.MAX_BATCHES_PER_TICK
    assert tasks.claim_and_dispatch() == 0
    assert status_counts() == {"pending": 50}
    queue.flushdb()
    assert tasks.claim_and_dispatch() == 50
    assert status_counts() == {"claimed": 50}
    assert tasks.queued_batches() == 1
    tasks._dispatcher.close()
