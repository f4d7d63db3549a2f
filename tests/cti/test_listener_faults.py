"""The listener against a misbehaving PBX: dropped connections, silent Pings, garbage, bad logins.

After every fault, calls that start afterwards are tracked and no call is reported ended twice.
Everything runs over real TCP against the AMI replay server.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter

import pytest

from cti.listener import AmiListener
from cti.simulator.server import AmiReplayServer
from cti.tracker.call import TrackedCall
from tests.conftest import free_port
from tests.cti.ami_harness import ami_settings


class Calls:
    """Collects tracker callbacks."""

    def __init__(self) -> None:
        self.events: list[tuple[str, str, str | None]] = []
        self.ended: dict[str, TrackedCall] = {}

    def __call__(self, kind: str, call: TrackedCall, ext: str | None) -> None:
        self.events.append((kind, call.call_id, ext))
        if kind == "ended":
            self.ended[call.call_id] = call

    def ended_counts(self) -> Counter:
        return Counter(cid for kind, cid, _e in self.events if kind == "ended")


async def until(predicate, timeout: float = 10.0, what: str = "condition") -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)


def make_listener(port: int, calls: Calls, **kw) -> AmiListener:
    settings = ami_settings(port, **kw.pop("settings", {}))
    kw.setdefault("reconnect_min", 0.1)
    kw.setdefault("reconnect_max", 0.4)
    return AmiListener(settings, on_event=calls, **kw)


async def test_no_host_means_no_listener():
    listener = AmiListener(ami_settings(5038, ami_host=""))
    await listener.start()
    assert not listener.enabled and listener.manager is None and not listener.connected
    await listener.stop()


async def test_connection_dropped_mid_call_and_back():
    calls = Calls()
    async with AmiReplayServer(seed=1) as server:
        # reconnecting takes 0.6 s: B is answered while the listener is away
        listener = make_listener(server.port, calls, reconnect_min=0.6, reconnect_max=1.0)
        await listener.start()
        await listener.wait_logged_in()
        # A: answered before the drop, ends after the reconnect
        a = server.start_call("direct_answered", extension="101", ring_s=0.2, talk_s=1.5)
        # B: ringing at the drop, answered during the gap, ends after the reconnect
        await until(lambda: ("answered", a, "101") in calls.events, what="A answered")
        b = server.start_call("direct_answered", extension="102", ring_s=0.3, talk_s=1.5)
        await until(lambda: ("ringing", b, "102") in calls.events, what="B ringing")
        assert server.drop_connections() == 1
        await until(lambda: listener.status()["logins"] == 2, what="reconnect")
        await until(lambda: {a, b} <= set(calls.ended), what="A and B ended")
        # C: after the fault
        c = server.start_call("queue_answered", ring_s=0.2, talk_s=0.2)
        await until(lambda: c in calls.ended, what="C ended")
        await listener.stop()
    assert calls.ended[a].answered_by == "101" and calls.ended[a].disposition == "answered"
    assert calls.ended[b].answered_by == "102" and calls.ended[b].disposition == "answered"
    assert calls.ended[c].disposition == "answered" and calls.ended[c].queue == "support"
    assert set(calls.ended_counts().values()) == {1}
    assert listener.status()["disconnects"] == 1 and listener.resyncs == 2


async def test_call_that_starts_during_the_gap_is_picked_up_as_partial():
    calls = Calls()
    async with AmiReplayServer(seed=2) as server:
        listener = make_listener(server.port, calls, reconnect_min=0.5)
        await listener.start()
        await listener.wait_logged_in()
        server.drop_connections()
        a = server.start_call("direct_answered", extension="103", ring_s=0.1, talk_s=1.5)
        await until(lambda: a in calls.ended, what="A ended")
        await listener.stop()
    call = calls.ended[a]
    assert call.partial and call.answered_by == "103" and call.remote_number
    assert calls.ended_counts()[a] == 1


async def test_pbx_stops_answering_ping(caplog):
    caplog.set_level(logging.WARNING, logger="callcard.cti.listener")
    calls = Calls()
    async with AmiReplayServer(seed=3) as server:
        listener = make_listener(server.port, calls, ping_interval=0.2, ping_timeout=0.3)
        await listener.start()
        await listener.wait_logged_in()
        a = server.start_call("direct_answered", extension="101", ring_s=0.1, talk_s=2.0)
        await until(lambda: ("answered", a, "101") in calls.events, what="A answered")
        server.stop_answering_ping()  # half-open: nothing in, nothing out
        await until(lambda: listener.status()["logins"] == 2, what="watchdog reconnect")
        assert "did not answer Ping" in caplog.text
        await until(lambda: a in calls.ended, what="A ended")
        b = server.start_call("direct_missed", extension="102", ring_s=0.2)
        await until(lambda: b in calls.ended, what="B ended")
        await listener.stop()
    assert calls.ended[a].disposition == "answered"
    assert calls.ended[b].disposition == "missed" and calls.ended[b].rang == ["102"]
    assert set(calls.ended_counts().values()) == {1}


async def test_an_event_that_never_ends_is_caught_before_the_ping_watchdog(caplog):
    """Lines keep coming but the blank line never does: the Pong is hidden behind the stuck
    message, so only the Ping watchdog (interval + timeout = 15 s by default) would notice."""
    caplog.set_level(logging.WARNING, logger="callcard.cti.listener")
    calls = Calls()
    async with AmiReplayServer(seed=8) as server:
        listener = make_listener(server.port, calls)  # the default Ping: every 10 s, 5 s timeout
        assert listener.ping_interval + listener.ping_timeout >= 15
        await listener.start()
        await listener.wait_logged_in()
        a = server.start_call("direct_answered", extension="101", ring_s=0.1, talk_s=3.0)
        await until(lambda: ("answered", a, "101") in calls.events, what="A answered")
        loop = asyncio.get_running_loop()
        stuck_at = loop.time()
        server.send_unending_event()
        await until(lambda: listener.status()["logins"] == 2, timeout=8, what="reconnect")
        caught_after = loop.time() - stuck_at
        assert "AMI message never ended" in caplog.text
        assert caught_after < listener.message_stall_timeout + 2 < 15
        await until(lambda: a in calls.ended, what="A ended")
        b = server.start_call("direct_missed", extension="102", ring_s=0.2)
        await until(lambda: b in calls.ended, what="B ended")
        await listener.stop()
    assert calls.ended[a].disposition == "answered"
    assert set(calls.ended_counts().values()) == {1}


async def test_garbage_between_events():
    calls = Calls()
    async with AmiReplayServer(seed=4, garbage=0.3) as server:
        listener = make_listener(server.port, calls)
        await listener.start()
        await listener.wait_logged_in()
        started = {}
        for kind in [
            "direct_answered",
            "direct_missed",
            "direct_busy",
            "queue_answered",
            "queue_abandoned",
        ] * 3:
            started[server.start_call(kind, ring_s=0.1, talk_s=0.2)] = kind
            await asyncio.sleep(0.02)
        await until(lambda: set(started) <= set(calls.ended), what="all calls ended")
        assert listener.connected  # garbage never cost the connection
        parser = listener.manager.protocol.parser
        await listener.stop()
    assert parser.stats.bad_lines + parser.stats.skipped_blocks + parser.stats.oversized > 0
    expected = {
        "direct_answered": "answered",
        "direct_missed": "missed",
        "direct_busy": "busy",
        "queue_answered": "answered",
        "queue_abandoned": "abandoned",
    }
    for linkedid, kind in started.items():
        assert calls.ended[linkedid].disposition == expected[kind], kind
    assert set(calls.ended_counts().values()) == {1}


async def test_utf8_name_split_across_tcp_reads():
    calls = Calls()
    async with AmiReplayServer(seed=5) as server:
        listener = make_listener(server.port, calls)
        await listener.start()
        await listener.wait_logged_in()
        (session,) = server.sessions
        data = (
            "Event: Newchannel\r\nChannel: PJSIP/trunk-0000aa01\r\nUniqueid: 55.1\r\n"
            "Linkedid: 55.1\r\nContext: from-pstn\r\nExten: 0213100101\r\n"
            "CallerIDNum: +40721234567\r\nCallerIDName: Ștefan Rusu\r\n\r\n"
        ).encode()
        cut = data.index("Ș".encode()) + 1
        session.send(data[:cut])
        await session.writer.drain()
        await asyncio.sleep(0.1)  # two TCP reads for sure
        session.send(data[cut:])
        await until(lambda: "55.1" in listener.tracker.calls, what="call tracked")
        assert listener.tracker.calls["55.1"].remote_name == "Ștefan Rusu"
        await listener.stop()


async def test_wrong_password_one_clear_line_per_attempt_and_backoff(caplog):
    caplog.set_level(logging.INFO, logger="callcard.cti")
    calls = Calls()
    async with AmiReplayServer(seed=6) as server:
        listener = make_listener(
            server.port,
            calls,
            settings={"ami_secret": "wrong"},
            reconnect_min=0.05,
            reconnect_max=0.4,
        )
        await listener.start()
        await until(lambda: server.login_failures >= 4, what="4 refused logins")
        failures = server.login_failures
        refused_lines = [r for r in caplog.records if "refused" in r.getMessage()]
        assert len(refused_lines) in (failures, failures - 1)  # the last one may be in flight
        assert all(r.levelno == logging.ERROR for r in refused_lines)
        assert "Authentication failed" in refused_lines[0].getMessage()
        assert "CALLCARD_AMI_USERNAME/SECRET" in refused_lines[0].getMessage()
        # no other noise per attempt: no "connection lost" lines for refused logins
        assert not [
            r for r in caplog.records if "connection" in r.getMessage() and "lost" in r.getMessage()
        ]
        # the wait between attempts grows
        delays = [
            float(r.getMessage().rsplit("retrying in ", 1)[1].split()[0]) for r in refused_lines
        ]
        assert delays[:4] == sorted(delays[:4]) and delays[3] > delays[0]
        # the admin fixes the secret: the next attempt logs in and calls are tracked
        listener.secret = "secret"
        listener.manager.config["secret"] = "secret"
        await listener.wait_logged_in(5)
        a = server.start_call("direct_answered", extension="101", ring_s=0.1, talk_s=0.1)
        await until(lambda: a in calls.ended, what="call after login")
        await listener.stop()


async def test_pbx_down_then_up(caplog):
    caplog.set_level(logging.WARNING, logger="callcard.cti.listener")
    port = free_port()
    calls = Calls()
    listener = make_listener(port, calls, reconnect_min=0.05, reconnect_max=0.2)
    await listener.start()
    await until(lambda: listener.connect_failures >= 3, what="3 failed connects")
    assert "unreachable" in caplog.text
    async with AmiReplayServer(port=port, seed=7) as server:
        await listener.wait_logged_in(5)
        a = server.start_call("direct_missed", extension="101", ring_s=0.1)
        await until(lambda: a in calls.ended, what="call tracked")
        await listener.stop()
    assert calls.ended[a].disposition == "missed"


async def test_originate_always_async_and_tracked_as_outbound():
    calls = Calls()
    seen: list[dict] = []
    async with AmiReplayServer(seed=8) as server:
        original = server._originate

        def spy(session, action):
            seen.append(dict(action))
            original(session, action)

        server._originate = spy
        listener = make_listener(server.port, calls)
        await listener.start()
        await listener.wait_logged_in()
        # the click-to-call path sends a plain dict without Async: it must be added
        response = await asyncio.wait_for(
            listener.send_action(
                {
                    "Action": "Originate",
                    "Channel": "PJSIP/101",
                    "Context": "internal",
                    "Exten": "+40311234567",
                    "Priority": "1",
                }
            ),
            5,
        )
        assert response.success and "queued" in response.message
        assert seen[0]["async"] == "true"
        await until(lambda: len(calls.ended) == 1, what="outbound call ended", timeout=15)
        (call,) = calls.ended.values()
        assert call.direction == "outbound" and call.remote_number == "+40311234567"
        assert call.rang == ["101"] and call.answered_by == "101" and call.disposition == "answered"
        await listener.stop()


@pytest.mark.parametrize(
    "mode, reason", [("busy", "busy"), ("noanswer", "no answer"), ("error", "refused")]
)
async def test_originate_failures_are_reported(mode, reason):
    calls = Calls()
    async with AmiReplayServer(seed=9, originate_mode=mode, speed=5) as server:
        listener = make_listener(server.port, calls)
        await listener.start()
        await listener.wait_logged_in()
        result = await listener.originate("PJSIP/102", "+40311234567", "internal", timeout=2)
        assert result["ok"] is False and result["reason"] == reason
        if mode != "error":
            await until(lambda: len(calls.ended) == 1, what="failed call ended")
            (call,) = calls.ended.values()
            assert call.rang == ["102"] and call.answered_by is None
        await listener.stop()


async def test_send_action_when_disconnected_is_a_clear_error():
    listener = make_listener(free_port(), Calls())
    with pytest.raises(ConnectionError, match="not connected"):
        listener.send_action({"Action": "Ping"})
