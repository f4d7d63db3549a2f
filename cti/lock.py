"""One AMI listener per PBX: a Redis lock with an expiry, refreshed while its holder lives.

``SET key token NX PX ttl`` takes the lock; the holder refreshes it every ``ttl/3`` (only if the
token is still its own, checked atomically in Lua) and deletes it on a clean stop. A holder that
dies (crash, kill -9, network cut) stops refreshing, the key expires after ``ttl`` and a waiting
process takes over. A holder that finds its lock gone or taken (Redis flushed, long pause) is told
through ``lost`` and must stop listening at once, so two listeners never run side by side for
more than one refresh period.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import uuid

log = logging.getLogger("callcard.cti.lock")

_REFRESH = """
if redis.call('get', KEYS[1]) == ARGV[1] then
  return redis.call('pexpire', KEYS[1], ARGV[2])
end
return 0
"""
_RELEASE = """
if redis.call('get', KEYS[1]) == ARGV[1] then
  return redis.call('del', KEYS[1])
end
return 0
"""


def lock_key(host: str, port: int) -> str:
    return f"callcard:cti:lock:{host}:{port}"


class RedisLock:
    def __init__(self, url: str, key: str, ttl: float = 15.0, poll: float | None = None) -> None:
        import redis.asyncio as aioredis

        self.url = url
        self.key = key
        self.ttl = ttl
        self.poll = poll if poll is not None else max(ttl / 5, 0.1)
        self.token = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.redis = aioredis.Redis.from_url(url)
        self.lost = asyncio.Event()
        self._refresher: asyncio.Task | None = None

    async def holder(self) -> str | None:
        value = await self.redis.get(self.key)
        return value.decode() if value else None

    async def try_acquire(self) -> bool:
        ok = await self.redis.set(self.key, self.token, nx=True, px=int(self.ttl * 1000))
        return bool(ok)

    async def acquire(self) -> None:
        """Wait (as long as it takes) until this process holds the lock, then keep it fresh."""
        announced = False
        while True:
            try:
                if await self.try_acquire():
                    break
                if not announced:
                    log.info(
                        "another CTI listener holds %s (%s); waiting to take over",
                        self.key,
                        await self.holder(),
                    )
                    announced = True
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("Redis unreachable for the CTI lock (%s); retrying", exc)
            await asyncio.sleep(self.poll)
        log.info("CTI lock %s taken by %s", self.key, self.token)
        self.lost.clear()
        self._refresher = asyncio.create_task(self._refresh())

    async def _refresh(self) -> None:
        interval = self.ttl / 3
        failures_since = None
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(interval)
            try:
                still = await self.redis.eval(
                    _REFRESH, 1, self.key, self.token, int(self.ttl * 1000)
                )
                failures_since = None
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                # Redis down: we cannot prove we still hold it; give up once it may have expired
                failures_since = failures_since or loop.time()
                log.warning("could not refresh the CTI lock: %s", exc)
                if loop.time() - failures_since < self.ttl - interval:
                    continue
                still = 0
            if not still:
                log.error("CTI lock %s lost; stopping this listener", self.key)
                self.lost.set()
                return

    async def release(self) -> None:
        if self._refresher is not None:
            self._refresher.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._refresher
            self._refresher = None
        try:
            await self.redis.eval(_RELEASE, 1, self.key, self.token)
        except Exception as exc:
            log.warning("could not release the CTI lock (it expires by itself): %s", exc)

    async def close(self) -> None:
        await self.release()
        await self.redis.aclose()
