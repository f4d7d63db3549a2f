"""One client's AMI connection to the simulated PBX."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque

from cti.ami import AmiMessage
from cti.simulator.transcripts import ConnectionScript, ScriptItem


class ClientSession:
    """A TCP client: its login, the recording it is served, and fault-hook states."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.authenticated = False
        self.muted = False  # half-open simulation: nothing in, nothing out
        self.player: asyncio.Task | None = None
        self.script: ConnectionScript | None = None
        self.requested: dict[str, deque[str]] = {}  # action -> ActionIDs waiting for a recording
        self.snapshots: dict[str, deque[ScriptItem]] = {}  # recorded login snapshots not sent yet
        self.request_event = asyncio.Event()
        self.closed = False

    def send(self, data: bytes) -> None:
        if self.closed or self.muted or self.writer.is_closing():
            return
        self.writer.write(data)

    def send_raw(self, data: bytes) -> None:
        """Write even while muted (a fault hook that keeps some bytes coming)."""
        if not self.closed and not self.writer.is_closing():
            self.writer.write(data)

    def abort(self) -> None:
        """Cut the connection (no FIN handshake), like a network failure."""
        self.closed = True
        transport = self.writer.transport
        if transport is not None:
            transport.abort()

    def hold_snapshots(self, script: ConnectionScript, actions: tuple[str, ...]) -> None:
        """Keep the recording's login snapshots of ``actions`` until the client asks."""
        for item in script.items:
            if item.leading and item.action in actions:
                self.snapshots.setdefault(item.action, deque()).append(item)

    def is_held(self, item: ScriptItem) -> bool:
        return item in self.snapshots.get(item.action or "", ())

    def ask_recording(self, name: str, action: AmiMessage) -> bool:
        """The client asks for a list a held snapshot answers: queue its ActionID."""
        if not self.snapshots.get(name):
            return False
        self.requested.setdefault(name, deque()).append(action.get("actionid", ""))
        self.request_event.set()
        return True

    async def wait_for_request(self, item: ScriptItem, timeout: float) -> str | None:
        """The ActionID the client asked for this held snapshot with; None after ``timeout``.

        Either way the snapshot is no longer held.
        """
        action = item.action or ""
        deadline = time.monotonic() + timeout
        while not self.requested.get(action):
            remaining = deadline - time.monotonic()
            if remaining <= 0 or self.closed:
                self.snapshots[action].remove(item)
                return None
            self.request_event.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.request_event.wait(), remaining)
        self.snapshots[action].remove(item)
        return self.requested[action].popleft()
