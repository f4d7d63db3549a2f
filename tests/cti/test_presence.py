"""Operator presence: from device/queue events (real PJSIP recordings) and call events, published
as ``operator.state``, kept in memory for the embedded default and in Redis for late web processes."""

from __future__ import annotations

import json

import pytest

from tests.conftest import AMI_TRACES

PJSIP = AMI_TRACES / "pjsip"
REDIS_PRESENCE = "redis://127.0.0.1:6379/10"


def _board(published: list, users: dict[str, tuple[int, str]] | None = None, redis_url=None):
    from cti.presence import PresenceBoard

    users = users or {}
    return PresenceBoard(
        publish=lambda event: published.append(event.to_message()),
        resolve_user=lambda ext: users.get(ext, (None, None)),
        redis_url=redis_url,
    )


def _replay(board, *names: str) -> None:
    from callcard.settings import Settings
    from cti.ami import iter_messages
    from cti.tracker.tracker import CallTracker

    tracker = CallTracker(Settings(), on_event=board.on_call_event, on_presence=board.on_presence)
    for name in names:
        for message in iter_messages((PJSIP / name).read_bytes()):
            if message.get("event"):
                tracker.feed(message)


def test_pjsip_registration_and_a_queue_call_drive_the_states():
    published: list[dict] = []
    board = _board(published, {"101": (7, "ana")})
    _replay(board, "P00-phones-register.ami")
    assert {op["extension"]: op["state"] for op in board.snapshot()} == {
        "101": "available",
        "102": "available",
        "103": "available",
    }
    published.clear()
    _replay(board, "P04-queue-ringall-101-answers.ami")
    states_101 = [m["state"] for m in published if m["extension"] == "101"]
    states_102 = [m["state"] for m in published if m["extension"] == "102"]
    assert states_101 == ["ringing", "in_call", "available"]
    assert states_102 == ["ringing", "available"]
    first = next(m for m in published if m["extension"] == "101")
    assert first["type"] == "operator.state"
    assert first["audience"] == ["wall", "user:7"] and first["username"] == "ana"
    assert first["since"] is not None
    unbound = next(m for m in published if m["extension"] == "102")
    assert unbound["audience"] == ["wall"] and unbound["user_id"] is None


def test_call_events_cover_pbxs_without_device_events():
    from cti.tracker.call import TrackedCall

    published: list[dict] = []
    board = _board(published)
    call = TrackedCall(
        call_id="1", direction="inbound", rang=["101", "102"], answered=["102"], answered_by="102"
    )
    board.on_call_event("ringing", call, "101")
    board.on_call_event("ringing", call, "102")
    board.on_call_event("answered", call, "102")
    board.on_call_event("ring_stopped", call, "101")
    board.on_call_event("ended", call, None)  # the tracker names no extension at the end
    assert [(m["extension"], m["state"]) for m in published] == [
        ("101", "ringing"),
        ("102", "ringing"),
        ("102", "in_call"),
        ("101", "available"),
        ("102", "available"),
    ]


def test_pause_unpause_and_offline():
    published: list[dict] = []
    board = _board(published)
    board.on_presence("101", "available")
    board.on_presence("101", "paused")
    board.on_presence("101", "paused")  # no change, no message
    board.on_presence("101", "offline")
    board.on_presence("101", "available")
    assert [m["state"] for m in published] == ["available", "paused", "offline", "available"]
    since = [m["since"] for m in published]
    assert since == sorted(since) and len(set(since)) == len(since)


@pytest.fixture
def redis10():
    import redis

    r = redis.Redis.from_url(REDIS_PRESENCE)
    try:
        r.ping()
    except Exception as exc:  # pragma: no cover - depends on the machine
        pytest.skip(f"Redis not reachable: {exc}")
    r.flushdb()
    yield r
    r.flushdb()


def test_presence_api_embedded_and_from_redis_for_a_late_web_process(
    client, as_user, redis10, monkeypatch
):
    from crm_core import config
    from cti import presence

    operator = as_user("ana", extension="101")
    manager = as_user("mia", role="manager")
    assert client.get("/api/presence", headers=manager).json() == []

    # embedded: the CTI service of this process keeps the board
    published: list[dict] = []
    board = _board(published, {"101": (1, "ana")}, redis_url=REDIS_PRESENCE)
    monkeypatch.setattr(presence, "current_board", board)
    board.on_presence("101", "available")
    board.on_presence("101", "ringing")
    [state] = client.get("/api/presence", headers=operator).json()
    assert (state["extension"], state["state"], state["username"]) == ("101", "ringing", "ana")

    # production: a web process without the CTI (started late) reads the hash the CTI wrote
    monkeypatch.setattr(presence, "current_board", None)
    monkeypatch.setenv("CALLCARD_BUS_URL", REDIS_PRESENCE)
    config.get_settings.cache_clear()
    assert json.loads(redis10.hget("callcard:presence", "101"))["state"] == "ringing"
    [state] = client.get("/api/presence", headers=manager).json()
    assert (state["extension"], state["state"]) == ("101", "ringing")
    assert client.get("/api/presence").status_code == 401
