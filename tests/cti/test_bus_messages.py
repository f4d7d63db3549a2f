"""The bus messages the CTI sends: typed on the way out, the same dict on the wire, parsed back."""

from __future__ import annotations

from crm_core.events import (
    EVENT_CLASSES,
    CallDismissed,
    CallEnded,
    CallRinging,
    OperatorState,
    WallCall,
    parse_event,
    user_audience,
)

RINGING = CallRinging(
    audience=user_audience(5),
    call_id="1700000000.1",
    extension="101",
    direction="inbound",
    number="0722000111",
    e164="+40722000111",
    withheld=False,
    name=None,
    did=None,
    queue="sales",
    started_at="2026-03-10T10:00:00+00:00",
    card=None,
)


def test_call_ringing_keeps_its_wire_shape_and_nulls():
    message = RINGING.to_message()
    assert list(message) == [
        "type",
        "audience",
        "sticky",
        "call_id",
        "extension",
        "direction",
        "number",
        "e164",
        "withheld",
        "name",
        "did",
        "queue",
        "started_at",
        "card",
        "known",
    ]
    assert message["audience"] == ["user:5"] and message["sticky"] == "call:1700000000.1"
    assert message["name"] is None and message["known"] is False
    assert parse_event(message) == RINGING


def test_final_messages_close_the_sticky_popup():
    for event in (
        CallDismissed(audience=user_audience(5), call_id="L1", reason="ring_stopped"),
        CallEnded(
            audience=user_audience(5), call_id="L1", disposition="missed", talk_s=0, client_id=None
        ),
    ):
        message = event.to_message()
        assert message["final"] is True and message["sticky"] == "call:L1"
        assert parse_event(message) == event


def test_audience_follows_from_the_fields_where_it_is_fixed():
    assert WallCall(call_id="L1", phase="ringing").to_message()["audience"] == ["wall"]
    bound = OperatorState(extension="101", state="available", user_id=7, username="ana")
    assert bound.to_message()["audience"] == ["wall", "user:7"]
    unbound = OperatorState(extension="102", state="offline")
    assert unbound.to_message()["audience"] == ["wall"]
    assert parse_event(bound.to_message()) == bound


def test_every_type_is_declared_once_and_unknown_types_parse_to_none():
    assert len(EVENT_CLASSES) == 14
    assert all(cls.type == name for name, cls in EVENT_CLASSES.items())
    assert parse_event({"type": "hello"}) is None
