"""The simulated PBX: a real TCP server that speaks AMI like Asterisk.

It

* greets with the Asterisk banner and answers ``Login`` (configured credentials; anything else
  gets Asterisk's ``Authentication failed`` and the socket is closed, as Asterisk does), ``Ping``,
  ``Logoff``, ``CoreShowChannels`` and ``QueueStatus`` (from the calls live on the server now),
  ``Originate`` (queued, then the events of an outbound call; busy when the operator's phone is
  taken, or busy/no answer/error when configured so);
* replays recorded transcripts (:mod:`cti.simulator.transcripts`): only the event blocks, with
  the recorded pacing divided by ``speed``. A snapshot the recording took right after its login
  is held until the client asks for it and is sent with the client's ActionID. Each recorded
  connection is served to one TCP connection in turn; the server drops a connection when its
  recording ends and more follow, as the recording did;
* makes up calls (:mod:`cti.simulator.calls`) at a given rate; a phone in a call answers busy
  and a queue rings its free members only (:mod:`cti.simulator.phones`);
* offers fault hooks for tests: :meth:`AmiReplayServer.drop_connections`,
  :meth:`AmiReplayServer.stop_answering_ping`, ``garbage`` between events.

Every event updates the server's own channel table, so snapshots always match what was sent.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections import deque
from collections.abc import Coroutine, Sequence
from typing import Any

from cti.ami import ActionParser, AmiMessage
from cti.simulator.calls import CallFactory, SyntheticConfig
from cti.simulator.channels import LiveChannels
from cti.simulator.legs import Timeline
from cti.simulator.originate import originate_call, originated_extension
from cti.simulator.phones import Phones, phone_of
from cti.simulator.playback import RecordingPlayer, sleep_until
from cti.simulator.session import ClientSession
from cti.simulator.transcripts import ConnectionScript, recorded_queue_members, renumbered
from cti.simulator.wire import BANNER, junk, render, timestamp

log = logging.getLogger("callcard.cti.simulator")

#: actions our listener sends right after login: a recorded answer to them is held for it
RESYNC_ACTIONS = ("coreshowchannels", "queuestatus")


class AmiReplayServer:
    """See the module docstring. Start with ``await server.start()``; ``server.port`` is bound."""

    def __init__(
        self,
        scripts: Sequence[ConnectionScript] = (),
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        username: str = "crm",
        secret: str = "secret",
        speed: float = 1.0,
        loop: bool = False,
        timestamps: bool = False,
        synthetic_rate: float = 0.0,
        synthetic_calls: int | None = None,
        synthetic: SyntheticConfig | None = None,
        originate_mode: str = "answer",
        garbage: float = 0.0,
        seed: int | None = None,
        resync_wait: float = 3.0,
        drop_linger: float = 0.3,
    ) -> None:
        self.drop_linger = drop_linger
        self.host = host
        self.port = port
        self.username = username
        self.secret = secret
        self.speed = speed
        self.loop = loop
        self.timestamps = timestamps
        self.synthetic_rate = synthetic_rate
        self.synthetic_calls = synthetic_calls
        self.factory = CallFactory(synthetic, seed=seed)
        self.originate_mode = originate_mode  # answer | busy | noanswer | error
        self.garbage = garbage  # probability of junk before each event
        self.random = random.Random(seed)
        self._all_scripts = list(scripts)
        self._scripts: deque[ConnectionScript] = deque(scripts)
        self._round = 0
        self.sessions: set[ClientSession] = set()
        self.live = LiveChannels()
        self.phones = Phones()
        # a recording's PBX has the queues its own QueueStatus answers showed, if any
        self.queue_members = recorded_queue_members(scripts) if scripts else self._config_queues()
        self.player = RecordingPlayer(
            self.live, self._send_event, speed=speed, resync_wait=resync_wait, timestamps=timestamps
        )
        self._broadcasts = 0
        self.logins = 0
        self.login_failures = 0
        self.finished = asyncio.Event()  # all scripts played (and synthetic quota reached)
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task] = set()
        self._generator: asyncio.Task | None = None
        self._t0 = time.monotonic()

    def _config_queues(self) -> dict[str, list[str]]:
        config = self.factory.config
        return {config.queue: [f"PJSIP/{e}" for e in config.queue_members]}

    @property
    def events_sent(self) -> int:
        """Events sent so far (made-up and recorded), each counted once whoever got it."""
        return self._broadcasts + self.player.events_sent

    # ------------------------------------------------------------------ lifecycle
    async def start(self) -> AmiReplayServer:
        self._server = await asyncio.start_server(self._handle, self.host, self.port)
        self.port = self._server.sockets[0].getsockname()[1]
        if self.synthetic_rate > 0:
            self._generator = asyncio.ensure_future(self._generate())
        elif not self._scripts:
            self.finished.set()
        log.info("AMI replay server on %s:%s", self.host, self.port)
        return self

    async def stop(self) -> None:
        if self._generator is not None:
            self._generator.cancel()
        for task in list(self._tasks):
            task.cancel()
        for session in list(self.sessions):
            session.abort()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def __aenter__(self) -> AmiReplayServer:
        return await self.start()

    async def __aexit__(self, *_exc: object) -> None:
        await self.stop()

    # ------------------------------------------------------------------ fault hooks
    def drop_connections(self) -> int:
        """Cut every client connection now (no Logoff), like a network failure."""
        count = 0
        for session in list(self.sessions):
            session.abort()
            count += 1
        return count

    def stop_answering_ping(self) -> None:
        """Current connections go silent both ways (half-open TCP); new ones work normally."""
        for session in self.sessions:
            session.muted = True

    def send_unending_event(self, every_s: float = 0.2) -> None:
        """Current connections get an event that never ends: its lines keep coming, its blank
        line never does, and nothing else is answered (a stuck writer on the PBX side)."""

        async def trickle(session: ClientSession) -> None:
            session.send(b"Event: VarSet\r\nChannel: PJSIP/101-00000001\r\n")
            session.muted = True
            n = 0
            while not session.closed and not session.writer.is_closing():
                n += 1
                session.send_raw(f"Variable: STUCK_{n}\r\n".encode())
                await asyncio.sleep(every_s)

        for session in list(self.sessions):
            self._spawn(trickle(session))

    # ------------------------------------------------------------------ sending events
    def _spawn(self, coro: Coroutine[Any, Any, Any]) -> asyncio.Task:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    def _send_event(self, session: ClientSession, data: bytes) -> None:
        if self.garbage and self.random.random() < self.garbage:
            session.send(junk(self.random))
        session.send(data)

    def broadcast(self, fields: dict[str, str]) -> None:
        """Send one event to every logged-in client (as Asterisk does)."""
        self.live.track(fields)
        self.phones.follow(fields)
        data = render(fields, timestamp() if self.timestamps else None)
        self._broadcasts += 1
        for session in self.sessions:
            if session.authenticated:
                self._send_event(session, data)

    async def play_call(self, timeline: Timeline) -> None:
        """Send a call's events at their times (divided by ``speed``)."""
        start = time.monotonic()
        for t, fields in sorted(timeline, key=lambda p: p[0]):
            if self.speed:
                await sleep_until(start + t / self.speed)
            self.broadcast(fields)

    # ------------------------------------------------------------------ made-up calls
    def start_call(self, kind: str | None = None, **kw: Any) -> str:
        """Start one call now; returns its Linkedid.

        Without ``kind`` the simulator makes the call up and the phones decide how it goes, as
        on a PBX: a direct call to a phone in a call answers busy, a queue rings its free members
        only. With a ``kind`` (``direct_answered``, ``queue_abandoned``, ...; see
        :mod:`cti.simulator.calls`) the call is scripted and goes as asked, whoever else is
        calling: tests tell their story with it. Either way it holds the phones it rings.
        """
        if kind is None:
            kind, kw = self._route_call(kw)
        linkedid, timeline = self.factory.make(kind, **kw)
        self._play(linkedid, timeline)
        return linkedid

    def _route_call(self, kw: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        """A made-up call's kind and the phones it may ring, given which phones are free."""
        kind = self.factory.pick_kind()
        if kind.startswith("queue"):
            return kind, {**kw, "members": self.phones.free(self.factory.config.queue_members)}
        ext = kw.get("extension") or self.factory.pick_extension()
        if not self.phones.is_free(ext):
            kind = "direct_in_use"
        return kind, {**kw, "extension": ext}

    def _play(self, linkedid: str, timeline: Timeline) -> None:
        self.phones.take(linkedid, timeline)
        self._spawn(self.play_call(timeline))

    async def _generate(self) -> None:
        """Synthetic calls at ``synthetic_rate`` calls/s (Poisson arrivals)."""
        started = 0
        while self.synthetic_calls is None or started < self.synthetic_calls:
            # a simulator makes calls for someone: wait until a client is logged in
            while not any(s.authenticated for s in self.sessions):
                await asyncio.sleep(0.05)
            self.start_call()
            started += 1
            await asyncio.sleep(self.random.expovariate(self.synthetic_rate))
        while self._tasks:
            await asyncio.sleep(0.05)
        self.finished.set()

    # ------------------------------------------------------------------ connections
    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        session = ClientSession(reader, writer)
        self.sessions.add(session)
        parser = ActionParser()
        try:
            writer.write(f"{BANNER}\r\n".encode())
            while not session.closed and not session.writer.is_closing():
                data = await reader.read(65536)
                if not data:
                    break
                if session.muted:
                    continue
                for action in parser.feed(data):
                    await self._action(session, action)
                    if session.closed:
                        break
                await writer.drain()
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            session.closed = True
            self.sessions.discard(session)
            if session.player is not None and not session.player.done():
                session.player.cancel()
            if not writer.is_closing():
                writer.close()

    @staticmethod
    def _respond(session: ClientSession, action: AmiMessage, fields: dict[str, str]) -> None:
        out = {"Response": fields.pop("Response", "Success")}
        if "actionid" in action:
            out["ActionID"] = action["actionid"]
        out.update(fields)
        session.send(render(out))

    async def _action(self, session: ClientSession, action: AmiMessage) -> None:
        name = action.get("action", "").strip().lower()
        if name == "login":
            await self._login(session, action)
        elif name == "logoff":
            goodbye = {"Response": "Goodbye", "Message": "Thanks for all the fish."}
            self._respond(session, action, goodbye)
            await session.writer.drain()
            session.writer.close()
            session.closed = True
        elif not session.authenticated:
            self._respond(session, action, {"Response": "Error", "Message": "Permission denied"})
        elif name == "ping":
            self._respond(session, action, {"Ping": "Pong", "Timestamp": f"{time.time():.6f}"})
        elif name in RESYNC_ACTIONS:
            if not session.ask_recording(name, action):
                self._answer_list(session, name, action)
        elif name == "originate":
            self._originate(session, action)
        else:
            unknown = {"Response": "Error", "Message": "Invalid/unknown command"}
            self._respond(session, action, unknown)

    def _next_script(self) -> ConnectionScript | None:
        """The recording the next connection is served (looped recordings are new calls)."""
        if not self._scripts and self.loop and self._all_scripts:
            self._round += 1
            self._scripts.extend(renumbered(s, self._round) for s in self._all_scripts)
        return self._scripts.popleft() if self._scripts else None

    async def _login(self, session: ClientSession, action: AmiMessage) -> None:
        script = self._next_script()
        ok = action.get("username") == self.username and action.get("secret") == self.secret
        if not ok or (script is not None and not script.login_ok):
            # a refused login, or the recording is of one
            await self._refuse_login(session, action, script)
            return
        self.logins += 1
        session.authenticated = True
        self._respond(session, action, {"Message": "Authentication accepted"})
        uptime = str(int(time.monotonic() - self._t0))
        booted = {"Event": "FullyBooted", "Privilege": "system,all", "Uptime": uptime}
        session.send(render({**booted, "LastReload": uptime, "Status": "Fully Booted"}))
        if script is not None:
            session.script = script
            session.hold_snapshots(script, RESYNC_ACTIONS)
            session.player = self._spawn(self._play_script(session, script))

    async def _refuse_login(
        self, session: ClientSession, action: AmiMessage, script: ConnectionScript | None
    ) -> None:
        self.login_failures += 1
        self._respond(session, action, {"Response": "Error", "Message": "Authentication failed"})
        await session.writer.drain()
        # Asterisk closes the socket (FIN, not a reset: the client reads the answer first)
        session.closed = True
        session.writer.close()
        if script is not None and not self._scripts:
            self.finished.set()

    def _answer_list(self, session: ClientSession, name: str, action: AmiMessage) -> None:
        """``CoreShowChannels``/``QueueStatus`` from the calls live on the server now."""
        action_id = {"ActionID": action["actionid"]} if "actionid" in action else {}
        if name == "coreshowchannels":
            session.send(self.live.core_show_channels(action_id))
        else:
            session.send(self.live.queue_status(self.queue_members, self._member_status, action_id))

    def _member_status(self, interface: str) -> str:
        ext = phone_of(interface)
        return self.phones.device_status(ext) if ext else "1"

    def _originate(self, session: ClientSession, action: AmiMessage) -> None:
        linkedid, timeline = None, []
        if self.originate_mode != "error":
            linkedid, timeline = originate_call(self.factory, action, self._originate_mode(action))
        if linkedid is None or not timeline:
            self._respond(session, action, {"Response": "Error", "Message": "Originate failed"})
            return
        self._respond(session, action, {"Message": "Originate successfully queued"})
        self._play(linkedid, timeline)

    def _originate_mode(self, action: AmiMessage) -> str:
        """How the operator's phone takes the Originate: a phone in a call answers busy."""
        ext = originated_extension(action)
        if self.originate_mode == "answer" and ext is not None and not self.phones.is_free(ext):
            return "busy"
        return self.originate_mode

    # ------------------------------------------------------------------ transcripts
    async def _play_script(self, session: ClientSession, script: ConnectionScript) -> None:
        try:
            await self.player.play(session, script)
        except (ConnectionError, asyncio.CancelledError):
            return
        finally:
            if not self._scripts and not self.loop and self.synthetic_rate <= 0:
                self.finished.set()
        if (self._scripts or self.loop) and not session.closed:
            # the recording ended with a dropped connection: let the client read what was
            # sent, then cut it (no Logoff), as the recording did
            await asyncio.sleep(self.drop_linger)
            log.info("recording %s ended; dropping the connection as it did", script.transcript)
            session.abort()
