"""The CTI service: AMI listener -> call tracker -> popups, presence, call log, click-to-call.

One code path for both ways to run:

- embedded default: the web process runs it (``embedded_services``) when ``CALLCARD_AMI_HOST`` is
  set, or with the built-in simulator (``CALLCARD_SIMULATOR=true``: an AMI replay server with
  synthetic calls on a free local port, so the demo gets calls within seconds of start);
- production: ``callcard cti`` runs it as its own process, publishing to the Redis bus.

Whenever the bus is Redis (``CALLCARD_BUS_URL``), the service first takes the per-PBX Redis lock
(:mod:`cti.lock`): only one listener per PBX runs; a second one waits and takes over when the
first dies.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from typing import Any

from pydantic import SecretStr

from crm_core.bus import Bus, get_bus
from crm_core.events import ExtensionsChanged
from crm_core.services import BackgroundService
from cti import clicktocall, presence
from cti.config import CtiSettings
from cti.directory import ExtensionDirectory
from cti.popups import CallPopups
from cti.presence import PresenceBoard

log = logging.getLogger("callcard.cti")


class CtiService:
    """Listener, tracker, popups, presence board and originator, wired together."""

    name = "cti"

    def __init__(
        self,
        settings: CtiSettings,
        bus: Bus | None = None,
        *,
        use_lock: bool | None = None,
        listener_options: dict[str, Any] | None = None,
    ) -> None:
        self.settings = settings
        self.bus = bus
        self.use_lock = bool(settings.bus_url) if use_lock is None else use_lock
        self.listener_options = listener_options or {}
        self.listener = None
        self.popups: CallPopups | None = None
        self.presence: PresenceBoard | None = None
        self.originator: clicktocall.Originator | None = None
        self.lock = None
        self.active = asyncio.Event()  # set while this process listens to the PBX
        self._runner: asyncio.Task | None = None
        self._tasks: list[asyncio.Task] = []

    async def start(self) -> None:
        """Returns at once; the listener starts now, or once the lock is ours."""
        self.bus = self.bus or get_bus()
        if self.use_lock:
            from cti.lock import RedisLock, lock_key

            self.lock = RedisLock(
                self.settings.bus_url,
                lock_key(self.settings.ami_host, self.settings.ami_port),
                ttl=self.settings.cti_lock_ttl,
            )
            self._runner = asyncio.create_task(self._run_with_lock())
        else:
            await self._start_listening()

    async def _run_with_lock(self) -> None:
        while True:
            await self.lock.acquire()
            failed = False
            try:
                await self._start_listening()
                await self.lock.lost.wait()
            except asyncio.CancelledError:
                raise
            except Exception:
                failed = True
                log.exception("the CTI service failed; handing the PBX lock over")
            finally:
                await self._stop_listening()
                await self.lock.release()
            if failed:
                await asyncio.sleep(5)

    async def _start_listening(self) -> None:
        from cti.listener import AmiListener

        settings = self.settings
        directory = ExtensionDirectory()
        await asyncio.to_thread(directory.reload)
        self.popups = CallPopups(self.bus, directory=directory)
        self._tasks.append(asyncio.create_task(self._follow_directory(directory)))
        self.presence = PresenceBoard(
            publish=self.popups.publisher,
            resolve_user=directory.user_of,
            redis_url=settings.bus_url or None,
            background=self.popups.publisher.run,
        )
        self.popups.presence = self.presence
        self.listener = AmiListener(
            settings,
            on_event=self.popups.on_event,
            on_presence=self.presence.on_presence,
            **self.listener_options,
        )
        self.originator = clicktocall.Originator(
            self.listener, settings, busy=self.extension_busy, publish=self.popups.publisher
        )
        await self.listener.start()
        clicktocall.current_originator = self.originator
        presence.current_board = self.presence
        if settings.bus_url:
            self._tasks.append(
                asyncio.create_task(
                    clicktocall.serve_redis_requests(self.originator, settings.bus_url)
                )
            )
        self.active.set()
        log.info("CTI listening to %s:%s", settings.ami_host, settings.ami_port)

    async def _follow_directory(self, directory: ExtensionDirectory) -> None:
        """An admin gives a user an extension: the next call to it pops up for them at once,
        not after the directory's ``max_age``."""
        loop = asyncio.get_running_loop()

        def on_message(message: dict) -> None:
            if message.get("type") == ExtensionsChanged.type:
                loop.run_in_executor(None, directory.reload_or_keep)

        async with self.bus.subscribe(on_message):
            await asyncio.Event().wait()

    async def _stop_listening(self) -> None:
        self.active.clear()
        for task in self._tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks.clear()
        if clicktocall.current_originator is self.originator:
            clicktocall.current_originator = None
        if presence.current_board is self.presence:
            presence.current_board = None
        if self.listener is not None:
            await self.listener.stop()
        if self.popups is not None:
            with contextlib.suppress(Exception):
                await self.popups.drain()
            self.popups.close()

    def extension_busy(self, extension: str) -> bool:
        """Ringing or in a call, by the tracker's calls or the device state."""
        if self.listener is not None:
            for call in self.listener.tracker.calls.values():
                if extension in call.ringing or call.answered_by == extension:
                    return True
        if self.presence is not None:
            op = self.presence.operators.get(extension)
            if op is not None and op.state in clicktocall.BUSY_STATES:
                return True
        return False

    async def stop(self) -> None:
        if self._runner is not None:
            self._runner.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._runner
            self._runner = None
        else:
            await self._stop_listening()
        if self.lock is not None:
            await self.lock.close()


class SimulatorService:
    """The built-in call simulator: an AMI replay server making up calls (real AMI over TCP).

    Callers are drawn from the client base (some numbers stay unknown, a few are withheld) and
    ring the extensions bound to users, so the demo's popups show real cards.
    """

    name = "call-simulator"
    calls_per_second = 0.2

    def __init__(self, settings: CtiSettings, port: int, username: str, secret: str) -> None:
        self.settings = settings
        self.port = port
        self.username = username
        self.secret = secret
        self.server = None

    def _config(self):
        from sqlalchemy import select

        from crm_core.auth.models import User
        from crm_core.clients.models import Phone
        from crm_core.database import session_scope
        from cti.simulator.calls import SyntheticConfig

        config = SyntheticConfig()
        try:
            with session_scope() as db:
                numbers = db.scalars(select(Phone.e164).order_by(Phone.id).limit(200)).all()
                extensions = db.scalars(
                    select(User.extension)
                    .where(User.extension.is_not(None), User.is_active.is_(True))
                    .order_by(User.extension)
                ).all()
        except Exception:  # an empty or odd database: the generator's defaults do
            log.exception("simulator: could not read numbers and extensions")
            return config
        if numbers:
            config.numbers = list(numbers)
        if extensions:
            config.extensions = list(extensions)
            config.queue_members = list(extensions[: max(2, len(extensions) // 2)])
        return config

    async def start(self) -> None:
        from cti.simulator.server import AmiReplayServer

        config = await asyncio.to_thread(self._config)
        self.server = AmiReplayServer(
            host="127.0.0.1",
            port=self.port,
            username=self.username,
            secret=self.secret,
            synthetic_rate=self.calls_per_second,
            synthetic=config,
        )
        await self.server.start()
        log.info("call simulator (AMI replay server) on 127.0.0.1:%s", self.port)

    async def stop(self) -> None:
        if self.server is not None:
            await self.server.stop()


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def embedded_services(settings: CtiSettings) -> list[BackgroundService]:
    """The CTI services this web process runs: none without a PBX or simulator."""
    services: list[BackgroundService] = []
    if settings.simulator:
        port = _free_port()
        secret = secrets.token_urlsafe(12)
        services.append(SimulatorService(settings, port, "callcard", secret))
        settings = settings.model_copy(
            update={
                "ami_host": "127.0.0.1",
                "ami_port": port,
                "ami_username": "callcard",
                "ami_secret": SecretStr(secret),
            }
        )
    if settings.ami_host:
        services.append(CtiService(settings))
    return services
