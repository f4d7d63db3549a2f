"""Production shape: two web processes, `callcard cti` as its own process, Redis between them.

Everything is a real process on 127.0.0.1: an AMI replay server playing recorded calls, two
uvicorn web processes and two `callcard cti` processes sharing one SQLite file and Redis DB 9.
An operator connected to web process B gets the popup of a call the listener sees; only one
listener holds the PBX at a time and the second takes over when the first is killed; presence and
click-to-call cross the process boundary too.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from websockets.sync.client import connect

from tests.conftest import AMI_TRACES, ROOT, Users, free_port

REDIS_DB_URL = "redis://127.0.0.1:6379/9"
TRACES = AMI_TRACES
CLI = "from callcard.cli import app; app()"


def _wait_port(port: int, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise AssertionError(f"nothing listens on {port}")


class Processes:
    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.procs: dict[str, subprocess.Popen] = {}

    def start(self, name: str, args: list[str], env: dict[str, str]) -> subprocess.Popen:
        out = open(self.tmp / f"{name}.log", "wb")  # noqa: SIM115 - closed with the process
        proc = subprocess.Popen(
            [sys.executable, *args], env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT
        )
        self.procs[name] = proc
        return proc

    def log(self, name: str) -> str:
        return (self.tmp / f"{name}.log").read_text(errors="replace")[-3000:]

    def stop_all(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.procs.values():
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)


@pytest.fixture
def redis9(redis_url):
    import redis

    r = redis.Redis.from_url(REDIS_DB_URL)
    r.flushdb()
    yield r
    r.flushdb()
    r.close()


@pytest.fixture
def procs(tmp_path):
    p = Processes(tmp_path)
    yield p
    p.stop_all()


def _env(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "CALLCARD_BUS_URL": REDIS_DB_URL,
            "CALLCARD_AMI_HOST": "",
            "CALLCARD_SIMULATOR": "false",
            "CALLCARD_ORIGINATE_FORWARD_TIMEOUT": "2",
            "PYTHONUNBUFFERED": "1",
        }
    )
    env.update(extra)
    return env


def _messages(ws, until: str, timeout: float = 20, call_id: str | None = None) -> list[dict]:
    got = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            message = json.loads(ws.recv(timeout=max(deadline - time.monotonic(), 0.01)))
        except TimeoutError:
            break
        if message["type"].startswith("call.") and call_id in (None, message.get("call_id")):
            got.append(message)
            if message["type"] == until:
                return got
    raise AssertionError(f"no {until} within {timeout}s; got {got}")


def _drain(ws, quiet: float) -> list[dict]:
    """The call messages that arrive until the socket stays quiet for ``quiet`` seconds."""
    got = []
    while True:
        try:
            message = json.loads(ws.recv(timeout=quiet))
        except TimeoutError:
            return got
        if message["type"].startswith("call."):
            got.append(message)


def _holder(redis9, port: int) -> str | None:
    value = redis9.get(f"callcard:cti:lock:127.0.0.1:{port}")
    return value.decode() if value else None


def test_popup_crosses_processes_and_the_listener_fails_over(
    sqlite_database, redis9, procs, tmp_path
):
    from crm_core.clients.models import Client, Phone
    from crm_core.database import session_scope

    users = Users()
    ana = users.add("ana", extension="101")
    users.add("bob", extension="102")
    users.add("mia", role="manager")
    with session_scope() as s:
        s.add(
            Client(
                first_name="Maria",
                display_name="Maria Ionescu",
                team_id=ana.team_id,
                phones=[Phone(number="+40 721 234 567", e164="+40721234567")],
            )
        )
    headers = {n: {"Authorization": f"Bearer {users.token(n)}"} for n in ("ana", "bob", "mia")}

    ami_port, web_a, web_b = free_port(), free_port(), free_port()
    procs.start(
        "replay",
        ["-c", CLI, "ami-replay", str(TRACES / "01-direct-answered.ami"), "--loop",
         "--port", str(ami_port), "--speed", "3", "--username", "crm", "--secret", "secret"],
        _env(),
    )  # fmt: skip
    for name, port in (("web_a", web_a), ("web_b", web_b)):
        procs.start(
            name,
            ["-m", "uvicorn", "callcard.app:create_app", "--factory", "--host", "127.0.0.1",
             "--port", str(port), "--log-level", "warning"],
            _env(),
        )  # fmt: skip
    for port in (ami_port, web_a, web_b):
        _wait_port(port)

    ana_ws = connect(f"ws://127.0.0.1:{web_b}/ws?token={users.token('ana')}")
    bob_ws = connect(f"ws://127.0.0.1:{web_a}/ws?token={users.token('bob')}")
    assert json.loads(ana_ws.recv(timeout=5))["type"] == "hello"
    assert json.loads(bob_ws.recv(timeout=5))["type"] == "hello"

    # no CTI process yet: click-to-call says so clearly instead of hanging
    r = httpx.post(
        f"http://127.0.0.1:{web_b}/api/calls/originate",
        json={"number": "+40311234567"},
        headers=headers["ana"],
        timeout=10,
    )
    assert r.status_code == 503 and "CTI process" in r.json()["detail"]

    cti_env = _env(
        CALLCARD_AMI_HOST="127.0.0.1",
        CALLCARD_AMI_PORT=str(ami_port),
        CALLCARD_AMI_USERNAME="crm",
        CALLCARD_AMI_SECRET="secret",
        CALLCARD_CTI_LOCK_TTL="2",
    )
    first = procs.start("cti1", ["-c", CLI, "cti"], cti_env)
    # the call recorded in 01 reaches ana, connected to the *other* web process
    ana_msgs = _messages(ana_ws, until="call.ended", timeout=30)
    assert [m["type"] for m in ana_msgs] == ["call.ringing", "call.answered", "call.ended"], (
        procs.log("cti1")
    )
    ringing = ana_msgs[0]
    assert ringing["known"] is True and ringing["card"]["display_name"] == "Maria Ionescu"
    assert ringing["extension"] == "101" and ringing["e164"] == "+40721234567"
    assert str(first.pid) in (_holder(redis9, ami_port) or "")

    # presence reached web process A (which has no CTI) through the Redis hash
    presence = httpx.get(f"http://127.0.0.1:{web_a}/api/presence", headers=headers["mia"]).json()
    assert "101" in {p["extension"] for p in presence}

    # click-to-call from web process B is forwarded to the CTI process and queued on the PBX
    r = httpx.post(
        f"http://127.0.0.1:{web_b}/api/calls/originate",
        json={"number": "0311 234 567"},
        headers=headers["ana"],
        timeout=10,
    )
    assert r.status_code == 202, r.text
    assert r.json()["status"] == "ringing_operator" and r.json()["e164"] == "+40311234567"
    no_ext = httpx.post(
        f"http://127.0.0.1:{web_b}/api/calls/originate",
        json={"number": "+40311234567"},
        headers=headers["mia"],
    )
    assert no_ext.status_code == 422 and no_ext.json()["detail"][0]["loc"][-1] == "extension"

    # a second listener waits while the first holds the lock ...
    second = procs.start("cti2", ["-c", CLI, "cti"], cti_env)
    time.sleep(2.5)
    assert str(first.pid) in (_holder(redis9, ami_port) or ""), procs.log("cti2")
    # ... and takes over when the first dies without a word
    first.kill()
    first.wait(5)
    deadline = time.monotonic() + 10
    while str(second.pid) not in (_holder(redis9, ami_port) or ""):
        assert time.monotonic() < deadline, procs.log("cti2")
        time.sleep(0.1)
    seen = {ringing["call_id"]}
    seen |= {m.get("call_id") for m in _drain(ana_ws, quiet=0.5)}
    # the recording plays again (as a new call) for the new listener; ana still gets it
    after = _messages(ana_ws, until="call.ringing", timeout=30)
    fresh = after[-1]
    assert fresh["call_id"] not in seen, procs.log("cti2")
    rest = _messages(ana_ws, until="call.ended", timeout=30, call_id=fresh["call_id"])
    assert [m["type"] for m in rest] == ["call.answered", "call.ended"]
    # bob's phone never rang: he heard nothing of ana's calls
    assert _drain(bob_ws, quiet=0.3) == []

    # calls logged once each, visible from either web process
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        page = httpx.get(f"http://127.0.0.1:{web_a}/api/calls", headers=headers["mia"]).json()
        if page["total"] >= 2:
            break
        time.sleep(0.2)
    linkedids = [c["linkedid"] for c in page["items"]]
    assert ringing["call_id"] in linkedids and fresh["call_id"] in linkedids
    assert len(linkedids) == len(set(linkedids))
    ana_ws.close()
    bob_ws.close()


async def test_lock_is_exclusive_expires_and_tells_a_holder_that_lost_it(redis9):
    import asyncio

    from cti.lock import RedisLock

    first = RedisLock(REDIS_DB_URL, "callcard:cti:lock:test", ttl=0.6, poll=0.05)
    second = RedisLock(REDIS_DB_URL, "callcard:cti:lock:test", ttl=0.6, poll=0.05)
    await first.acquire()
    assert not await second.try_acquire()
    await asyncio.sleep(1.0)  # longer than the expiry: the holder keeps it fresh
    assert await second.holder() == first.token
    # the second waits, and gets it as soon as the first lets go
    waiting = asyncio.create_task(second.acquire())
    await asyncio.sleep(0.2)
    assert not waiting.done()
    await first.release()
    await asyncio.wait_for(waiting, 2)
    assert await first.holder() == second.token
    await first.release()  # releasing a lock one does not hold leaves it alone
    assert await first.holder() == second.token
    # a holder whose key vanished (Redis flushed, taken over after a long pause) is told
    redis9.delete("callcard:cti:lock:test")
    redis9.set("callcard:cti:lock:test", "someone-else")
    await asyncio.wait_for(second.lost.wait(), 2)
    await first.close()
    await second.close()
