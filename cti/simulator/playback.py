"""Serving a recorded AMI connection to a client at the recorded pace (divided by ``speed``)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from cti.simulator.channels import LiveChannels
from cti.simulator.session import ClientSession
from cti.simulator.transcripts import ConnectionScript, ScriptItem
from cti.simulator.wire import timestamp, with_action_id, with_stamp


class RecordingPlayer:
    """Sends a recording's events to one session; a held login snapshot waits for the client.

    ``send`` writes one event's bytes to a session (the server adds its junk there).
    """

    def __init__(
        self,
        live: LiveChannels,
        send: Callable[[ClientSession, bytes], None],
        *,
        speed: float,
        resync_wait: float,
        timestamps: bool,
    ) -> None:
        self.live = live
        self.send = send
        self.speed = speed
        self.resync_wait = resync_wait
        self.timestamps = timestamps
        self.events_sent = 0

    async def play(self, session: ClientSession, script: ConnectionScript) -> None:
        """The recording's events at their recorded times, then its recorded end.

        Time spent waiting for the client to ask for a held snapshot shifts the rest.
        """
        start = time.monotonic() - script.login_t / (self.speed or 1)
        shift = 0.0
        for item in script.items:
            if self.speed:
                await sleep_until(start + shift + item.t / self.speed)
            if session.closed:
                return
            if item.action is None:
                self._send_event(session, script, item)
            elif session.is_held(item):
                shift += await self._send_held_snapshot(session, item)
        await session.writer.drain()
        if self.speed:
            await sleep_until(start + shift + script.end_t / self.speed)

    def _stamp(self, script: ConnectionScript, item: ScriptItem) -> dict[str, str] | None:
        """Recorded events carry their recorded wall-clock time, so timings measured from a
        sped-up replay are the real ones."""
        if not self.timestamps:
            return None
        if script.connected_at is None:
            return timestamp()
        return timestamp(script.connected_at + item.t)

    def _send_event(
        self, session: ClientSession, script: ConnectionScript, item: ScriptItem
    ) -> None:
        self.live.track(item.messages[0])
        self.events_sent += 1
        self.send(session, with_stamp(item.raw, self._stamp(script, item)))

    async def _send_held_snapshot(self, session: ClientSession, item: ScriptItem) -> float:
        """Wait (bounded) until the client asks for this snapshot; send it with its ActionID.

        Returns the time spent waiting.
        """
        started = time.monotonic()
        action_id = await session.wait_for_request(item, self.resync_wait)
        if action_id is not None:
            self.live.track_snapshot(item)
            session.send(self._snapshot_bytes(session, item, action_id))
        return time.monotonic() - started

    def _snapshot_bytes(self, session: ClientSession, item: ScriptItem, action_id: str) -> bytes:
        raw = with_action_id(item.raw, item.action_id, action_id)
        script = session.script
        if not self.timestamps or script is None or script.connected_at is None:
            return raw
        stamp = timestamp(script.connected_at + item.t)
        return b"".join(
            with_stamp(block + b"\r\n\r\n", stamp)
            if block.startswith(b"Event:")
            else block + b"\r\n\r\n"
            for block in raw.split(b"\r\n\r\n")
            if block
        )


async def sleep_until(deadline: float) -> None:
    """Sleep until ``time.monotonic()`` reaches ``deadline`` (at once if it has)."""
    delay = deadline - time.monotonic()
    if delay > 0:
        await asyncio.sleep(delay)
