"""The AMI connection under the listener: panoramisk's protocol and manager with their known
gaps fixed (see ../shared/docs/field-notes.md).

* bytes are decoded incrementally (:class:`cti.ami.FrameParser`) and handled in short slices,
  so the loop keeps sending popups during a burst; reading pauses above ``MAX_BACKLOG``;
* the TCP connect, login and connection loss are reported to the listener, which owns the
  reconnect policy; panoramisk's own ping and retry loop are disabled.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Callable
from typing import Any, Protocol

from panoramisk import Manager
from panoramisk.ami_protocol import AMIProtocol
from panoramisk.message import Message

from cti.ami import AmiMessage, FrameParser

#: panoramisk logs every re-queued action at INFO over several lines; keep its warnings only
panoramisk_log = logging.getLogger("callcard.cti.panoramisk")
log = logging.getLogger("callcard.cti.listener")
if panoramisk_log.level == logging.NOTSET:
    panoramisk_log.setLevel(logging.WARNING)

#: longest stretch the listener handles AMI messages without letting the loop send popups
SLICE_SECONDS = 0.002
#: messages received but not handled yet above which reading from the PBX pauses
MAX_BACKLOG = 20_000


class ConnectionOwner(Protocol):
    """What the connection reports to (the :class:`cti.listener.AmiListener`)."""

    connect_timeout: float
    message_stall_timeout: float

    def on_connect_failed(self, exc: BaseException) -> None: ...

    def on_transport_up(self, transport: Any) -> None: ...

    def on_logged_in(self) -> None: ...

    def on_login_failed(self, reason: str) -> None: ...

    def on_connection_lost(self, exc: BaseException | None) -> None: ...

    def on_ami_event(self, msg: AmiMessage) -> None: ...


class ListenerProtocol(AMIProtocol):
    """panoramisk's protocol with our incremental parser and a fast path for events."""

    def connection_made(self, transport):
        super().connection_made(transport)
        self.parser = FrameParser()
        self.backlog: deque[AmiMessage] = deque()
        self.draining = False
        self.reading_paused = False
        self.sync_handlers: dict[str, Callable[[list[Message]], None]] = {}
        self.stall_timer: asyncio.TimerHandle | None = None

    def connection_lost(self, exc):
        if self.stall_timer is not None:
            self.stall_timer.cancel()
        return super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:  # type: ignore[override]
        try:
            messages = self.parser.feed(data)
        except Exception:  # the parser is defensive; this is the last line of defence
            self.log.exception("AMI parser failed; input skipped")
            return
        if self.parser.partial_since is not None and self.stall_timer is None:
            self._watch_stall()
        if self.version is None and self.parser.version:
            self.version = self.parser.version
        if not messages:
            return
        self.backlog.extend(messages)
        if not self.draining:
            self._drain()

    def _stall_timeout(self) -> float:
        owner = getattr(self.factory, "listener", None) if self.factory is not None else None
        return float(getattr(owner, "message_stall_timeout", 3.0))

    def _watch_stall(self) -> None:
        loop = asyncio.get_running_loop()
        remaining = self._stall_timeout() - self.parser.partial_age()
        self.stall_timer = loop.call_later(max(remaining, 0.05), self._check_stall)

    def _check_stall(self) -> None:
        """An unfinished message that has waited longer than ``message_stall_timeout``.

        Asterisk writes each message whole, so one whose blank line has not come within a few
        seconds means a broken stream (a message that never ends also hides the Pong, so the
        Ping watchdog would only notice after its interval and timeout). The transport is
        closed: the listener reconnects and resynchronises the live calls.
        """
        self.stall_timer = None
        if self.parser.partial_since is None or self.transport is None:
            return
        if self.reading_paused or self.parser.partial_age() < self._stall_timeout():
            self._watch_stall()  # our backlog, not the PBX, holds the rest: look again later
            return
        log.warning(
            "AMI message never ended (%d characters without the blank line for %.1f s): "
            "reconnecting",
            len(self.parser._buffer),
            self.parser.partial_age(),
        )
        with contextlib.suppress(Exception):
            self.transport.abort()

    def _drain(self) -> None:
        """Handle the received messages in order, in slices of at most ``SLICE_SECONDS``.

        A burst (100 calls ringing in the same millisecond arrive in one TCP read) would
        otherwise be handled in one go, and no popup would leave before the last call of the
        burst was looked up. Between slices the loop writes the popups already dispatched;
        reading pauses while a large backlog waits, so the PBX is slowed down, not dropped.
        """
        self.draining = False
        factory = self.factory
        sink = factory.listener.on_ami_event if factory is not None else None
        responses = self.responses
        backlog = self.backlog
        deadline = time.perf_counter() + SLICE_SECONDS
        while backlog:
            msg = backlog.popleft()
            try:
                action_id = msg.get("actionid")
                if action_id is not None and action_id in responses:
                    self._to_action(action_id, msg)
                elif sink is not None and "event" in msg:
                    sink(msg)
            except Exception:
                self.log.exception("AMI message could not be handled: %r", dict(msg))
            if backlog and time.perf_counter() > deadline:
                self.draining = True
                asyncio.get_running_loop().call_soon(self._drain)
                if len(backlog) > MAX_BACKLOG and not self.reading_paused:
                    self.reading_paused = True
                    with contextlib.suppress(Exception):
                        self.transport.pause_reading()
                return
        if self.reading_paused:
            self.reading_paused = False
            with contextlib.suppress(Exception):  # the connection may be gone meanwhile
                self.transport.resume_reading()

    def _to_action(self, action_id: str, msg: AmiMessage) -> None:
        action = self.responses[action_id]
        message = Message(msg, content=msg.content)
        first = action.__dict__.get("first_response")
        if first is not None and not first.done():
            first.set_result(message)
        if action.add_message(message):
            self.responses.pop(action_id, None)
            handler = self.sync_handlers.pop(action_id, None)
            if handler is not None:
                result = action.future.result()
                handler(result if isinstance(result, list) else [result])


class ListenerManager(Manager):
    """panoramisk's Manager with our reconnect policy, logging and watchdog."""

    listener: ConnectionOwner

    def connect(self, run_forever=False, on_startup=None, on_shutdown=None):
        """Open the TCP connection (with a timeout: a black-holed PBX must not hang us)."""
        connection = asyncio.wait_for(
            self.loop.create_connection(
                self.config["protocol_factory"],
                self.config["host"],
                self.config["port"],
                ssl=self.config["ssl"],
            ),
            self.listener.connect_timeout,
        )
        task = self.loop.create_task(connection)
        task.add_done_callback(self.connection_made)
        return task

    def connection_made(self, f):  # called when the TCP connect finishes
        listener = self.listener
        if getattr(self, "protocol", None):
            self.protocol.close()
        try:
            transport, protocol = f.result()
        except (OSError, TimeoutError, asyncio.CancelledError) as exc:
            listener.on_connect_failed(exc)
            return
        self._connected = True
        self.protocol = protocol
        protocol.queue = None
        protocol.factory = self
        protocol.log = self.log
        protocol.config = self.config
        protocol.encoding = self.encoding = self.config["encoding"]
        self.responses = protocol.responses = {}
        self.authenticated = False
        self.authenticated_future = self.send_action(
            {
                "Action": "Login",
                "Username": self.config["username"],
                "Secret": self.config["secret"],
                "Events": self.config["events"],
            }
        )
        self.authenticated_future.add_done_callback(self.login)
        listener.on_transport_up(transport)

    def login(self, future):
        self.authenticated_future = None
        try:
            resp = future.result()
        except Exception as exc:  # connection closed before the answer
            self.listener.on_login_failed(str(exc) or exc.__class__.__name__)
            return False
        self.authenticated = bool(resp.success)
        if self.authenticated:
            self.listener.on_logged_in()
        else:
            self.listener.on_login_failed(resp.get("message") or "refused")
        return self.authenticated

    def ping(self):  # panoramisk's fire-and-forget ping is replaced by our watchdog
        return None

    def connection_lost(self, exc):
        self._connected = False
        self.authenticated = False
        # actions that never got an answer fail now instead of hanging (panoramisk would
        # re-send them after the next login, which for an Originate means a second call)
        while self.awaiting_actions:
            action = self.awaiting_actions.popleft()
            for fut in (action.future, action.__dict__.get("first_response")):
                if fut is not None and not fut.done():
                    fut.set_exception(ConnectionError("AMI connection lost"))
                    fut.add_done_callback(retrieve_exception)
        self.listener.on_connection_lost(exc)


def retrieve_exception(fut: asyncio.Future) -> None:
    if not fut.cancelled():
        fut.exception()
