"""The production dispatcher: Celery on Redis.

Beat fires ``notifier.claim_and_dispatch`` every ``dispatch_interval_seconds``; it leases due
outbox rows and hands them, a batch per task, to ``notifier.deliver`` on the workers. Both run
this ``app`` through the root package's worker module, which first connects the parts (channels
registered from above the notifier: ``notifier.channels.register_channel``). Tasks are
acknowledged late and are idempotent: a task delivered twice (Redis visibility timeout, a
worker lost) finds its rows no longer leased under its claim token and does nothing. The outbox,
not Redis, is the source of truth: if Redis loses its queue, the leases run out and the rows
are claimed again. No task is ever scheduled far ahead (no ETA): due times live in the outbox.
"""

from __future__ import annotations

import logging
import threading
import time

from celery import Celery
from celery.signals import worker_process_init, worker_process_shutdown

from notifier.config import get_settings

log = logging.getLogger("callcard.notifier.celery")

settings = get_settings()
interval = max(0.5, settings.dispatch_interval_seconds)

app = Celery("callcard", broker=settings.celery_broker_url or settings.redis_url)
app.conf.update(
    task_acks_late=True,
    task_reject_on_worker_lost=True,
    task_ignore_result=True,
    worker_prefetch_multiplier=1,
    task_default_queue="callcard-notifier",
    broker_connection_retry_on_startup=True,
    broker_connection_max_retries=None,
    broker_transport_options={
        "visibility_timeout": max(60, int(settings.dispatch_lease_seconds * 3))
    },
    enable_utc=True,
    timezone="UTC",
    beat_schedule={
        "claim-and-dispatch": {
            "task": "notifier.claim_and_dispatch",
            "schedule": interval,
            # a tick nobody picked up in time is useless: the next one does the same work
            "options": {"expires": interval * 3},
        },
        # reminders due (task.due to the assignee), surveys for newly logged calls
        "engagement-jobs": {
            "task": "notifier.engagement_jobs",
            "schedule": max(1.0, settings.engagement_interval_seconds),
            "options": {"expires": max(1.0, settings.engagement_interval_seconds) * 2},
        },
        # the daily backup (crm_core.backups): runs when its time has come, once per time
        "backup-due": {"task": "notifier.backup_due", "schedule": 60.0, "options": {"expires": 90}},
    },
)

#: claims per beat tick, so one tick can feed workers faster than batch/interval
MAX_BATCHES_PER_TICK = 20

_dispatcher = None
_lock = threading.Lock()


def dispatcher():
    """One Dispatcher per worker process (created after the fork), rate-limited through Redis
    so that all workers together keep each sender's messages-per-second."""
    global _dispatcher
    with _lock:
        if _dispatcher is None:
            from notifier.outbox.dispatch import Dispatcher
            from notifier.ratelimit import LocalRateLimiter, RedisRateLimiter

            s = get_settings()
            limiter = (
                RedisRateLimiter(s.redis_url, s.sms_rate_per_second)
                if s.sms_rate_per_second > 0
                else LocalRateLimiter(0)
            )
            _dispatcher = Dispatcher(s, limiter=limiter)
        return _dispatcher


@worker_process_init.connect
def _fresh_connections(**_: object) -> None:
    """A forked child must not reuse its parent's database connections."""
    from crm_core import database

    database.forget_engines(close=False)


@worker_process_shutdown.connect
def _close(**_: object) -> None:
    if _dispatcher is not None:
        _dispatcher.close()


def queued_batches() -> int:
    """Tasks waiting in the broker queue (0 if the broker cannot tell)."""
    try:
        with app.connection_for_write() as conn:
            _, count, _ = conn.default_channel.queue_declare(
                app.conf.task_default_queue, passive=True
            )
            return int(count)
    except Exception as exc:  # the outbox is the source of truth: claim as usual
        log.debug("queue length unknown: %s", exc)
        return 0


@app.task(name="notifier.claim_and_dispatch", acks_late=True)
def claim_and_dispatch() -> int:
    """Recover expired leases, lease due rows in batches, queue one ``deliver`` per batch."""
    d = dispatcher()
    d.housekeeping()
    batch = d.settings.dispatch_batch_size
    deadline = time.monotonic() + interval
    claimed = 0
    # Backpressure: with a backlog (the morning after quiet hours), claiming faster than the
    # workers send would only let leases run out in the queue. Top the queue up instead.
    room = MAX_BATCHES_PER_TICK - queued_batches()
    for _ in range(max(0, room)):
        claim = d.claim(batch)
        if claim.ids:
            deliver.apply_async(args=(claim.ids, claim.token))
            claimed += len(claim.ids)
        if len(claim.ids) < batch or time.monotonic() > deadline:
            break
    unknown = d.claim_unknown(batch)
    if unknown.ids:
        reconcile.apply_async(args=(unknown.ids, unknown.token))
    return claimed


@app.task(name="notifier.deliver", acks_late=True)
def deliver(ids: list[int], token: str) -> int:
    from notifier.outbox.transitions import Claim

    stats = dispatcher().deliver(Claim(token, list(ids)))
    return stats.sent


@app.task(name="notifier.reconcile", acks_late=True)
def reconcile(ids: list[int], token: str) -> int:
    from notifier.outbox.transitions import Claim

    return dispatcher().reconcile(Claim(token, list(ids))).reconciled


@app.task(name="notifier.engagement_jobs", acks_late=True)
def engagement_jobs() -> dict[str, int]:
    """Due task reminders, call surveys, survey expiry (``notifier.engagement_jobs``)."""
    from notifier.jobs import run_all

    return run_all(get_settings())


@app.task(name="notifier.backup_due", acks_late=False)
def backup_due() -> int | None:
    """Run the scheduled backup when due (``crm_core.backups.service.run_if_due``)."""
    from crm_core.backups.scheduler import run_if_due

    return run_if_due(get_settings())
