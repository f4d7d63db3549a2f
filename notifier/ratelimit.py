"""Per-sender rate limit (messages per second), shared by every worker through Redis.

GCRA ("generic cell rate algorithm"): each send reserves the next free slot for its sender and
waits until then, so N workers together never exceed the configured rate. The embedded default
uses the same algorithm in process. ``rate <= 0`` turns limiting off.
"""

from __future__ import annotations

import logging
import threading
import time

log = logging.getLogger("callcard.notifier.ratelimit")

_RESERVE = """
local now_t = redis.call('TIME')
local now = tonumber(now_t[1]) * 1000000 + tonumber(now_t[2])
local interval = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < now then tat = now end
local wait = tat - now - burst * interval
if wait < 0 then wait = 0 end
local new_tat = tat + interval
redis.call('SET', KEYS[1], tostring(new_tat), 'PX', math.ceil((new_tat - now) / 1000) + 1000)
return wait
"""


class RateLimiter:
    """``wait(sender)`` blocks until this send may go out."""

    def __init__(self, rate_per_second: float, burst: int = 1) -> None:
        self.rate = rate_per_second
        self.burst = max(0, burst - 1)

    @property
    def enabled(self) -> bool:
        return self.rate > 0

    def reserve(self, sender: str) -> float:
        """Seconds to wait before sending (the slot is already taken)."""
        raise NotImplementedError

    def wait(self, sender: str) -> float:
        if not self.enabled:
            return 0.0
        delay = self.reserve(sender)
        if delay > 0:
            time.sleep(delay)
        return delay


class LocalRateLimiter(RateLimiter):
    """One process (the embedded default)."""

    def __init__(self, rate_per_second: float, burst: int = 1) -> None:
        super().__init__(rate_per_second, burst)
        self._tat: dict[str, float] = {}
        self._lock = threading.Lock()

    def reserve(self, sender: str) -> float:
        interval = 1.0 / self.rate
        with self._lock:
            now = time.monotonic()
            tat = max(self._tat.get(sender, now), now)
            self._tat[sender] = tat + interval
        return max(0.0, tat - now - self.burst * interval)


class RedisRateLimiter(RateLimiter):
    """Every worker process on every host shares the slots through one Redis key per sender.

    If Redis cannot be reached the limiter keeps going in process (logged), so a Redis restart
    slows nothing down and loses nothing.
    """

    def __init__(self, url: str, rate_per_second: float, burst: int = 1) -> None:
        super().__init__(rate_per_second, burst)
        import redis

        self._redis = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
        self._script = self._redis.register_script(_RESERVE)
        self._fallback = LocalRateLimiter(rate_per_second, burst)

    def reserve(self, sender: str) -> float:
        interval_us = int(1_000_000 / self.rate)
        try:
            wait_us = self._script(keys=[f"callcard:rate:{sender}"], args=[interval_us, self.burst])
        except Exception as exc:
            log.warning("rate limiter: Redis unavailable (%s); limiting in process", exc)
            return self._fallback.reserve(sender)
        return int(wait_us) / 1_000_000


def limiter_for(settings) -> RateLimiter:
    if settings.is_embedded or settings.sms_rate_per_second <= 0:
        return LocalRateLimiter(settings.sms_rate_per_second)
    return RedisRateLimiter(settings.redis_url, settings.sms_rate_per_second)
