"""The AMI replay server speaks AMI like Asterisk: raw sockets, plain panoramisk, the CLI."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time

import pytest
from panoramisk import Manager

from cti.ami import FrameParser, iter_messages
from cti.listener import AmiListener
from cti.simulator.calls import synthetic_stream
from cti.simulator.server import AmiReplayServer
from cti.simulator.transcripts import load_scenario, scripts_for
from tests.conftest import ROOT, free_port
from tests.cti.ami_harness import TRACES, ami_settings


class Client:
    """A bare AMI client on a socket: what Asterisk's wire format looks like from outside."""

    def __init__(self, reader, writer):
        self.reader, self.writer = reader, writer
        self.parser = FrameParser()
        self.pending: list = []

    @classmethod
    async def open(cls, port: int) -> Client:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        return cls(reader, writer)

    async def send(self, **fields: str) -> None:
        self.writer.write(("".join(f"{k}: {v}\r\n" for k, v in fields.items()) + "\r\n").encode())
        await self.writer.drain()

    async def next(self, timeout: float = 5.0):
        while not self.pending:
            data = await asyncio.wait_for(self.reader.read(65536), timeout)
            if not data:
                raise EOFError
            self.pending.extend(self.parser.feed(data))
        return self.pending.pop(0)

    async def until(self, predicate, timeout: float = 5.0) -> list:
        seen = []
        while True:
            msg = await self.next(timeout)
            seen.append(msg)
            if predicate(msg):
                return seen

    async def login(self, secret: str = "secret") -> None:
        await self.send(Action="Login", ActionID="L1", Username="crm", Secret=secret)
        reply = await self.next()
        assert reply["response"] == "Success", reply

    async def closed(self) -> bool:
        try:
            while True:
                data = await asyncio.wait_for(self.reader.read(65536), 3)
                if not data:
                    return True
        except (ConnectionError, TimeoutError):
            return False


async def test_banner_login_ping_logoff():
    async with AmiReplayServer() as server:
        client = await Client.open(server.port)
        await client.login()
        booted = await client.next()
        assert booted["event"] == "FullyBooted"
        assert client.parser.version == "11.0.0"
        await client.send(Action="Ping", ActionID="p1")
        pong = await client.next()
        assert (pong["response"], pong["ping"], pong["actionid"]) == ("Success", "Pong", "p1")
        await client.send(Action="Logoff", ActionID="bye")
        goodbye = await client.next()
        assert goodbye["response"] == "Goodbye" and goodbye["message"] == "Thanks for all the fish."
        assert await client.closed()


async def test_wrong_secret_gets_asterisks_answer_and_the_socket_closes():
    async with AmiReplayServer() as server:
        client = await Client.open(server.port)
        await client.send(Action="Login", ActionID="x", Username="crm", Secret="nope")
        reply = await client.next()
        assert dict(reply) == {
            "response": "Error",
            "actionid": "x",
            "message": "Authentication failed",
        }
        assert await client.closed()
        assert server.login_failures == 1


async def test_actions_before_login_are_refused_and_unknown_actions_are_errors():
    async with AmiReplayServer() as server:
        client = await Client.open(server.port)
        await client.send(Action="CoreShowChannels", ActionID="c")
        assert (await client.next())["message"] == "Permission denied"
        await client.login()
        await client.send(Action="Frobnicate", ActionID="f")
        reply = await client.until(lambda m: m.get("actionid") == "f")
        assert reply[-1]["response"] == "Error"


async def test_snapshots_list_the_live_calls():
    async with AmiReplayServer(seed=1) as server:
        client = await Client.open(server.port)
        await client.login()
        linkedid = server.start_call("queue_answered", ring_s=5, talk_s=5)
        await client.until(lambda m: m.get("event") == "AgentCalled")
        await client.send(Action="CoreShowChannels", ActionID="s1")
        listing = await client.until(lambda m: m.get("event") == "CoreShowChannelsComplete")
        start = next(m for m in listing if m.get("actionid") == "s1" and "response" in m)
        assert start["eventlist"] == "start"
        items = [m for m in listing if m.get("event") == "CoreShowChannel"]
        assert {m["linkedid"] for m in items} == {linkedid} and len(items) == 3
        assert all(m["actionid"] == "s1" for m in items)
        assert listing[-1]["listitems"] == "3" and listing[-1]["eventlist"] == "Complete"
        await client.send(Action="QueueStatus", ActionID="q1")
        queue = await client.until(lambda m: m.get("event") == "QueueStatusComplete")
        entries = [m for m in queue if m.get("event") == "QueueEntry"]
        assert [(e["queue"], e["uniqueid"]) for e in entries] == [("support", linkedid)]
        assert {m["name"] for m in queue if m.get("event") == "QueueMember"} == {
            "PJSIP/101",
            "PJSIP/102",
        }


async def test_plain_panoramisk_connects_as_to_asterisk():
    async with AmiReplayServer(seed=2) as server:
        manager = Manager(
            host="127.0.0.1",
            port=server.port,
            username="crm",
            secret="secret",
            loop=asyncio.get_running_loop(),
            ping_delay=60,
        )
        booted = asyncio.Event()
        manager.register_event("FullyBooted", lambda m, e: booted.set())
        seen = []
        manager.register_event("Hangup", lambda m, e: seen.append(e.linkedid))
        await manager.connect()
        await asyncio.wait_for(booted.wait(), 5)
        pong = await asyncio.wait_for(manager.send_action({"Action": "Ping"}), 5)
        assert pong.ping == "Pong"
        linkedid = server.start_call("direct_busy", ring_s=0.05)
        channels = await asyncio.wait_for(manager.send_action({"Action": "CoreShowChannels"}), 5)
        assert channels[-1].event == "CoreShowChannelsComplete"
        for _ in range(100):
            if len(seen) == 2:
                break
            await asyncio.sleep(0.02)
        assert seen == [linkedid, linkedid]
        manager.close()


async def test_a_transcript_is_replayed_event_for_event():
    path = TRACES / "01-direct-answered.ami"
    (script,) = scripts_for([path])
    async with AmiReplayServer([script], speed=0) as server:
        client = await Client.open(server.port)
        await client.login()
        received = []
        try:
            while True:
                received.append(await client.next(timeout=1))
        except TimeoutError:
            pass
    recorded = [
        dict(m)
        for m in iter_messages(path.read_bytes())
        if "event" in m and m["event"] not in ("FullyBooted", "SuccessfulAuth")
    ]
    events = [dict(m) for m in received if m.get("event") != "FullyBooted"]
    assert events == recorded and len(events) == 114


async def test_recorded_pacing_is_kept_divided_by_speed():
    path = TRACES / "02-direct-missed.json"
    (scripts,) = load_scenario(path)
    last_event_t = max(i.t for i in scripts[0].items if i.action is None)
    async with AmiReplayServer(scripts, speed=10) as server:
        client = await Client.open(server.port)
        started = time.monotonic()
        await client.login()
        await client.until(
            lambda m: (
                m.get("event") == "Hangup"
                and m["channel"].endswith(";2")
                and m["channel"].startswith("Local/0213")
            )
        )
        elapsed = time.monotonic() - started
    # the caller gave up after ~5 s in the recording: ~0.5 s at speed 10, not at once
    assert elapsed >= 0.5 * 5 / 10
    assert elapsed < last_event_t  # and much faster than the recording


async def test_loop_replays_recordings_as_new_calls():
    path = TRACES / "pjsip" / "P01-direct-answered.json"
    (scripts,) = load_scenario(path)
    ended: list[str] = []
    async with AmiReplayServer(scripts, speed=50, loop=True, drop_linger=0.05) as server:
        listener = AmiListener(
            ami_settings(server.port),
            on_event=lambda kind, call, ext: (
                ended.append(call.call_id) if kind == "ended" else None
            ),
            reconnect_min=0.05,
        )
        await listener.start()
        for _ in range(300):
            if len(ended) >= 2:
                break
            await asyncio.sleep(0.02)
        await listener.stop()
    assert len(ended) >= 2 and len(set(ended)) == len(ended)


def test_synthetic_stream_is_valid_ami():
    data = synthetic_stream(50, seed=3)
    msgs = list(iter_messages(data))
    assert len({m["linkedid"] for m in msgs if m.get("event") == "Newchannel"}) == 50
    assert all("event" in m for m in msgs)


def test_cli_rejects_a_missing_transcript():
    result = subprocess.run(
        [sys.executable, "-c", "from callcard.cli import app; app()", "ami-replay", "nope.ami"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "does not exist" in result.stderr


async def test_cli_serves_a_recording_to_the_listener():
    port = free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from callcard.cli import app; app()",
            "ami-replay",
            str(TRACES / "pjsip" / "P04-queue-ringall-101-answers.ami"),
            "--port",
            str(port),
            "--speed",
            "20",
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    ended = []
    try:
        listener = AmiListener(
            ami_settings(port),
            on_event=lambda kind, call, ext: ended.append(call) if kind == "ended" else None,
            reconnect_min=0.2,
        )
        await listener.start()
        for _ in range(600):
            if ended:
                break
            await asyncio.sleep(0.05)
        await listener.stop()
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
    assert ended, proc.stdout.read().decode() if proc.stdout else ""
    (call,) = ended
    assert call.rang == ["101", "102"] and call.answered_by == "101"
    assert call.remote_number == "+40741112233" and call.queue == "support"


@pytest.mark.parametrize(
    "kind", ["direct_answered", "direct_missed", "direct_busy", "queue_answered", "queue_abandoned"]
)
def test_synthetic_calls_look_like_the_recordings(kind):
    """Each synthetic kind is tracked with the outcome it was made for."""
    from callcard.settings import Settings
    from cti.simulator.calls import CallFactory, SyntheticConfig
    from cti.tracker.tracker import CallTracker

    factory = CallFactory(
        SyntheticConfig(numbers=["+40721234567"], unknown_share=0, withheld_share=0), seed=4
    )
    linkedid, timeline = factory.make(kind)
    ended = []
    tracker = CallTracker(
        Settings(), on_event=lambda k, c, e: ended.append(c) if k == "ended" else None
    )
    for _t, fields in sorted(timeline, key=lambda p: p[0]):
        tracker.feed(fields)
    (call,) = ended
    assert call.call_id == linkedid and call.remote_number == "+40721234567"
    assert (
        call.disposition
        == {
            "direct_answered": "answered",
            "direct_missed": "missed",
            "direct_busy": "busy",
            "queue_answered": "answered",
            "queue_abandoned": "abandoned",
        }[kind]
    )


async def test_cli_makes_synthetic_calls_from_the_given_numbers():
    port = free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from callcard.cli import app; app()",
            "ami-replay",
            "--synthetic",
            "20",
            "--calls",
            "4",
            "--speed",
            "50",
            "--number",
            "+40744333444",
            "--port",
            str(port),
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    ended = []
    try:
        listener = AmiListener(
            ami_settings(port),
            on_event=lambda kind, call, ext: ended.append(call) if kind == "ended" else None,
            reconnect_min=0.1,
        )
        await listener.start()
        await listener.wait_logged_in(60)
        for _ in range(1200):
            if len(ended) >= 4:
                break
            await asyncio.sleep(0.05)
        await listener.stop()
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
    # the simulator waits for a logged-in client, so every call is seen
    assert len(ended) == 4, [c.summary() for c in ended]
    for call in ended:
        # the given number, an unknown Romanian mobile or Bucharest landline, or a withheld caller
        assert (
            call.withheld
            or call.remote_number == "+40744333444"
            or (call.remote_e164 and call.remote_e164.startswith(("+407", "+4021")))
        )
        assert call.disposition in ("answered", "missed", "busy", "abandoned")
