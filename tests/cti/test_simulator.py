"""The call simulator tells the truth: one answered call per phone at a time, as on a PBX.

The demo's own call stream runs at high speed over real TCP into the real listener and tracker;
what the tracker reports is checked per extension: a phone in a call answers busy, a queue rings
its free members only, and click-to-call to a phone in a call is refused busy.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict

from cti.listener import AmiListener
from cti.simulator.calls import CallFactory, SyntheticConfig
from cti.simulator.phones import IN_CALL, Phones
from cti.simulator.server import AmiReplayServer
from tests.cti.ami_harness import ami_settings

DEMO_CALLS = 100


class PhoneLog:
    """Tracker callbacks, checked per extension as they come."""

    def __init__(self) -> None:
        self.talking: dict[str, set[str]] = defaultdict(set)  # extension -> calls answered on it
        self.overlaps: list[tuple[str, str, set[str]]] = []  # extension, call, calls already on it
        self.offered_busy: dict[str, set[str]] = defaultdict(set)  # call -> busy phones rung
        self.ended: dict = {}

    def __call__(self, kind: str, call, ext: str | None) -> None:
        if kind == "ringing" and ext and self.talking[ext] - {call.call_id}:
            self.offered_busy[call.call_id].add(ext)
        elif kind == "answered" and ext:
            if self.talking[ext] - {call.call_id}:
                self.overlaps.append((ext, call.call_id, set(self.talking[ext])))
            self.talking[ext].add(call.call_id)
        elif kind == "ended":
            self.ended[call.call_id] = call
            for calls in self.talking.values():
                calls.discard(call.call_id)


async def _until(predicate, timeout: float, what: str) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        assert loop.time() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.02)


async def test_the_demo_stream_never_puts_two_answered_calls_on_one_phone():
    phones = PhoneLog()
    config = SyntheticConfig(extensions=["101", "102", "103"], queue_members=["101", "102"])
    server = AmiReplayServer(
        seed=11, speed=100, synthetic_rate=20, synthetic_calls=DEMO_CALLS, synthetic=config
    )
    async with server:
        listener = AmiListener(ami_settings(server.port), on_event=phones, reconnect_min=0.1)
        await listener.start()
        try:
            await asyncio.wait_for(server.finished.wait(), 60)
            await _until(lambda: len(phones.ended) >= DEMO_CALLS, 10, "every call ended")
        finally:
            await listener.stop()
    calls = phones.ended.values()
    answered = [c for c in calls if c.disposition == "answered"]
    assert len(phones.ended) == DEMO_CALLS and len(answered) >= 20
    assert phones.overlaps == []
    # the stream is busy enough that callers did reach phones in a call ...
    assert len(phones.offered_busy) >= 5
    for call_id, busy in phones.offered_busy.items():
        call = phones.ended[call_id]
        # ... and those calls end busy: a queue never rings a member in a call
        assert call.queue is None, (call.summary(), busy)
        assert call.disposition == "busy" and call.answered_by is None, call.summary()
    # a phone in a call answers busy: Dial ends BUSY, the phone's leg hangs up with cause 17
    assert sum(c.disposition == "busy" for c in calls) >= len(phones.offered_busy)


async def test_made_up_calls_to_a_phone_in_a_call_ring_busy_or_skip_it(monkeypatch):
    phones = PhoneLog()
    async with AmiReplayServer(seed=12, speed=20) as server:
        listener = AmiListener(ami_settings(server.port), on_event=phones, reconnect_min=0.1)
        await listener.start()
        try:
            await listener.wait_logged_in()
            talking = server.start_call("direct_answered", extension="101", ring_s=0.2, talk_s=60)
            await _until(lambda: server.phones.state("101") == IN_CALL, 5, "101 in a call")
            factory = server.factory
            monkeypatch.setattr(factory, "pick_kind", lambda: "queue_answered")
            queued = server.start_call()  # made up: the phones decide who rings
            monkeypatch.setattr(factory, "pick_kind", lambda: "direct_answered")
            monkeypatch.setattr(factory, "pick_extension", lambda: "101")
            direct = server.start_call()
            await _until(lambda: {queued, direct} <= set(phones.ended), 10, "both calls ended")
        finally:
            await listener.stop()
    assert talking not in phones.ended and phones.overlaps == []
    queue_call, direct_call = phones.ended[queued], phones.ended[direct]
    assert queue_call.rang == ["102"] and queue_call.answered_by == "102"
    assert queue_call.disposition == "answered"
    assert direct_call.rang == ["101"] and direct_call.answered_by is None
    assert direct_call.disposition == "busy"


def test_a_queue_call_without_a_free_member_waits_and_is_abandoned():
    from callcard.settings import Settings
    from cti.tracker.tracker import CallTracker

    factory = CallFactory(SyntheticConfig(unknown_share=0, withheld_share=0), seed=5)
    _lid, timeline = factory.make("queue_answered", members=[])
    ended = []
    tracker = CallTracker(
        Settings(), on_event=lambda k, c, e: ended.append(c) if k == "ended" else None
    )
    for _t, fields in sorted(timeline, key=lambda p: p[0]):
        tracker.feed(fields)
    (call,) = ended
    assert call.disposition == "abandoned" and call.rang == [] and call.queue == "support"


def test_a_phone_is_taken_from_ringing_until_its_leg_hangs_up():
    phones = Phones()
    factory = CallFactory(seed=6)
    lid, timeline = factory.make("direct_answered", extension="101", ring_s=1, talk_s=1)
    phones.take(lid, timeline)
    assert phones.free(["101", "102"]) == ["102"] and phones.state("101") == "ringing"
    for _t, fields in sorted(timeline, key=lambda p: p[0]):
        phones.follow(fields)
        if fields.get("Event") == "BridgeEnter":
            assert phones.state("101") == IN_CALL and phones.device_status("101") == "2"
    assert phones.is_free("101") and phones.device_status("101") == "1"


async def test_click_to_call_to_a_phone_in_a_call_is_refused_busy():
    ended: dict = {}

    def on_event(kind, call, ext):
        if kind == "ended":
            ended[call.call_id] = call

    async with AmiReplayServer(seed=13, speed=5) as server:
        listener = AmiListener(ami_settings(server.port), on_event=on_event, reconnect_min=0.1)
        await listener.start()
        try:
            await listener.wait_logged_in()
            talking = server.start_call("direct_answered", extension="101", ring_s=0.5, talk_s=60)
            await _until(lambda: server.phones.state("101") == IN_CALL, 5, "101 in a call")
            refused = await listener.originate("PJSIP/101", "+40311234567", "internal", timeout=2)
            assert refused["ok"] is False and refused["reason"] == "busy", refused
            connected = await listener.originate("PJSIP/102", "+40311234567", "internal", timeout=2)
            assert connected["ok"] is True and connected["reason"] == "answered", connected
            await _until(lambda: len(ended) >= 1, 5, "the refused call ended")
            (call,) = ended.values()
            assert call.call_id != talking and call.rang == ["101"] and call.answered_by is None
            assert server.phones.state("101") == IN_CALL  # the call in progress goes on
        finally:
            await listener.stop()
