"""The AMI listener: a panoramisk connection to Asterisk that feeds the call tracker.

panoramisk 1.4 does the actions/responses bookkeeping; we fix its known gaps here
(see ../shared/docs/field-notes.md):

* bytes are decoded incrementally (:class:`cti.ami.FrameParser`), so a UTF-8 character split
  across two TCP reads survives, and garbage or oversized input is skipped, never fatal;
* a Ping watchdog closes the *transport* when no Pong comes back in time (panoramisk's own ping
  never notices a half-open connection), which triggers our reconnect;
* reconnects back off exponentially (panoramisk retries every 2 s forever) and a refused login
  is logged once per attempt, with the reason;
* ``Async`` is always set on ``Originate`` (without it panoramisk drops the connection);
* after every login the live calls are resynchronised from ``CoreShowChannels`` and
  ``QueueStatus`` *before* any later event is applied, so a call in progress is tracked and
  none is reported twice.

Events bypass panoramisk's pattern dispatch and go straight to the tracker: that path is what
``bench/ami_throughput.py`` measures.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from typing import Any

from panoramisk.actions import Action
from panoramisk.message import Message

from cti.ami import AmiMessage
from cti.ami_connection import (
    ListenerManager,
    ListenerProtocol,
    panoramisk_log,
)
from cti.tracker.call import TrackedCall
from cti.tracker.tracker import CallTracker

log = logging.getLogger("callcard.cti.listener")

#: Originate ``Reason`` codes (Asterisk control frame types) in words
ORIGINATE_REASONS = {
    "0": "failed",
    "1": "hung up",
    "3": "no answer",
    "4": "answered",
    "5": "busy",
    "8": "congestion",
}


class AmiListener:
    """Background service: keeps one AMI connection up and feeds a :class:`CallTracker`.

    ``tracker`` defaults to a new one calling ``on_event``/``on_presence``. Fault tolerance
    knobs (``reconnect_min``/``reconnect_max`` seconds) exist for tests and small PBXs.
    """

    name = "ami-listener"

    def __init__(
        self,
        settings: Any,
        tracker: CallTracker | None = None,
        on_event: Callable[[str, TrackedCall, str | None], None] | None = None,
        on_presence: Callable[[str, str], None] | None = None,
        *,
        reconnect_min: float = 1.0,
        reconnect_max: float = 60.0,
        ping_interval: float | None = None,
        ping_timeout: float | None = None,
        on_raw_event: Callable[[AmiMessage], None] | None = None,
        connect_timeout: float = 10.0,
    ) -> None:
        self.connect_timeout = connect_timeout
        self.settings = settings
        self.tracker = tracker or CallTracker(settings, on_event=on_event, on_presence=on_presence)
        self.host = settings.ami_host
        self.port = int(settings.ami_port)
        self.username = settings.ami_username
        secret = settings.ami_secret
        self.secret = secret.get_secret_value() if hasattr(secret, "get_secret_value") else secret
        self.reconnect_min = reconnect_min
        self.reconnect_max = reconnect_max
        self.ping_interval = ping_interval or settings.ami_ping_interval
        self.ping_timeout = ping_timeout or settings.ami_ping_timeout
        self.message_stall_timeout = settings.ami_message_stall_timeout
        self.on_raw_event = on_raw_event
        self.manager: ListenerManager | None = None
        self.logged_in = asyncio.Event()
        self.logins = 0
        self.login_failures = 0
        self.connect_failures = 0
        self.disconnects = 0
        self.resyncs = 0
        self.last_error: str | None = None
        self._transport: asyncio.BaseTransport | None = None
        self._delay = reconnect_min
        self._stopping = False
        self._reconnect_handle: asyncio.TimerHandle | None = None
        self._watchdog: asyncio.Task | None = None
        self._auth_failed = False
        self._loop: asyncio.AbstractEventLoop | None = None

    # ------------------------------------------------------------------ service
    @property
    def enabled(self) -> bool:
        return bool(self.host)

    @property
    def connected(self) -> bool:
        """Logged in and usable right now."""
        return self.logged_in.is_set()

    async def start(self) -> None:
        if not self.enabled:
            log.info("no AMI host configured (CALLCARD_AMI_HOST): the AMI listener is off")
            return
        self._loop = asyncio.get_running_loop()
        self._stopping = False
        self.manager = ListenerManager(
            host=self.host,
            port=self.port,
            username=self.username,
            secret=self.secret,
            events="on",
            loop=self._loop,
            protocol_factory=ListenerProtocol,
            log=panoramisk_log,
        )
        self.manager.listener = self
        log.info("AMI listener connecting to %s:%s as %s", self.host, self.port, self.username)
        self._connect()

    async def stop(self) -> None:
        self._stopping = True
        if self._reconnect_handle is not None:
            self._reconnect_handle.cancel()
            self._reconnect_handle = None
        if self._watchdog is not None:
            self._watchdog.cancel()
            self._watchdog = None
        if self.manager is not None:
            if self.connected:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(self.send_action({"Action": "Logoff"}), 1)
            self.manager.close()
        self.logged_in.clear()

    async def wait_logged_in(self, timeout: float = 10.0) -> None:
        await asyncio.wait_for(self.logged_in.wait(), timeout)

    def status(self) -> dict[str, Any]:
        return {
            "host": self.host,
            "port": self.port,
            "connected": self.connected,
            "logins": self.logins,
            "login_failures": self.login_failures,
            "connect_failures": self.connect_failures,
            "disconnects": self.disconnects,
            "resyncs": self.resyncs,
            "events": self.tracker.events_seen,
            "live_calls": len(self.tracker.calls),
            "last_error": self.last_error,
        }

    # ------------------------------------------------------------------ actions
    def send_action(self, action: dict[str, Any] | Action, as_list: bool | None = None):
        """Send an action; returns an awaitable of its response (a list for event lists).

        ``Originate`` always gets ``Async: true`` and resolves on the immediate response
        ("Originate successfully queued"); use :meth:`originate` to wait for the outcome.
        """
        if self.manager is None or self.manager.protocol is None or not self.connected:
            raise ConnectionError("not connected to the PBX (AMI)")
        if not isinstance(action, Action):
            action = Action(dict(action))
        if str(action.get("Action", "")).lower() == "originate":
            if "async" not in action:
                action["Async"] = "true"
            action.first_response = asyncio.get_running_loop().create_future()
            self.manager.send_action(action, as_list=as_list)
            return action.first_response
        return self.manager.send_action(action, as_list=as_list)

    async def originate(
        self,
        channel: str,
        exten: str,
        context: str,
        *,
        caller_id: str | None = None,
        timeout: float = 30.0,
        variables: dict[str, str] | None = None,
        action_id: str | None = None,
    ) -> dict[str, Any]:
        """Originate a call and wait for its outcome (answered, busy, no answer, failed)."""
        if self.manager is None or not self.connected:
            raise ConnectionError("not connected to the PBX (AMI)")
        fields: dict[str, Any] = {
            "Action": "Originate",
            "Channel": channel,
            "Exten": exten,
            "Context": context,
            "Priority": "1",
            "Timeout": str(int(timeout * 1000)),
            "Async": "true",
        }
        if caller_id:
            fields["CallerID"] = caller_id
        if variables:
            fields["Variable"] = [f"{k}={v}" for k, v in variables.items()]
        if action_id:
            fields["ActionID"] = action_id
        action = Action(fields)
        action.first_response = asyncio.get_running_loop().create_future()
        self.manager.send_action(action)
        first = await asyncio.wait_for(action.first_response, 10)
        if not first.success:
            return {
                "ok": False,
                "queued": False,
                "reason": "refused",
                "message": first.get("message", ""),
            }
        try:
            result = await asyncio.wait_for(action.future, timeout + 10)
        except TimeoutError:
            return {"ok": False, "queued": True, "reason": "timeout", "message": "no outcome"}
        final = result[-1] if isinstance(result, list) else result
        code = str(final.get("reason", ""))
        ok = str(final.get("response", "")).lower() == "success"
        return {
            "ok": ok,
            "queued": True,
            "reason": ORIGINATE_REASONS.get(code, "failed") if not ok else "answered",
            "reason_code": code,
            "uniqueid": final.get("uniqueid"),
            "channel": final.get("channel"),
            "message": first.get("message", ""),
        }

    # ------------------------------------------------------------------ connection life
    def _connect(self) -> None:
        self._reconnect_handle = None
        if self._stopping or self.manager is None:
            return
        self.manager.connect()

    def _schedule_reconnect(self) -> None:
        if self._stopping or self._loop is None or self._reconnect_handle is not None:
            return
        delay = self._delay
        self._delay = min(self._delay * 2, self.reconnect_max)
        self._reconnect_handle = self._loop.call_later(delay, self._connect)

    def on_connect_failed(self, exc: BaseException) -> None:
        self.connect_failures += 1
        self.last_error = f"cannot connect: {exc}"
        log.warning(
            "AMI %s:%s unreachable (%s); retrying in %.1f s",
            self.host,
            self.port,
            exc,
            self._delay,
        )
        self._schedule_reconnect()

    def on_transport_up(self, transport: asyncio.BaseTransport) -> None:
        self._transport = transport
        self._auth_failed = False
        log.debug("AMI TCP connection to %s:%s open, logging in", self.host, self.port)

    def on_logged_in(self) -> None:
        self.logins += 1
        self._delay = self.reconnect_min
        self.last_error = None
        log.info(
            "AMI logged in to %s:%s as %s (login #%d)",
            self.host,
            self.port,
            self.username,
            self.logins,
        )
        self.logged_in.set()
        self._start_resync()
        if self._watchdog is not None:
            self._watchdog.cancel()
        self._watchdog = asyncio.ensure_future(self._ping_watchdog())

    def on_login_failed(self, reason: str) -> None:
        self.login_failures += 1
        self._auth_failed = True
        self.last_error = f"login refused: {reason}"
        log.error(
            "AMI login to %s:%s as %r refused (%s): check CALLCARD_AMI_USERNAME/SECRET; "
            "retrying in %.1f s",
            self.host,
            self.port,
            self.username,
            reason,
            self._delay,
        )
        # Asterisk closes the socket after a failed login; make sure we do too
        if self._transport is not None:
            self._transport.close()

    def on_connection_lost(self, exc: BaseException | None) -> None:
        was_logged_in = self.logged_in.is_set()
        self.logged_in.clear()
        self._transport = None
        if self._watchdog is not None:
            self._watchdog.cancel()
            self._watchdog = None
        if self._stopping:
            return
        self.disconnects += 1
        if not self._auth_failed:
            if was_logged_in:
                self.last_error = f"connection lost: {exc or 'closed by the PBX'}"
            log.warning(
                "AMI connection to %s:%s lost (%s); reconnecting in %.1f s",
                self.host,
                self.port,
                exc or "closed by the PBX",
                self._delay,
            )
        self._schedule_reconnect()

    # ------------------------------------------------------------------ resync + watchdog
    def _start_resync(self) -> None:
        """Ask for the live channels and queue entries; apply them the moment they arrive."""
        manager = self.manager
        if manager is None or manager.protocol is None:
            return
        protocol: ListenerProtocol = manager.protocol
        channels = Action({"Action": "CoreShowChannels"})
        protocol.sync_handlers[channels.id] = self._apply_channels
        manager.send_action(channels)
        queues = Action({"Action": "QueueStatus"})
        protocol.sync_handlers[queues.id] = self._apply_queues
        manager.send_action(queues)

    def _apply_channels(self, messages: list[Message]) -> None:
        items = [m for m in messages if m.get("event", "").lower() == "coreshowchannel"]
        self.resyncs += 1
        log.info("AMI resync: %d live channel(s) on the PBX", len(items))
        self.tracker.resync(items, None)

    def _apply_queues(self, messages: list[Message]) -> None:
        entries = [m for m in messages if m.get("event", "").lower() == "queueentry"]
        if entries:
            self.tracker.apply_queue_entries(entries)
        for m in messages:
            if m.get("event", "").lower() == "queuemember":
                self.tracker.feed({**dict(m), "Event": "QueueMemberStatus"})

    async def _ping_watchdog(self) -> None:
        """Ping every ``ping_interval``; no Pong within ``ping_timeout`` -> drop the transport."""
        try:
            while True:
                await asyncio.sleep(self.ping_interval)
                if self.manager is None or self.manager.protocol is None:
                    return
                started = time.monotonic()
                try:
                    await asyncio.wait_for(
                        self.manager.send_action({"Action": "Ping"}), self.ping_timeout
                    )
                except TimeoutError:
                    self.last_error = f"no Pong within {self.ping_timeout:g} s"
                    log.warning(
                        "AMI %s:%s did not answer Ping within %.1f s: connection is dead, "
                        "reconnecting",
                        self.host,
                        self.port,
                        self.ping_timeout,
                    )
                    transport = self._transport
                    if transport is not None:
                        transport.abort() if hasattr(transport, "abort") else transport.close()
                    return
                log.debug("AMI Pong in %.1f ms", (time.monotonic() - started) * 1000)
        except asyncio.CancelledError:
            pass

    # ------------------------------------------------------------------ events
    def on_ami_event(self, msg: AmiMessage) -> None:
        name = msg.get("event", "")
        if name == "Shutdown":
            log.warning("Asterisk is shutting down; will reconnect")
        self.tracker.feed(msg)
        if self.on_raw_event is not None:
            try:
                self.on_raw_event(msg)
            except Exception:
                log.exception("raw AMI event handler failed")
