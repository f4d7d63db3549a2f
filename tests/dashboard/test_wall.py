"""The wall: counters fed by real bus events over a real websocket, rebuilt from the database,
opened with a read-only token."""

from __future__ import annotations

import json
import time

import pytest
from websockets.sync.client import connect

from tests.conftest import AMI_TRACES
from tests.cti.test_popups import drain, feed_trace

TRACES = AMI_TRACES


@pytest.fixture
def database(sqlite_database):
    """Websockets and tokens are the subject here: SQLite only (the rebuild from the database
    runs on both backends in test_wall_rebuild.py)."""
    return sqlite_database


class WallScreen:
    """A TV showing /wall: a websocket that keeps the newest ``wall.counters`` snapshot."""

    def __init__(self, live_server, token: str) -> None:
        self.ws = connect(f"{live_server.ws_url}/ws?token={token}", open_timeout=30)
        assert json.loads(self.ws.recv(timeout=5))["type"] == "hello"
        self.latest: dict | None = None

    def wait_for(self, check, timeout: float = 5.0) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.latest is not None and check(self.latest):
                return self.latest
            try:
                raw = self.ws.recv(timeout=max(deadline - time.monotonic(), 0.01))
            except TimeoutError:
                break
            message = json.loads(raw)
            if message["type"] == "wall.counters":
                self.latest = message
        raise AssertionError(f"wall never showed the expected figures; last: {self.latest}")

    def close(self) -> None:
        self.ws.close()


def wall_token(label: str = "TV") -> str:
    from crm_core.auth.principal import SYSTEM
    from crm_core.database import session_scope
    from dashboard.wall.tokens import create_wall_token

    with session_scope() as db:
        return create_wall_token(db, SYSTEM, label=label).token


def publish(message: dict) -> None:
    from crm_core.bus import get_bus

    get_bus().publish_sync(message)


def test_wall_follows_replayed_queue_calls_live(live_server, users):
    """Recorded Asterisk calls go through the real tracker and popups; the wall counts them."""
    from crm_core.bus import get_bus
    from cti.popups import CallPopups

    users.add("ana", extension="101")
    users.add("bob", extension="102")
    screen = WallScreen(live_server, wall_token())
    popups = CallPopups(get_bus())
    try:
        feed_trace("03-queue-ringall-102-answers.ami", popups)
        snap = screen.wait_for(lambda s: s["today"]["inbound_answered"] == 1)
        assert snap["now"]["in_progress"] == 0 and snap["now"]["waiting"] == 0
        bob = next(op for op in snap["operators"] if op["extension"] == "102")
        assert bob["calls_today"] == 1 and bob["avg_talk_s"] is not None
        feed_trace("04-queue-abandoned.ami", popups)
        snap = screen.wait_for(lambda s: s["today"]["inbound_abandoned"] == 1)
        assert snap["today"]["inbound_answered"] == 1
        assert snap["today"]["offered"] == 2
        assert snap["today"]["service_level"] in (0.5, 0.0)
        drain(popups)
    finally:
        popups.close()
        screen.close()


def test_ringing_and_waiting_show_while_the_call_lasts(live_server, users):
    screen = WallScreen(live_server, wall_token())
    try:
        base = {"type": "wall.call", "audience": ["wall"], "direction": "inbound", "queue": "sales"}
        publish({**base, "call_id": "L1", "phase": "ringing", "extensions": ["101"]})
        snap = screen.wait_for(lambda s: s["now"]["ringing"] == 1)
        assert snap["now"]["queues"][0]["queue"] == "sales"
        assert snap["now"]["longest_since"] is not None
        publish({**base, "call_id": "L1", "phase": "answered", "answered_by": "101"})
        screen.wait_for(lambda s: s["now"]["ringing"] == 0 and s["now"]["in_progress"] == 1)
        publish(
            {
                **base,
                "call_id": "L1",
                "phase": "ended",
                "disposition": "answered",
                "answered_by": "101",
                "wait_s": 4,
                "talk_s": 33,
            }
        )
        snap = screen.wait_for(lambda s: s["now"]["in_progress"] == 0)
        assert snap["today"]["avg_talk_s"] == 33
    finally:
        screen.close()


def test_operator_pages_do_not_receive_wall_counters(live_server, users):
    users.add("ana", extension="101")
    operator = connect(f"{live_server.ws_url}/ws?token={users.token('ana')}", open_timeout=30)
    try:
        assert json.loads(operator.recv(timeout=5))["type"] == "hello"
        publish(
            {
                "type": "wall.call",
                "audience": ["wall"],
                "call_id": "Z",
                "phase": "ringing",
                "direction": "inbound",
                "queue": "",
            }
        )
        with pytest.raises(TimeoutError):
            while True:
                message = json.loads(operator.recv(timeout=1))
                assert message["type"] != "wall.counters"
    finally:
        operator.close()


def test_wall_tokens_open_the_wall_read_only(client, as_user, users):
    admin = as_user("root", role="admin")
    operator = as_user("ana", role="operator")
    assert (
        client.post("/api/wall/tokens", json={"label": "TV"}, headers=operator).status_code == 403
    )
    bad = client.post("/api/wall/tokens", json={"label": "", "days": 0}, headers=admin)
    assert bad.status_code == 422
    assert {tuple(e["loc"]) for e in bad.json()["detail"]} >= {("body", "label"), ("body", "days")}
    created = client.post("/api/wall/tokens", json={"label": "TV room", "days": 30}, headers=admin)
    assert created.status_code == 201, created.text
    token = created.json()["token"]
    assert created.json()["url"].endswith(f"/wall?token={token}")
    client.cookies.clear()
    page = client.get(f"/wall?token={token}&lang=ro")
    assert page.status_code == 200
    assert "Nivel de serviciu" in page.text and 'lang="ro"' in page.text
    assert client.get(f"/wall?token={token}x").status_code == 401
    # a wall token is read-only: it opens no API
    assert (
        client.get("/api/clients", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    )
    listed = client.get("/api/wall/tokens", headers=admin).json()
    assert [t["label"] for t in listed] == ["TV room"] and listed[0]["token"] is None
    assert client.delete(f"/api/wall/tokens/{listed[0]['id']}", headers=admin).status_code == 204
    assert client.get(f"/wall?token={token}").status_code == 401


def test_wall_page_needs_a_manager_or_a_token(client, users):
    from tests.dashboard.test_dashboard_pages import sign_in

    users.add("ana")
    sign_in(client, "ana")
    assert client.get("/wall").status_code == 403
    client.cookies.clear()
    users.add("boss", role="manager")
    sign_in(client, "boss")
    page = client.get("/wall")
    assert page.status_code == 200 and "Service level (20 s)" in page.text


def test_wall_token_command_prints_a_working_link(database, users):
    from typer.testing import CliRunner

    from callcard.cli import app
    from crm_core.auth.service import resolve_token
    from crm_core.database import session_scope

    result = CliRunner().invoke(app, ["wall-token", "--label", "Hall TV", "--days", "10"])
    assert result.exit_code == 0, result.output
    token = result.output.split("token=")[1].split()[0]
    with session_scope() as db:
        viewer = resolve_token(db, token, ("wall",))
    assert viewer is not None and viewer.role == "wall"
    bad = CliRunner().invoke(app, ["wall-token", "--label", "x", "--days", "0"])
    assert bad.exit_code == 2 and "days" in bad.output
