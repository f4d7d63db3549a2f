"""Click-to-call: `POST /api/calls/originate` rings the operator's phone first, then the client.

The app runs its embedded CTI service against the AMI replay server over real TCP; the replay
server answers `Originate` the way Asterisk does (queued, then the call's events).
"""

from __future__ import annotations

import asyncio
import threading
import time

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.conftest import Users, free_port


class ReplayThread:
    """An AMI replay server on its own event loop thread, for a test that is synchronous."""

    def __init__(self, **options) -> None:
        from cti.simulator.server import AmiReplayServer

        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.server = AmiReplayServer(username="crm", secret="secret", **options)
        asyncio.run_coroutine_threadsafe(self.server.start(), self.loop).result(10)
        self.port = self.server.port

    def stop(self) -> None:
        asyncio.run_coroutine_threadsafe(self.server.stop(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)


def _app_with_pbx(monkeypatch, port: int):
    from callcard.app import create_app
    from crm_core import config

    monkeypatch.setenv("CALLCARD_AMI_HOST", "127.0.0.1")
    monkeypatch.setenv("CALLCARD_AMI_PORT", str(port))
    monkeypatch.setenv("CALLCARD_AMI_USERNAME", "crm")
    monkeypatch.setenv("CALLCARD_AMI_SECRET", "secret")
    config.get_settings.cache_clear()
    return create_app()


def _wait_connected(timeout: float = 10) -> None:
    from cti import clicktocall

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        originator = clicktocall.current_originator
        if originator is not None and originator.ami.connected:
            return
        time.sleep(0.05)
    raise AssertionError("the CTI never logged in to the replay server")


@pytest.fixture
def pbx():
    server = ReplayThread(speed=20.0)
    yield server
    server.stop()


@pytest.fixture
def people(sqlite_database):
    from crm_core.clients.models import Client, Phone
    from crm_core.database import session_scope

    users = Users()
    ana = users.add("ana", team="Sales", extension="101")
    users.add("bob", team="Support", extension="102")
    users.add("mia", role="manager", team=None)
    with session_scope() as s:
        mine = Client(
            first_name="Maria",
            display_name="Maria",
            team_id=ana.team_id,
            phones=[Phone(number="021 123 4567", e164="+40211234567")],
        )
        theirs = Client(
            first_name="Other",
            display_name="Other",
            team_id=users.created["bob"].team_id,
            phones=[Phone(number="+40 722 000 111", e164="+40722000111")],
        )
        s.add_all([mine, theirs])
        s.flush()
        ids = {
            "mine": mine.id,
            "mine_phone": mine.phones[0].id,
            "theirs": theirs.id,
            "theirs_phone": theirs.phones[0].id,
        }
    headers = {n: {"Authorization": f"Bearer {users.token(n)}"} for n in ("ana", "bob", "mia")}
    return ids, headers


def test_originate_rings_my_phone_then_the_number_and_the_call_is_logged(people, pbx, monkeypatch):
    from crm_core.database import session_scope
    from cti.calllog.models import Call

    ids, h = people
    with TestClient(_app_with_pbx(monkeypatch, pbx.port)) as client:
        _wait_connected()
        r = client.post(
            "/api/calls/originate",
            json={"client_id": ids["mine"], "phone_id": ids["mine_phone"]},
            headers=h["ana"],
        )
        assert r.status_code == 202, r.text
        body = r.json()
        assert body["status"] == "ringing_operator" and body["extension"] == "101"
        assert body["e164"] == "+40211234567" and body["number"] == "021 123 4567"
        assert "101" in body["message"]
        deadline = time.monotonic() + 10
        call = None
        while call is None and time.monotonic() < deadline:
            with session_scope() as s:
                call = s.scalars(select(Call)).first()
            time.sleep(0.1)
        assert call is not None, "the originated call was never logged"
        assert (call.direction, call.e164, call.client_id) == (
            "outbound",
            "+40211234567",
            ids["mine"],
        )
        assert call.answered_extension == "101" and call.disposition == "answered"


@pytest.mark.parametrize(
    "mode, status, reason",
    [
        ("answer", "connected", "answered"),
        ("busy", "failed", "busy"),
        ("noanswer", "failed", "no answer"),
    ],
)
def test_the_outcome_reaches_the_operators_browser(people, monkeypatch, mode, status, reason):
    from tests.conftest import Users

    _, h = people
    server = ReplayThread(speed=20.0, originate_mode=mode)
    try:
        with TestClient(_app_with_pbx(monkeypatch, server.port)) as client:
            _wait_connected()
            token = Users().token("ana")
            with client.websocket_connect(f"/ws?token={token}") as ws:
                assert ws.receive_json()["type"] == "hello"
                r = client.post(
                    "/api/calls/originate", json={"number": "+40311234567"}, headers=h["ana"]
                )
                assert r.status_code == 202
                while True:
                    message = ws.receive_json()
                    if message["type"] == "call.originate":
                        break
            assert message["action_id"] == r.json()["action_id"]
            assert (message["status"], message["reason"]) == (status, reason), message
            assert (message["call_id"] is not None) == (status == "connected")
            assert "+40311234567" in message["message"]
    finally:
        server.stop()


def test_busy_extension_is_409(people, pbx, monkeypatch):
    ids, h = people
    with TestClient(_app_with_pbx(monkeypatch, pbx.port)) as client:
        _wait_connected()
        first = client.post(
            "/api/calls/originate", json={"number": "+40311234567"}, headers=h["ana"]
        )
        assert first.status_code == 202
        deadline = time.monotonic() + 5
        while True:
            again = client.post(
                "/api/calls/originate", json={"number": "+40311234567"}, headers=h["ana"]
            )
            if again.status_code != 202 or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        assert again.status_code == 409
        assert "101 is busy" in again.json()["detail"]


def test_pbx_refusing_the_originate_is_a_clear_503(people, monkeypatch):
    _, h = people
    server = ReplayThread(originate_mode="error")
    try:
        with TestClient(_app_with_pbx(monkeypatch, server.port)) as client:
            _wait_connected()
            r = client.post(
                "/api/calls/originate", json={"number": "+40311234567"}, headers=h["ana"]
            )
            assert r.status_code == 503
            assert "refused" in r.json()["detail"]
    finally:
        server.stop()


def test_unreachable_pbx_is_503(people, monkeypatch):
    _, h = people
    dead_port = free_port()  # nothing listens there
    with TestClient(_app_with_pbx(monkeypatch, dead_port)) as client:
        r = client.post("/api/calls/originate", json={"number": "+40311234567"}, headers=h["ana"])
        assert r.status_code == 503
        assert "unreachable" in r.json()["detail"]


@pytest.fixture
def client(people):
    """The app without any PBX configured."""
    from callcard.app import create_app

    with TestClient(create_app()) as c:
        yield c


def test_no_pbx_configured_is_503(people, client):
    _, h = people
    r = client.post("/api/calls/originate", json={"number": "+40311234567"}, headers=h["ana"])
    assert r.status_code == 503 and "CALLCARD_AMI_HOST" in r.json()["detail"]


BAD_REQUESTS = [
    ("mia", {"number": "+40311234567"}, 422, "extension"),  # no extension bound to her
    ("ana", {"number": "12"}, 422, "number"),
    ("ana", {"number": "not a phone"}, 422, "number"),
    ("ana", {}, 422, None),
    ("ana", {"client_id": "THEIRS", "phone_id": "THEIRS_PHONE"}, 404, None),  # other team
    ("ana", {"client_id": "MINE", "phone_id": "THEIRS_PHONE"}, 404, None),  # not her phone
    ("ana", {"client_id": "MINE"}, 422, "phone_id"),
]


def test_bad_requests_say_what_is_wrong(people, client):
    ids, h = people
    names = {"THEIRS": ids["theirs"], "THEIRS_PHONE": ids["theirs_phone"], "MINE": ids["mine"]}
    for who, body, status, loc in BAD_REQUESTS:
        sent = {k: names.get(v, v) for k, v in body.items()}
        r = client.post("/api/calls/originate", json=sent, headers=h[who])
        assert r.status_code == status, (who, body, r.text)
        if loc:
            assert r.json()["detail"][0]["loc"][-1] == loc, (who, body, r.text)
