"""The websocket hub: who receives what, and what a reconnecting browser gets again."""

from __future__ import annotations

import json

from crm_core.auth.principal import Principal
from dashboard import hub as hub_module
from dashboard.hub import Connection, Hub

ANA = Principal(id=1, username="ana", role="operator", team_id=3)
BOB = Principal(id=2, username="bob", role="operator", team_id=3)


def received(conn: Connection) -> list[dict]:
    out = []
    while not conn.queue.empty():
        out.append(json.loads(conn.queue.get_nowait()))
    return out


def ringing(call_id: str, user_id: int = 1) -> dict:
    return {
        "type": "call.ringing",
        "call_id": call_id,
        "audience": [f"user:{user_id}"],
        "sticky": f"call:{call_id}",
    }


def test_message_reaches_only_its_audience_without_routing_keys():
    hub = Hub()
    ana, bob = Connection(None, ANA), Connection(None, BOB)
    hub.add(ana)
    hub.add(bob)
    hub.dispatch(ringing("c1"))
    assert received(ana) == [{"type": "call.ringing", "call_id": "c1"}]
    assert received(bob) == []


def test_reconnecting_browser_gets_calls_still_ringing_but_not_ended_ones():
    hub = Hub()
    hub.dispatch(ringing("c1"))
    hub.dispatch(ringing("c2"))
    hub.dispatch(
        {
            "type": "call.ended",
            "call_id": "c2",
            "audience": ["user:1"],
            "sticky": "call:c2",
            "final": True,
        }
    )
    again = Connection(None, ANA)
    hub.add(again)
    assert [m["call_id"] for m in received(again)] == ["c1"]


def test_sticky_popup_whose_end_never_came_expires(monkeypatch):
    hub = Hub()
    hub.dispatch(ringing("lost"))
    monkeypatch.setattr(hub_module, "STICKY_TTL", -1.0)
    again = Connection(None, ANA)
    hub.add(again)
    assert received(again) == []
    assert hub.sticky["user:1"] == {}
