"""Caller popups: tracker events -> caller lookup -> the right operator's websocket, no one else's.

The recorded Asterisk transcripts (../shared/ami-traces) are parsed and fed to the real call
tracker; popups travel over the real bus, hub and websocket (uvicorn on a real port).
"""

from __future__ import annotations

import json
import time

import pytest
from websockets.sync.client import connect

from tests.conftest import AMI_TRACES
from tests.factories import make_client

TRACES = AMI_TRACES


class Socket:
    """An operator's browser: a websocket that remembers the call messages it got."""

    def __init__(self, live_server, token: str) -> None:
        self.ws = connect(f"{live_server.ws_url}/ws?token={token}", open_timeout=30)
        hello = json.loads(self.ws.recv(timeout=5))
        assert hello["type"] == "hello"
        self.messages: list[dict] = []

    def collect(self, until: str | None = "call.ended", timeout: float = 5.0) -> list[dict]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                raw = self.ws.recv(timeout=max(deadline - time.monotonic(), 0.01))
            except TimeoutError:
                break
            message = json.loads(raw)
            if message["type"].startswith("call."):
                self.messages.append(message)
                if until and message["type"] == until:
                    break
        return self.messages

    def types(self) -> list[str]:
        return [m["type"] for m in self.messages]

    def close(self) -> None:
        self.ws.close()


def feed_trace(name: str, popups) -> None:
    from callcard.settings import get_settings
    from cti.ami import iter_messages
    from cti.tracker.tracker import CallTracker

    tracker = CallTracker(get_settings(), on_event=popups.on_event)
    for message in iter_messages((TRACES / name).read_bytes()):
        if message.get("event"):
            tracker.feed(message)


def drain(popups) -> None:
    import concurrent.futures

    concurrent.futures.wait(list(popups._pending), timeout=10)


@pytest.fixture
def popups(live_server):
    from crm_core.bus import get_bus
    from cti.popups import CallPopups
    from dashboard.hub import hub

    hub.sticky.clear()  # the hub is process-wide: no popup of an earlier test may be replayed
    p = CallPopups(get_bus())
    yield p
    p.close()


def test_queue_ringall_pops_both_and_dismisses_the_loser(live_server, users, popups):
    users.add("ana", extension="101")
    users.add("bob", extension="102")
    users.add("cid", extension="103")  # not in the queue: must hear nothing
    client_id = make_client("Ivan Petrov", phone="+79161234567")
    ana, bob, cid = (Socket(live_server, users.token(n)) for n in ("ana", "bob", "cid"))
    feed_trace("03-queue-ringall-102-answers.ami", popups)
    ana.collect(), bob.collect(), cid.collect(until=None, timeout=0.5)

    assert ana.types() == ["call.ringing", "call.answered", "call.dismissed", "call.ended"]
    assert bob.types() == ["call.ringing", "call.answered", "call.ended"]
    assert cid.types() == []
    ringing = ana.messages[0]
    assert ringing["extension"] == "101" and ringing["queue"] == "support"
    assert ringing["known"] is True and ringing["card"]["client_id"] == client_id
    assert ringing["card"]["display_name"] == "Ivan Petrov"
    assert ringing["e164"] == "+79161234567" and ringing["withheld"] is False
    assert ringing["name"] == "Ivan Petrov"
    assert bob.messages[0]["extension"] == "102"
    call_id = ringing["call_id"]
    assert {m["call_id"] for m in ana.messages + bob.messages} == {call_id}
    assert ana.messages[1]["by_me"] is False and ana.messages[1]["extension"] == "102"
    assert bob.messages[1]["by_me"] is True
    assert ana.messages[2]["reason"] == "answered_elsewhere"
    ended = bob.messages[-1]
    assert ended["disposition"] == "answered" and ended["client_id"] == client_id
    assert isinstance(ended["talk_s"], float)  # fed without the recorded pacing: near 0 here
    for sock in (ana, bob, cid):
        sock.close()


def test_unknown_number_missed_direct_call(live_server, users, popups):
    from sqlalchemy import select

    from crm_core.database import session_scope
    from crm_core.tasks.models import Task
    from cti.calllog.models import Call

    bob = users.add("bob", extension="102")
    sock = Socket(live_server, users.token("bob"))
    feed_trace("02-direct-missed.ami", popups)
    sock.collect()
    assert sock.types() == ["call.ringing", "call.dismissed", "call.ended"]
    ringing = sock.messages[0]
    assert ringing["card"] is None and ringing["known"] is False
    assert ringing["number"] == "0721234567" and ringing["e164"] == "+40721234567"
    assert sock.messages[1]["reason"] == "ring_stopped"
    assert sock.messages[2]["disposition"] == "missed" and sock.messages[2]["client_id"] is None
    drain(popups)
    with session_scope() as s:
        call = s.scalars(select(Call)).one()
        assert (call.disposition, call.client_id, call.rang) == ("missed", None, ["102"])
        task = s.scalars(select(Task)).one()
        assert (task.source, task.call_id, task.team_id) == (
            "missed_call",
            call.linkedid,
            bob.team_id,
        )
    sock.close()


def test_reconnecting_browser_gets_the_call_still_ringing(live_server, users, popups):
    from callcard.settings import get_settings
    from cti.ami import iter_messages
    from cti.tracker.tracker import CallTracker

    users.add("ana", extension="101")
    tracker = CallTracker(get_settings(), on_event=popups.on_event)
    messages = [m for m in iter_messages((TRACES / "01-direct-answered.ami").read_bytes())]
    events = [m for m in messages if m.get("event")]
    # feed until 101 rings, with no browser open
    fed = 0
    while not any(c.ringing for c in tracker.calls.values()):
        tracker.feed(events[fed])
        fed += 1
    sock = Socket(live_server, users.token("ana"))
    sock.collect(until="call.ringing", timeout=3)
    assert sock.types() == ["call.ringing"]  # replayed on connect
    for event in events[fed:]:
        tracker.feed(event)
    sock.collect()
    assert sock.types() == ["call.ringing", "call.answered", "call.ended"]
    sock.close()
    # after the end nothing is replayed
    again = Socket(live_server, users.token("ana"))
    assert again.collect(until=None, timeout=0.5) == []
    again.close()


def test_blind_transfer_moves_the_popup(live_server, users, popups):
    users.add("ana", extension="101")
    users.add("dan", extension="103")
    ana, dan = Socket(live_server, users.token("ana")), Socket(live_server, users.token("dan"))
    feed_trace("07-blind-transfer-101-to-103.ami", popups)
    ana.collect(), dan.collect()
    assert ana.types() == [
        "call.ringing",
        "call.answered",
        "call.transferred",
        "call.dismissed",
        "call.ended",
    ]
    assert ana.messages[3]["reason"] == "transferred_away"
    assert dan.types() == ["call.transferred", "call.ringing", "call.answered", "call.ended"]
    assert dan.messages[0]["from_extension"] == "101" and dan.messages[0]["to_extension"] == "103"
    assert dan.messages[2]["by_me"] is True
    ana.close(), dan.close()


def test_click_to_call_outbound_pops_nothing_but_is_logged(live_server, users, popups):
    from sqlalchemy import select

    from crm_core.database import session_scope
    from cti.calllog.models import Call

    users.add("ana", extension="101")
    sock = Socket(live_server, users.token("ana"))
    feed_trace("08-click-to-call-outbound.ami", popups)
    assert sock.collect(until=None, timeout=0.5) == []
    drain(popups)
    with session_scope() as s:
        call = s.scalars(select(Call)).one()
    assert (call.direction, call.e164, call.disposition) == ("outbound", "+40311234567", "answered")
    sock.close()


def test_demo_simulator_pops_calls_within_seconds(sqlite_database, monkeypatch):
    """CALLCARD_SIMULATOR=true: the web process starts an AMI replay server making up calls from
    the client base to the bound extensions, and its own listener pops them up."""
    from callcard.app import create_app
    from crm_core import config
    from tests.conftest import LiveServer, Users, free_port

    users = Users()
    users.add("ana", extension="101")
    users.add("bob", extension="102")
    make_client("Maria", phone="+40721234567")
    monkeypatch.setenv("CALLCARD_SIMULATOR", "true")
    config.get_settings.cache_clear()
    server = LiveServer(create_app(), free_port())
    server.start()
    try:
        sockets = [Socket(server, users.token(n)) for n in ("ana", "bob")]
        deadline = time.monotonic() + 20
        ringing = []
        while not ringing and time.monotonic() < deadline:
            for sock in sockets:
                sock.collect(until="call.ringing", timeout=0.5)
                ringing += [m for m in sock.messages if m["type"] == "call.ringing"]
        assert ringing, "no simulated call within 20 s"
        assert ringing[0]["extension"] in ("101", "102")
        for sock in sockets:
            sock.close()
    finally:
        server.stop()
        from dashboard.hub import hub

        hub.sticky.clear()  # calls cut off mid-ring by the shutdown stay sticky otherwise
